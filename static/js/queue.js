/* LeadOps: keyboard shortcuts and live SLA countdowns for the lead queue (/work/queue/), and the same keys on a lead
   page's actions panel (a accept, r reject, l log a call, c claim, ? help).

   The page says what each key may do: a queue row carries data-accept-url, data-reject-url, data-activity-url,
   data-open-url (or data-*-refusal, the reason in words, shown instead); the lead page's panel has buttons with
   data-action. Keys never fire while typing in a field, with Ctrl / Alt / Cmd held, or while a dialog is open. */
(function () {
  "use strict";

  var FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), ' +
    'textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

  function isTyping(element) {
    if (!element) return false;
    if (element.tagName === "INPUT") return !/^(checkbox|radio|button|submit|reset)$/.test(element.type);
    return /^(TEXTAREA|SELECT)$/.test(element.tagName) || element.isContentEditable;
  }

  function each(list, fn) {
    Array.prototype.forEach.call(list, fn);
  }

  // --- a short message, read out by screen readers -----------------------------------------------------------------
  var toastTimer = null;

  function say(text) {
    var box = document.querySelector("[data-queue-toast]");
    if (!box) {
      box = document.createElement("div");
      box.className = "alert alert-warning shadow py-2 px-3 mb-0";
      box.style.cssText = "position:fixed;left:50%;bottom:1.25rem;transform:translateX(-50%);z-index:1080;max-width:min(40rem,94vw)";
      box.setAttribute("role", "status");
      box.setAttribute("aria-live", "polite");
      box.dataset.queueToast = "";
      document.body.appendChild(box);
    }
    box.textContent = text;
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { box.hidden = true; }, 6000);
  }

  // --- dialogs: focus the first field, keep Tab inside, give focus back on close ------------------------------------
  var opener = null;

  function focusables(dialog) {
    return Array.prototype.filter.call(dialog.querySelectorAll(FOCUSABLE), function (element) {
      return element.getClientRects().length > 0;
    });
  }

  function openDialog(dialog) {
    opener = document.activeElement;
    if (typeof dialog.showModal === "function") {
      dialog.showModal();
    } else {
      dialog.setAttribute("open", "");
    }
    var first = dialog.querySelector("[data-autofocus]") || focusables(dialog)[0];
    if (first) first.focus();
  }

  function closeDialog(dialog) {
    if (typeof dialog.close === "function") dialog.close(); else dialog.removeAttribute("open");
  }

  document.addEventListener("close", function (event) {
    if (event.target.tagName === "DIALOG" && opener && document.contains(opener)) {
      opener.focus();
      opener = null;
    }
  }, true);

  document.addEventListener("keydown", function (event) {
    var dialog = document.querySelector("dialog[open]");
    if (!dialog || event.key !== "Tab") return;
    var items = focusables(dialog);
    if (!items.length) return;
    var first = items[0];
    var last = items[items.length - 1];
    if (event.shiftKey && (document.activeElement === first || !dialog.contains(document.activeElement))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (document.activeElement === last || !dialog.contains(document.activeElement))) {
      event.preventDefault();
      first.focus();
    }
  });

  document.addEventListener("click", function (event) {
    var closer = event.target.closest("[data-close-dialog]");
    if (closer) {
      closeDialog(closer.closest("dialog"));
      return;
    }
    // A click on the backdrop (the dialog element itself, outside its content) closes it.
    if (event.target.tagName === "DIALOG" && event.target.open) {
      var box = event.target.getBoundingClientRect();
      var inside = event.clientX >= box.left && event.clientX <= box.right && event.clientY >= box.top && event.clientY <= box.bottom;
      if (!inside) closeDialog(event.target);
    }
  });

  // Forms go back to the page as it is now (filters changed through htmx since the page loaded).
  document.addEventListener("submit", function (event) {
    each(event.target.querySelectorAll("input[data-here]"), function (input) {
      input.value = window.location.pathname + window.location.search;
    });
  }, true);

  // --- SLA countdowns in the queue ----------------------------------------------------------------------------------
  function dueText(minutes) {
    if (minutes < 60) return "due in " + minutes + " min";
    if (minutes < 48 * 60) return "due in " + Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
    return "due in " + Math.floor(minutes / 1440) + " d " + Math.floor((minutes % 1440) / 60) + " h";
  }

  function tick() {
    each(document.querySelectorAll("[data-queue] [data-sla-due]"), function (badge) {
      var left = Math.round((Date.parse(badge.dataset.slaDue) - Date.now()) / 60000);
      if (left <= 0) {
        badge.textContent = "overdue";
        badge.className = "badge text-bg-danger";
      } else {
        badge.textContent = dueText(left);
      }
    });
  }

  // --- the queue ------------------------------------------------------------------------------------------------------
  var currentId = null;

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#queue-table tbody tr[data-lead-id]"));
  }

  function currentRow() {
    return rows().filter(function (row) { return row.dataset.leadId === currentId; })[0] || null;
  }

  function select(row, focus) {
    each(rows(), function (other) {
      other.classList.remove("queue-current");
      other.removeAttribute("aria-current");
    });
    if (!row) return;
    currentId = row.dataset.leadId;
    row.classList.add("queue-current");
    row.setAttribute("aria-current", "true");
    if (focus) row.focus();
    row.scrollIntoView({ block: "nearest" });
  }

  function move(delta) {
    var list = rows();
    if (!list.length) return;
    var index = list.indexOf(currentRow());
    index = index < 0 ? 0 : Math.min(list.length - 1, Math.max(0, index + delta));
    select(list[index], true);
  }

  var ROW_DIALOGS = {
    accept: { url: "acceptUrl", refusal: "acceptRefusal", dialog: "accept-dialog" },
    reject: { url: "rejectUrl", refusal: "rejectRefusal", dialog: "reject-dialog" },
    log: { url: "activityUrl", refusal: "activityRefusal", dialog: "activity-dialog" },
  };

  function rowAction(row, action) {
    if (!row) {
      say("Choose a lead first: j and k move between leads.");
      return;
    }
    if (action === "open") {
      if (row.dataset.openUrl) window.location.assign(row.dataset.openUrl);
      else say(row.dataset.openRefusal);
      return;
    }
    if (action === "claim") {
      var claim = row.querySelector("[data-row-claim]");
      if (claim) claim.click();
      else say(row.dataset.claimRefusal || "This lead cannot be claimed.");
      return;
    }
    if (action === "check") {
      var box = row.querySelector("[data-queue-check]");
      box.checked = !box.checked;
      box.dispatchEvent(new Event("change", { bubbles: true }));
      return;
    }
    var spec = ROW_DIALOGS[action];
    var url = row.dataset[spec.url];
    var dialog = document.getElementById(spec.dialog);
    if (!url || !dialog) {
      say(row.dataset[spec.refusal] || "Not possible on this lead.");
      return;
    }
    var form = dialog.querySelector("form");
    form.reset();
    form.action = url;
    var stage = form.querySelector('input[name="stage"]');
    if (stage) stage.value = row.dataset.stage;
    each(dialog.querySelectorAll("[data-row-name]"), function (name) { name.textContent = row.dataset.name; });
    openDialog(dialog);
  }

  function selectionChanged() {
    var checked = document.querySelectorAll("[data-queue-check]:checked").length;
    var all = document.querySelectorAll("[data-queue-check]").length;
    each(document.querySelectorAll("[data-queue-selected]"), function (label) {
      label.textContent = checked ? checked + " lead" + (checked === 1 ? "" : "s") + " selected" : "No lead selected";
    });
    each(document.querySelectorAll("[data-queue-selected-count]"), function (label) {
      label.textContent = String(checked);
    });
    each(document.querySelectorAll("[data-needs-selection]"), function (button) { button.disabled = !checked; });
    each(document.querySelectorAll("[data-queue-all]"), function (box) {
      box.checked = all > 0 && checked === all;
      box.indeterminate = checked > 0 && checked < all;
    });
  }

  function queueKey(event) {
    var key = event.key;
    var target = event.target;
    if (key === "j" || key === "ArrowDown" && target.tagName === "TR") move(1);
    else if (key === "k" || key === "ArrowUp" && target.tagName === "TR") move(-1);
    else if (key === "o" || key === "Enter" && (target.tagName === "TR" || target === document.body)) rowAction(currentRow(), "open");
    else if (key === "a") rowAction(currentRow(), "accept");
    else if (key === "r") rowAction(currentRow(), "reject");
    else if (key === "l") rowAction(currentRow(), "log");
    else if (key === "c") rowAction(currentRow(), "claim");
    else if (key === "x") rowAction(currentRow(), "check");
    else if (key === "/") {
      var search = document.getElementById("queue-q");
      if (search) search.focus();
    } else if (key === "?") openDialog(document.getElementById("keys-help"));
    else return;
    event.preventDefault();
  }

  function initQueue() {
    document.addEventListener("change", function (event) {
      if (event.target.matches("[data-queue-all]")) {
        each(document.querySelectorAll("[data-queue-check]"), function (box) { box.checked = event.target.checked; });
      }
      if (event.target.matches("[data-queue-all], [data-queue-check]")) selectionChanged();
    });
    document.addEventListener("click", function (event) {
      var opens = event.target.closest("[data-open-dialog]");
      if (opens) {
        var dialog = document.getElementById(opens.dataset.openDialog);
        // Only the fields of the dialog being sent are required (both bulk dialogs live in one form).
        each(document.querySelectorAll("[data-required]"), function (field) { field.required = dialog.contains(field); });
        openDialog(dialog);
        return;
      }
      if (event.target.closest("[data-queue-help]")) {
        openDialog(document.getElementById("keys-help"));
        return;
      }
      var action = event.target.closest("[data-row-action]");
      if (action) {
        event.preventDefault();
        var row = action.closest("tr");
        select(row, false);
        rowAction(row, action.dataset.rowAction);
        return;
      }
      var row = event.target.closest("#queue-table tbody tr[data-lead-id]");
      if (row) select(row, !event.target.closest("a, button, input, label"));
    });
    document.addEventListener("focusin", function (event) {
      var row = event.target.closest && event.target.closest("#queue-table tbody tr[data-lead-id]");
      if (row && row.dataset.leadId !== currentId) select(row, false);
    });
    // A shareable address: the filters' request (and the address pushed to the history) names only what is set.
    document.body.addEventListener("htmx:configRequest", function (event) {
      var form = event.detail.elt.closest && event.detail.elt.closest(".queue-filters");
      if (!form) return;
      each(form.elements, function (field) {
        var value = event.detail.parameters[field.name];
        var unset = value === "" || (field.name === "per_page" && value === "25");
        if (field.name && unset) delete event.detail.parameters[field.name];
      });
    });
    // Sorting and page-size links change the address; the filters keep them when they change next.
    document.body.addEventListener("htmx:pushedIntoHistory", function () {
      var form = document.querySelector(".queue-filters");
      if (!form) return;
      var params = new URLSearchParams(window.location.search);
      if (form.elements.sort) form.elements.sort.value = params.get("sort") || "";
      if (form.elements.per_page) form.elements.per_page.value = params.get("per_page") || "25";
    });
    document.body.addEventListener("htmx:afterSwap", function () {
      select(currentRow() || rows()[0] || null, false);
      selectionChanged();
      tick();
    });
    selectionChanged();
    // The rows refresh themselves (htmx, every 30 s) only while this is true: never under a rep's ticked rows, an
    // open dialog or a field they are typing in, nor in a hidden tab.
    window.leadopsQueueIdle = function () {
      var active = document.activeElement;
      return (
        document.visibilityState === "visible" &&
        !document.querySelector("#queue-table tbody input[type=checkbox]:checked") &&
        !document.querySelector("dialog[open]") &&
        !(active && active.closest && active.closest("form, dialog"))
      );
    };
    // The most urgent lead is the current one from the start: a, r, l act on it without moving first.
    select(rows()[0] || null, false);
  }

  // --- the lead page's actions panel ---------------------------------------------------------------------------
  var LEAD_HELP = [
    ["a", "Accept the SQL (asks first)"],
    ["r", "Reject with a reason and a note"],
    ["l", "Log a call, e-mail or meeting"],
    ["c", "Go to the Claim button"],
    ["?", "This help"],
    ["Esc", "Close a dialog"],
  ];

  function leadHelp() {
    var dialog = document.getElementById("keys-help");
    if (dialog) return dialog;
    dialog = document.createElement("dialog");
    dialog.id = "keys-help";
    dialog.setAttribute("aria-labelledby", "keys-help-title");
    dialog.style.cssText = "border:0;border-radius:.5rem;padding:1rem;width:min(28rem,94vw);box-shadow:0 .5rem 2rem rgba(0,0,0,.35)";
    var title = document.createElement("h2");
    title.className = "h5";
    title.id = "keys-help-title";
    title.textContent = "Keyboard shortcuts on this lead";
    dialog.appendChild(title);
    var table = document.createElement("table");
    table.className = "table table-sm";
    LEAD_HELP.forEach(function (pair) {
      var tr = table.insertRow();
      var kbd = document.createElement("kbd");
      kbd.textContent = pair[0];
      tr.insertCell().appendChild(kbd);
      tr.insertCell().textContent = pair[1];
    });
    dialog.appendChild(table);
    var note = document.createElement("p");
    note.className = "small text-secondary";
    note.textContent = "Keys do nothing while you type in a field.";
    dialog.appendChild(note);
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn btn-primary";
    close.textContent = "Close";
    close.dataset.closeDialog = "";
    close.dataset.autofocus = "";
    dialog.appendChild(close);
    document.body.appendChild(dialog);
    return dialog;
  }

  function leadKey(event, panel) {
    var key = event.key;
    var button;
    if (key === "a") {
      button = panel.querySelector('[data-action="accept"]');
      if (!button) say("There is nothing to accept on this lead.");
      else if (window.confirm("Accept this lead and hand it to an AE?")) button.click();
    } else if (key === "r") {
      button = panel.querySelector('[data-action="reject"]') || panel.querySelector('[data-action="return"]');
      if (button) button.click();
      else say("There is nothing to reject on this lead.");
    } else if (key === "l") {
      var form = document.getElementById("activity-form");
      if (!form) {
        say("Only the lead's owner logs activities on it, in a working stage.");
      } else {
        form.scrollIntoView({ block: "center" });
        (form.querySelector('select, textarea, input:not([type="hidden"])') || form).focus();
      }
    } else if (key === "c") {
      button = panel.querySelector('[data-action="claim"]');
      if (button) {
        button.scrollIntoView({ block: "center" });
        button.focus();
      } else {
        say("This lead is not waiting to be claimed.");
      }
    } else if (key === "?") {
      openDialog(leadHelp());
    } else {
      return;
    }
    event.preventDefault();
  }

  // --- one key handler for both pages --------------------------------------------------------------------------
  function init() {
    var onQueue = !!document.querySelector("[data-queue]");
    var panel = document.getElementById("lead-actions");
    if (!onQueue && !panel) return;
    if (onQueue) {
      initQueue();
      tick();
      setInterval(tick, 30000);
    }
    document.addEventListener("keydown", function (event) {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
      if (document.querySelector("dialog[open]") || isTyping(event.target)) return;
      if (onQueue) queueKey(event);
      else leadKey(event, panel);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
