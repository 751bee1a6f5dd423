// Playbooks: the call form shows the talk track of each ticked objection and the guiding questions for the chosen
// persona; the template choice reloads the form; next-step texts copy to the clipboard.
(function () {
  "use strict";

  function syncObjections() {
    var anyTicked = false;
    document.querySelectorAll("[data-objection-toggle]").forEach(function (box) {
      var key = box.getAttribute("data-objection-toggle");
      var track = document.querySelector('[data-talk-track="' + key + '"]');
      var detail = document.querySelector('[data-objection-detail="' + key + '"]');
      if (track) track.hidden = !box.checked;
      if (detail) detail.hidden = !box.checked;
      anyTicked = anyTicked || box.checked;
    });
    var empty = document.querySelector("[data-tracks-empty]");
    if (empty) empty.hidden = anyTicked;
  }

  function syncPersona() {
    var select = document.getElementById("persona");
    if (!select) return;
    document.querySelectorAll(".guiding-questions").forEach(function (block) {
      block.hidden = block.getAttribute("data-persona") !== select.value;
    });
  }

  function syncNextStep() {
    var chosen = document.querySelector('input[name="next_step"]:checked');
    var value = chosen ? chosen.value : "";
    document.querySelectorAll("[data-next-step-when]").forEach(function (block) {
      var when = block.getAttribute("data-next-step-when");
      block.hidden = value === "" ? when === "none" : (when === "none") !== (value === "none");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    syncObjections();
    syncPersona();
    syncNextStep();
    document.addEventListener("change", function (event) {
      var target = event.target;
      if (target.matches("[data-objection-toggle]")) syncObjections();
      if (target.id === "persona") syncPersona();
      if (target.name === "next_step") syncNextStep();
      if (target.matches("[data-autosubmit]")) target.form.submit();
    });
    document.addEventListener("click", function (event) {
      var button = event.target.closest("[data-copy]");
      if (!button) return;
      var source = document.getElementById(button.getAttribute("data-copy"));
      if (!source) return;
      var done = function () { button.textContent = "Copied"; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(source.value).then(done);
      } else {
        source.select();
        document.execCommand("copy");
        done();
      }
    });
  });
})();
