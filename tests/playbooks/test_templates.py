"""The shipped templates (criteria written out), template edit validation, and versioning: an edit makes v2, a call
logged against v1 keeps v1."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from playbooks import rules, services
from playbooks.models import Criterion, NextStepTemplate, Objection, QualificationTemplate
from tests.playbooks import calls_world
from tests.playbooks.calls_world import NOW, call_input

playbook, sal = calls_world.playbook, calls_world.sal  # the shared fixtures


def _criteria(template):
    return [(c.key, c.name, c.required) for c in template.criteria.order_by("order")]


def test_bant_ships_budget_authority_need_timeline(playbook):
    assert (playbook["bant"].name, playbook["bant"].version) == ("BANT", 1)
    assert _criteria(playbook["bant"]) == [
        ("budget", "Budget", True),
        ("authority", "Authority", True),
        ("need", "Need", True),
        ("timeline", "Timeline", True),
    ]


def test_champ_ships_challenges_authority_money_prioritization(playbook):
    assert _criteria(playbook["champ"]) == [
        ("challenges", "Challenges", True),
        ("authority", "Authority", True),
        ("money", "Money", True),
        ("prioritization", "Prioritization", True),
    ]


def test_every_shipped_criterion_has_a_description_a_met_definition_and_questions_for_each_persona(playbook):
    for criterion in Criterion.objects.all():
        assert criterion.description and criterion.met_means
        assert sorted(criterion.questions) == ["cfo", "it_director", "operations_lead", "vp_sales"]
        assert all(len(questions) >= 2 for questions in criterion.questions.values())


def test_objection_library_and_next_step_templates_ship(playbook):
    assert list(Objection.objects.values_list("key", flat=True)) == [
        "pricing",
        "timeline",
        "stakeholder_buy_in",
        "competitor_entrenchment",
        "other",
    ]
    assert all(all(text for _stem, _label, text in o.talk_track) for o in Objection.objects.all())
    assert list(NextStepTemplate.objects.values_list("kind", flat=True)) == ["demo", "proposal", "poc"]


def _inputs(template):
    return [
        rules.CriterionInput(c.key, c.name, c.description, c.met_means, c.required, c.questions)
        for c in template.criteria.order_by("order")
    ]


def test_edit_creates_version_two_and_an_old_call_keeps_version_one(playbook, sal, ae, manager):
    v1 = playbook["bant"]
    call = services.call_log(
        lead=sal,
        by=ae,
        template=v1,
        call=call_input(
            answers={"budget": "met", "authority": "met", "need": "met", "timeline": "met"}, next_step_owner_id=ae.pk
        ),
        now=NOW,
    )
    criteria = _inputs(v1)[:3] + [rules.CriterionInput("timeline", "Timing", "When.", "Within 6 months.", False)]
    v2 = services.template_edit(
        template=v1, by=manager, name="BANT", description="", criteria=criteria, change_note="Timing optional"
    )
    v1.refresh_from_db()
    call.refresh_from_db()
    assert (v2.version, v2.active, v1.active) == (2, True, False)
    assert _criteria(v2)[-1] == ("timeline", "Timing", False)
    assert call.template_id == v1.pk
    assert [a.criterion.name for a in call.answers.order_by("criterion__order")] == [
        "Budget",
        "Authority",
        "Need",
        "Timeline",
    ]
    assert _criteria(v1)[-1] == ("timeline", "Timeline", True)


def test_editing_an_old_version_is_refused(playbook, manager):
    v1 = playbook["bant"]
    services.template_edit(template=v1, by=manager, name="BANT", description="", criteria=_inputs(v1))
    from handoff.services import LeadChanged

    with pytest.raises(LeadChanged, match="version 2 is the current one"):
        services.template_edit(template=v1, by=manager, name="BANT", description="", criteria=_inputs(v1))
    assert QualificationTemplate.objects.filter(key="bant").count() == 2


def test_an_ae_may_not_edit_a_template(playbook, ae):
    with pytest.raises(PermissionDenied):
        services.template_edit(
            template=playbook["bant"], by=ae, name="BANT", description="", criteria=_inputs(playbook["bant"])
        )


C = rules.CriterionInput


@pytest.mark.parametrize(
    ("name", "criteria", "field", "message"),
    [
        ("", [C("need", "Need", "d", "m")], "name", "Give the template a name."),
        ("T", [], "criteria", "A template needs at least one criterion."),
        ("T", [C("need", "Need", "d", "m", required=False)], "criteria", "Mark at least one criterion as required"),
        ("T", [C("need", "Need", "d", "m"), C("need", "Need 2", "d", "m")], "criterion:1:key", "already"),
        ("T", [C("", "Need", "d", "m")], "criterion:0:key", "Give the criterion a key"),
        ("T", [C("Need Now", "Need", "d", "m")], "criterion:0:key", "lower-case"),
        ("T", [C("need", " ", "d", "m")], "criterion:0:name", "Give the criterion a name."),
        ("T", [C("need", "Need", "", "m")], "criterion:0:description", "Describe the criterion."),
        ("T", [C("need", "Need", "d", "")], "criterion:0:met_means", 'Say what "met" means.'),
        ("T", [C("need", "Need", "d", "m", questions={"ceo": ["q"]})], "criterion:0:questions", "not a persona"),
        ("T", [C("need", "Need", "d", "m", questions={"cfo": [" "]})], "criterion:0:questions", "cannot be empty"),
    ],
)
def test_template_validation(name, criteria, field, message):
    problems = rules.template_problems(name=name, criteria=criteria)
    assert field in problems
    assert any(message in text for text in problems[field])


def test_an_invalid_edit_saves_nothing(playbook, manager):
    with pytest.raises(ValidationError) as error:
        services.template_edit(template=playbook["champ"], by=manager, name="CHAMP", description="", criteria=[])
    assert error.value.message_dict == {"criteria": ["A template needs at least one criterion."]}
    assert QualificationTemplate.objects.filter(key="champ").count() == 1


def test_manager_edits_a_template_on_its_page(client, playbook, manager):
    client.force_login(manager)
    v1 = playbook["champ"]
    response = client.get(f"/playbooks/templates/{v1.pk}/edit/")
    assert response.status_code == 200
    data = {"name": "CHAMP", "description": "d", "change_note": "fewer"}
    for i, c in enumerate(v1.criteria.order_by("order")):
        data.update({f"c-{i}-key": c.key, f"c-{i}-name": c.name, f"c-{i}-description": c.description})
        data.update({f"c-{i}-met_means": c.met_means, f"c-{i}-required": "on", f"c-{i}-q-cfo": "Why now?\nWho pays?"})
    data["c-3-remove"] = "on"
    response = client.post(f"/playbooks/templates/{v1.pk}/edit/", data)
    v2 = QualificationTemplate.objects.get(key="champ", active=True)
    assert response.status_code == 302 and response.url == f"/playbooks/templates/{v2.pk}/"
    assert [c.key for c in v2.criteria.order_by("order")] == ["challenges", "authority", "money"]
    assert v2.criteria.get(key="money").questions == {"cfo": ["Why now?", "Who pays?"]}


def test_template_page_shows_duplicate_key_on_its_row(client, playbook, manager):
    client.force_login(manager)
    v1 = playbook["champ"]
    data = {"name": "CHAMP"}
    for i in range(2):
        data.update({f"c-{i}-key": "money", f"c-{i}-name": "Money", f"c-{i}-description": "d"})
        data.update({f"c-{i}-met_means": "m", f"c-{i}-required": "on"})
    response = client.post(f"/playbooks/templates/{v1.pk}/edit/", data)
    assert response.status_code == 400
    assert "The key &#x27;money&#x27; is used by criterion 1 already." in response.content.decode()


def test_objection_talk_track_needs_every_step(playbook, manager):
    objection = Objection.objects.get(key="pricing")
    track = {stem: "x" for stem, _label, _text in objection.talk_track}
    track["clarify"] = " "
    with pytest.raises(ValidationError) as error:
        services.objection_edit(objection=objection, by=manager, name="Pricing", track=track)
    assert error.value.message_dict == {"clarify": ["Write what the rep says or does to clarify."]}


def test_next_step_template_needs_text(playbook, manager):
    template = NextStepTemplate.objects.get(kind="demo")
    with pytest.raises(ValidationError) as error:
        services.next_step_template_edit(template=template, by=manager, name="", body="")
    assert set(error.value.message_dict) == {"name", "body"}
