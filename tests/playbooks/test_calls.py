"""Logging a discovery call: every validation error on its field, the page (form, talk tracks, panel) and the API."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from playbooks import rules, services
from playbooks.models import DiscoveryCall
from tests.playbooks import calls_world
from tests.playbooks.calls_world import CALL_AT, NOW, call_input

KEYS = ["challenges", "authority", "money", "prioritization"]
ALL_MET = {key: "met" for key in KEYS}

playbook, sal = calls_world.playbook, calls_world.sal  # the shared fixtures


def _problems(**changes):
    return rules.call_problems(
        call_input(**{"next_step_owner_id": 7, **changes}),
        criteria_keys=KEYS,
        objection_keys={"pricing", "timeline"},
        owner_ids={7},
        now=NOW,
    )


def test_a_valid_call_has_no_problems():
    assert _problems() == {}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"occurred_at": None}, "occurred_at", "When did the call take place?"),
        ({"occurred_at": NOW + timedelta(minutes=6)}, "occurred_at", "A call cannot be in the future."),
        ({"duration_minutes": None}, "duration_minutes", "How long did the call last, in minutes?"),
        ({"duration_minutes": 0}, "duration_minutes", "Give a duration between 1 and 240 minutes."),
        ({"duration_minutes": 241}, "duration_minutes", "Give a duration between 1 and 240 minutes."),
        ({"questions_asked": None}, "questions_asked", "How many questions did you ask?"),
        ({"questions_asked": 101}, "questions_asked", "Give a number of questions between 0 and 100."),
        (
            {"questions_asked": 1, "questions_list": "Budget?\nWho signs?"},
            "questions_asked",
            "You listed 2 questions; the count cannot be lower.",
        ),
        ({"persona": "ceo"}, "persona", "Choose a persona from the list."),
        ({"answers": {**ALL_MET, "money": ""}}, "answer:money", "Choose met, partial, not met or unknown."),
        ({"answers": {**ALL_MET, "budget": "met"}}, "answers", "'budget' is not a criterion of this template."),
        ({"objections": (rules.ObjectionEntry("weather"),)}, "objections", "'weather' is not an objection"),
        (
            {"objections": (rules.ObjectionEntry("pricing"), rules.ObjectionEntry("pricing"))},
            "objection:pricing",
            "Each objection is recorded once per call.",
        ),
        (
            {"objections": (rules.ObjectionEntry("pricing", ("listen", "shout")),)},
            "objection:pricing",
            "Unknown handling step: shout.",
        ),
        (
            {"objections": (rules.ObjectionEntry("pricing", ("listen",), resolved=True),)},
            "objection:pricing",
            "An objection is resolved only once you confirmed it with the buyer.",
        ),
        ({"next_step": ""}, "next_step", "Choose the next step (or none, with the reason)."),
        ({"next_step": "none", "no_next_step_reason": " "}, "no_next_step_reason", "Say why there is no next step."),
        ({"next_step_on": None}, "next_step_on", "When is the next step?"),
        ({"next_step_on": date(2026, 11, 17)}, "next_step_on", "The next step cannot be before the call."),
        ({"next_step_owner_id": None}, "next_step_owner", "Who owns the next step?"),
        ({"next_step_owner_id": 99}, "next_step_owner", "Choose the owner from the list."),
    ],
)
def test_call_validation(changes, field, message):
    problems = _problems(**changes)
    assert field in problems
    assert any(text.startswith(message) for text in problems[field]), problems


def test_no_next_step_with_a_reason_needs_no_date_or_owner():
    assert (
        _problems(next_step="none", no_next_step_reason="Budget frozen", next_step_on=None, next_step_owner_id=None)
        == {}
    )


def test_an_invalid_call_saves_nothing(sal, ae, playbook):
    with pytest.raises(ValidationError) as error:
        services.call_log(lead=sal, by=ae, template=playbook["champ"], call=call_input(duration_minutes=300), now=NOW)
    assert set(error.value.message_dict) == {"duration_minutes", "next_step_owner"}
    assert DiscoveryCall.objects.count() == 0


def _form(ae, **changes):
    data = {
        "save": "1",
        "occurred_at": "2026-11-18T10:00",
        "duration_minutes": "25",
        "questions_asked": "8",
        "persona": "cfo",
        "decision_maker_present": "on",
        "next_step": "demo",
        "next_step_on": "2026-11-25",
        "next_step_owner": str(ae.pk),
        "objection": ["pricing"],
        "step:pricing": ["listen", "acknowledge", "clarify", "respond", "confirm"],
        "resolved:pricing": "yes",
        **{f"answer:{key}": "met" for key in KEYS},
    }
    data.update(changes)
    return data


@time_machine.travel(NOW, tick=False)
def test_ae_logs_a_call_from_the_form(client, sal, ae, playbook):
    client.force_login(ae)
    url = f"/playbooks/leads/{sal.pk}/calls/new/?template={playbook['champ'].pk}"
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-talk-track="pricing"' in html and "Ask the CFO:" in html
    response = client.post(url, _form(ae))
    call = DiscoveryCall.objects.get()
    assert response.status_code == 302 and response.url == f"/playbooks/calls/{call.pk}/"
    assert (call.outcome, call.next_step, call.decision_maker_present, call.template.key) == (
        "qualified",
        "demo",
        True,
        "champ",
    )
    assert call.objections.get().steps_done == ["Listen", "Acknowledge", "Clarify", "Respond", "Confirm"]
    detail = client.get(response.url).content.decode()
    assert "Open the opportunity" in detail and "Demo invitation" in detail


@time_machine.travel(NOW, tick=False)
def test_form_shows_each_error_beside_its_field(client, sal, ae, playbook):
    client.force_login(ae)
    url = f"/playbooks/leads/{sal.pk}/calls/new/?template={playbook['champ'].pk}"
    response = client.post(url, _form(ae, next_step="none", duration_minutes="500", **{"answer:money": ""}))
    html = response.content.decode()
    assert response.status_code == 400
    assert 'data-field-error="no_next_step_reason">Say why there is no next step.' in html
    assert 'data-field-error="duration_minutes">Give a duration between 1 and 240 minutes.' in html
    assert 'data-field-error="answer-money">Choose met, partial, not met or unknown.' in html
    assert DiscoveryCall.objects.count() == 0


@time_machine.travel(NOW, tick=False)
def test_lead_panel_shows_the_last_outcome_and_the_log_link(client, sal, ae, playbook, django_assert_max_num_queries):
    services.call_log(
        lead=sal,
        by=ae,
        template=playbook["champ"],
        call=call_input(answers={**ALL_MET, "money": "partial"}, next_step_owner_id=ae.pk),
        now=NOW,
    )
    client.force_login(ae)
    html = client.get(f"/leads/{sal.pk}/").content.decode()
    assert 'data-testid="playbook-panel"' in html
    assert "not qualified: missing Money" in html
    assert f'href="/playbooks/leads/{sal.pk}/calls/new/"' in html
    from playbooks.panels import lead_playbook_panel

    class Request:
        user = ae

    with django_assert_max_num_queries(2):
        lead_playbook_panel(None, lead=sal, user=ae, request=None)


@time_machine.travel(NOW, tick=False)
def test_api_logs_and_lists_calls(client, sal, ae, playbook, django_assert_max_num_queries):
    client.force_login(ae)
    body = {
        "template": playbook["champ"].pk,
        "occurred_at": CALL_AT.isoformat(),
        "duration_minutes": 22,
        "questions_asked": 9,
        "decision_maker_present": False,
        "answers": [{"criterion": key, "status": "met"} for key in KEYS],
        "objections": [{"objection": "timeline", "steps": ["listen", "clarify"], "resolved": False}],
        "next_step": "poc",
        "next_step_on": "2026-11-30",
        "next_step_owner": ae.pk,
    }
    created = client.post(f"/api/playbooks/leads/{sal.pk}/calls/", body, content_type="application/json")
    assert created.status_code == 201, created.json()
    assert (created.json()["outcome"], created.json()["objections"][0]["steps"]) == ("qualified", ["listen", "clarify"])
    bad = client.post(
        f"/api/playbooks/leads/{sal.pk}/calls/", {**body, "next_step": "none"}, content_type="application/json"
    )
    assert (bad.status_code, bad.json()) == (400, {"no_next_step_reason": ["Say why there is no next step."]})
    for _ in range(3):
        services.call_log(
            lead=sal,
            by=ae,
            template=playbook["bant"],
            call=call_input(
                answers={"budget": "met", "authority": "met", "need": "met", "timeline": "unknown"},
                next_step_owner_id=ae.pk,
            ),
            now=NOW,
        )
    with django_assert_max_num_queries(8):
        listed = client.get(f"/api/playbooks/leads/{sal.pk}/calls/")
    assert listed.status_code == 200 and len(listed.json()) == 4
    with django_assert_max_num_queries(6):
        templates = client.get("/api/playbooks/templates/")
    assert [t["key"] for t in templates.json()] == ["bant", "champ"]
