"""Next-best-action in the database: the sweep creates due actions once, on business-day cadence; a logged touch
completes its action, a reply, a meeting or a stage change stops the sequence; who may see and edit what."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine

from leadops.models import AuditEntry
from leadops.rules import Stage
from leadops.services import activity_log, lead_transition
from playbooks.models import CadenceRules, CoachingTargets, NextAction, SequenceEnd
from playbooks.services_actions import ActionError, next_action_close, next_actions_create
from playbooks.tasks import next_actions_sweep
from tests.factories import AccountFactory, LeadFactory

UTC = dt.UTC
FRIDAY = dt.datetime(2026, 3, 6, 10, 0, tzinfo=UTC)  # no territory: the default office hours, Mon-Fri 09:00-17:00 UTC


def at(day, hour, minute=0):
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def warm_sql(sdr):
    account = AccountFactory(employees=40)  # SMB: a touch every 3-5 business days
    return LeadFactory(account=account, stage=Stage.SQL, owner=sdr, score_total=65, stage_changed_at=FRIDAY)


def open_actions(lead):
    return list(NextAction.objects.filter(lead=lead, state="open").values_list("step_key", "kind", "due_at"))


def test_the_sweep_creates_the_first_action_once_however_often_it_runs(warm_sql):
    with time_machine.travel(at(6, 10, 5), tick=False):
        assert next_actions_sweep() == {"leads": 1, "created": 1, "ended": 0}
        assert next_actions_sweep() == {"leads": 0, "created": 0, "ended": 0}
    assert open_actions(warm_sql) == [("warm:0:email", "email", FRIDAY)]
    action = NextAction.objects.get(lead=warm_sql)
    assert action.owner == warm_sql.owner
    assert action.reason.startswith("score 65 (50-79: warm): step 1 of 2, nurture e-mail with a case study; now")


def test_the_same_step_is_never_created_twice_even_when_two_sweeps_read_the_same_lead(warm_sql, monkeypatch):
    from leadops.models import Lead
    from playbooks import services_actions

    with time_machine.travel(at(6, 10, 5), tick=False):
        first = next_actions_create()
        # A second sweep that read the lead and its (empty) history before the first one wrote: it decides the same
        # step, and the unique constraints keep one row.
        monkeypatch.setattr(services_actions, "_due_leads", lambda lead_ids=None: Lead.objects.filter(pk=warm_sql.pk))
        monkeypatch.setattr(services_actions, "_history", lambda leads: {lead.pk: [] for lead in leads})
        second = next_actions_create()
    assert (first.created, second.created) == (1, 0)
    assert NextAction.objects.filter(lead=warm_sql).count() == 1


def test_a_logged_e_mail_without_reply_escalates_to_a_call_after_the_weekend_then_linkedin_on_cadence(
    warm_sql, sdr, django_capture_on_commit_callbacks
):
    with time_machine.travel(at(6, 10, 5), tick=False):
        next_actions_sweep()
    with time_machine.travel(at(6, 11), tick=False), django_capture_on_commit_callbacks(execute=True):
        activity_log(lead=warm_sql, rep=sdr, kind="email", occurred_at=at(6, 11), outcome="Sent, no reply yet")
    # Friday 11:00 + 48 h is Sunday 11:00: the call is due at Monday's opening.
    assert open_actions(warm_sql) == [("warm:0:email:no-reply", "call", at(9, 9))]
    with time_machine.travel(at(9, 10), tick=False), django_capture_on_commit_callbacks(execute=True):
        activity_log(lead=warm_sql, rep=sdr, kind="call", occurred_at=at(9, 10), outcome="No answer")
    # SMB: 3 business days after Monday's call.
    assert open_actions(warm_sql) == [("warm:1:linkedin", "linkedin", at(12, 10))]
    states = dict(NextAction.objects.filter(lead=warm_sql).values_list("step_key", "state"))
    assert states == {"warm:0:email": "done", "warm:0:email:no-reply": "done", "warm:1:linkedin": "open"}


def test_a_cadence_across_a_weekend_skips_it(sdr):
    lead = LeadFactory(
        account=AccountFactory(employees=40), stage=Stage.SQL, owner=sdr, score_total=65, stage_changed_at=FRIDAY
    )
    with time_machine.travel(at(6, 10, 5), tick=False):
        next_actions_sweep()
        action = NextAction.objects.get(lead=lead)
        next_action_close(action=action, by=sdr, done=True, at=at(6, 12))
        escalation = NextAction.objects.get(lead=lead, state="open")
        next_action_close(action=escalation, by=sdr, done=True, at=at(6, 16))
    # Friday 16:00 + 3 business days: Wednesday 16:00, not Monday.
    assert open_actions(lead) == [("warm:1:linkedin", "linkedin", at(11, 16))]


def test_a_reply_stops_the_sequence_for_good(warm_sql, sdr, django_capture_on_commit_callbacks):
    with time_machine.travel(at(6, 10, 5), tick=False):
        next_actions_sweep()
    with time_machine.travel(at(6, 15), tick=False), django_capture_on_commit_callbacks(execute=True):
        activity_log(lead=warm_sql, rep=sdr, kind="email", occurred_at=at(6, 15), outcome="Replied")
    action = NextAction.objects.get(lead=warm_sql)
    assert (action.state, action.closed_reason) == ("cancelled", "Sequence stopped: the lead replied on 2026-03-06")
    assert SequenceEnd.objects.filter(lead=warm_sql).count() == 1
    with time_machine.travel(at(16, 10), tick=False):
        assert next_actions_sweep() == {"leads": 0, "created": 0, "ended": 0}
    assert open_actions(warm_sql) == []


def test_a_meeting_booked_on_a_call_stops_the_sequence(warm_sql, sdr, django_capture_on_commit_callbacks):
    with time_machine.travel(at(6, 10, 5), tick=False):
        next_actions_sweep()
    with django_capture_on_commit_callbacks(execute=True):
        activity_log(lead=warm_sql, rep=sdr, kind="call", occurred_at=at(6, 15), outcome="Meeting booked")
    assert NextAction.objects.get(lead=warm_sql).state == "cancelled"


def test_a_stage_change_stops_the_sequence(warm_sql, sdr, django_capture_on_commit_callbacks):
    with time_machine.travel(at(6, 10, 5), tick=False):
        next_actions_sweep()
    with time_machine.travel(at(6, 12), tick=False), django_capture_on_commit_callbacks(execute=True):
        lead_transition(lead=warm_sql, to=Stage.REJECTED, by=sdr, reason="no budget")
    action = NextAction.objects.get(lead=warm_sql)
    assert (action.state, action.closed_reason) == ("cancelled", "Sequence stopped: the lead moved to rejected")
    with time_machine.travel(at(9, 10), tick=False):
        assert next_actions_sweep()["created"] == 0  # a rejected lead is not worked by cadence


def test_a_lead_whose_sequence_is_over_is_passed_by(sdr):
    lead = LeadFactory(stage=Stage.SQL, owner=sdr, score_total=90, stage_changed_at=FRIDAY)
    with time_machine.travel(at(6, 10, 5), tick=False):
        next_actions_sweep()
        next_action_close(action=NextAction.objects.get(lead=lead), by=sdr, done=True)
    assert SequenceEnd.objects.filter(lead=lead).count() == 1
    assert "every step of the hot sequence is taken" in SequenceEnd.objects.get(lead=lead).reason
    with time_machine.travel(at(9, 10), tick=False):
        assert next_actions_sweep()["leads"] == 0


def test_only_the_owner_closes_an_action_and_a_skip_needs_a_reason(warm_sql, sdr, other_sdr):
    with time_machine.travel(at(6, 10, 5), tick=False):
        next_actions_sweep()
    action = NextAction.objects.get(lead=warm_sql)
    with pytest.raises(ActionError):
        next_action_close(action=action, by=other_sdr, done=True)
    with pytest.raises(ActionError) as refused:
        next_action_close(action=action, by=sdr, done=False, note=" ")
    assert refused.value.field == "note"
    next_action_close(action=action, by=sdr, done=False, note="already e-mailed from the CRM")
    action.refresh_from_db()
    assert (action.state, action.closed_reason) == ("cancelled", "skipped: already e-mailed from the CRM")
    assert AuditEntry.objects.filter(action="playbooks.next_action_skip").count() == 1


def test_the_rep_sees_due_actions_and_the_lead_page_says_why(client, warm_sql, sdr):
    with time_machine.travel(at(6, 10, 5), tick=False):
        next_actions_sweep()
        client.force_login(sdr)
        page = client.get("/playbooks/actions/")
        lead_page = client.get(f"/leads/{warm_sql.pk}/")
    assert page.status_code == 200
    assert page.context["due"][0].step_key == "warm:0:email"
    assert b"Nurture e-mail with a case study" in page.content
    assert b"Next best action" in lead_page.content
    assert b"score 65 (50-79: warm)" in lead_page.content


def test_the_rep_closes_an_action_from_the_page(client, warm_sql, sdr):
    with time_machine.travel(at(6, 10, 5), tick=False):
        next_actions_sweep()
        action = NextAction.objects.get(lead=warm_sql)
        client.force_login(sdr)
        response = client.post(f"/playbooks/actions/{action.pk}/close/", {"done": "1"})
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.state == "done"
    assert open_actions(warm_sql) == [("warm:0:email:no-reply", "call", at(9, 9))]


def test_another_rep_cannot_close_an_action(client, warm_sql, other_sdr):
    with time_machine.travel(at(6, 10, 5), tick=False):
        next_actions_sweep()
    action = NextAction.objects.get(lead=warm_sql)
    client.force_login(other_sdr)
    assert client.post(f"/playbooks/actions/{action.pk}/close/", {"done": "1"}).status_code == 404


def test_the_lead_api_lists_next_actions_to_whoever_sees_the_lead(client, warm_sql, sdr, other_sdr):
    with time_machine.travel(at(6, 10, 5), tick=False):
        next_actions_sweep()
    client.force_login(sdr)
    answer = client.get(f"/api/playbooks/leads/{warm_sql.pk}/next-actions/")
    assert answer.status_code == 200
    body = answer.json()
    rows = body["results"] if isinstance(body, dict) else body
    assert [(row["step_key"], row["state"]) for row in rows] == [("warm:0:email", "open")]
    client.force_login(other_sdr)
    assert client.get(f"/api/playbooks/leads/{warm_sql.pk}/next-actions/").status_code == 404


def test_a_manager_edits_the_teams_cadence_and_bad_rules_are_refused_by_field(client, manager, team):
    client.force_login(manager)
    bad = json.loads(json.dumps(CadenceRules.objects.get(team__isnull=True).rules))
    bad["cadence_days"]["smb"] = [5, 3]
    response = client.post("/playbooks/cadence/", {"team": str(team.pk), "rules": json.dumps(bad)})
    assert response.status_code == 200
    assert "cadence_days.smb" in response.context["problems"]
    assert not CadenceRules.objects.filter(team=team).exists()
    good = json.loads(json.dumps(bad))
    good["cadence_days"]["smb"] = [2, 4]
    assert client.post("/playbooks/cadence/", {"team": str(team.pk), "rules": json.dumps(good)}).status_code == 302
    assert CadenceRules.objects.get(team=team).rules["cadence_days"]["smb"] == [2, 4]
    # The defaults are the admins' to edit.
    assert client.post("/playbooks/cadence/", {"team": "default", "rules": json.dumps(good)}).status_code == 403


def test_the_teams_cadence_applies_to_its_reps_leads(sdr, team, manager):
    rules = json.loads(json.dumps(CadenceRules.objects.get(team__isnull=True).rules))
    rules["bands"][0]["steps"][0]["label"] = "Call within the hour"
    CadenceRules.objects.create(team=team, rules=rules)
    lead = LeadFactory(stage=Stage.SQL, owner=sdr, score_total=85, stage_changed_at=FRIDAY)
    with time_machine.travel(at(6, 10, 5), tick=False):
        next_actions_sweep()
    assert NextAction.objects.get(lead=lead).label == "Call within the hour"


def test_a_manager_edits_the_teams_coaching_targets(client, manager, team):
    client.force_login(manager)
    key = str(team.pk)
    values = {"call_minutes_min": 15, "call_minutes_max": 45, "questions_min": 6, "next_step_pct": 90}
    fields = {f"{key}-{name}": value for name, value in values.items()}
    refused = client.post(
        "/playbooks/coaching/targets/",
        {"team": key, **fields, f"{key}-call_minutes_min": 50, f"{key}-decision_maker_pct": 60},
    )
    assert refused.status_code == 200
    assert "call_minutes_max" in refused.context["editors"][0]["form"].errors
    response = client.post("/playbooks/coaching/targets/", {"team": key, **fields, f"{key}-decision_maker_pct": 60})
    assert response.status_code == 302
    row = CoachingTargets.objects.get(team=team)
    assert (
        row.call_minutes_min,
        row.call_minutes_max,
        row.questions_min,
        row.next_step_pct,
        row.decision_maker_pct,
    ) == (15, 45, 6, 90, 60)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "/playbooks/coaching/",
            {"ae": 200, "manager": 200, "admin": 200, "sdr": 403, "marketer": 403, "outsider": 403},
        ),
        ("/playbooks/coaching/targets/", {"manager": 200, "admin": 200, "ae": 403, "sdr": 403, "outsider": 403}),
        (
            "/playbooks/actions/",
            {"sdr": 200, "ae": 200, "manager": 200, "marketer": 403, "admin": 403, "outsider": 403},
        ),
        ("/playbooks/cadence/", {"manager": 200, "admin": 200, "sdr": 403, "ae": 403, "marketer": 403}),
        (
            "/api/playbooks/coaching/",
            {"ae": 200, "manager": 200, "admin": 200, "sdr": 403, "marketer": 403, "outsider": 403},
        ),
    ],
)
def test_who_may_open_what(client, cast, url, expected):
    for who, status in expected.items():
        client.force_login(cast[who])
        assert client.get(url).status_code == status, (who, url)
    client.logout()
    assert client.get(url).status_code in (302, 401, 403)
