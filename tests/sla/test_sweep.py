"""The sweep: breaches, escalation ladders, reassignment and auto-accept, idempotent and resumable."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings

from leadops.models import AuditEntry, Notification, StageTransition
from leadops.rules import Stage
from leadops.services import activity_log, lead_transition
from sla import services
from sla.models import SlaClock, SlaEscalation
from sla.services import clock_escalate, due_clock_ids, sla_sweep
from sla.tasks import sla_sweep as sla_sweep_task
from tests.sla.conftest import berlin, new_sql

pytestmark = pytest.mark.django_db

MONDAY_10 = berlin(2026, 11, 30, 10, 0)


def clock_of(lead, key, owner=None):
    clocks = SlaClock.objects.filter(lead=lead, policy__key=key)
    if owner is not None:
        clocks = clocks.filter(owner=owner)
    return clocks.get()


def steps_of(clock):
    return list(clock.escalations.values_list("action", flat=True))


def test_a_hot_lead_not_contacted_in_time_is_breached_escalated_and_then_reassigned(
    germany, sdr, manager, route, at_time
):
    lead = new_sql(at=MONDAY_10, temperature="hot")
    route(lead, MONDAY_10)

    assert at_time(berlin(2026, 11, 30, 10, 4), sla_sweep).steps == 0

    result = at_time(berlin(2026, 11, 30, 10, 5), sla_sweep)
    assert (result.clocks, result.steps) == (1, 3)
    contact = clock_of(lead, "contact-hot")
    assert (contact.state, contact.breached_at, contact.escalation_step) == ("breached", berlin(2026, 11, 30, 10, 5), 3)
    assert steps_of(contact) == ["breach", "notify_owner", "notify_manager"]
    assert contact.next_step_at == berlin(2026, 11, 30, 10, 10)  # reassign at twice the target
    owner_note = Notification.objects.get(recipient=sdr, kind="sla_breach")
    assert owner_note.lead == lead and "Time to contact, hot lead" in owner_note.message
    manager_note = Notification.objects.get(recipient=manager, kind="sla_escalation")
    assert manager_note.lead == lead
    assert set(AuditEntry.objects.filter(action__startswith="sla.").values_list("action", flat=True)) >= {
        "sla.breach",
        "sla.notify_owner",
        "sla.notify_manager",
    }

    # the same minute again: nothing more
    assert at_time(berlin(2026, 11, 30, 10, 5, 30), sla_sweep).steps == 0
    assert Notification.objects.filter(kind__in=["sla_breach", "sla_escalation"]).count() == 2

    result = at_time(berlin(2026, 11, 30, 10, 10), sla_sweep)
    assert result.actions == {"reassign": 1}
    lead.refresh_from_db()
    assert lead.owner == germany.gina
    contact.refresh_from_db()
    assert (contact.state, contact.stopped_at, contact.next_step_at) == ("breached", berlin(2026, 11, 30, 10, 10), None)
    assert contact.escalations.get(step=3).detail == "reassigned through routing to Gina"
    assert clock_of(lead, "sdr-accept-reject", owner=sdr).state == "cancelled"
    fresh = clock_of(lead, "contact-hot", owner=germany.gina)
    assert (fresh.state, fresh.due_at) == ("open", berlin(2026, 11, 30, 10, 15))


@pytest.mark.parametrize(
    ("temperature", "fast_tracked", "key", "due"),
    [
        ("warm", False, "contact-warm", berlin(2026, 11, 30, 10, 15)),
        ("cold", False, "contact-cold", berlin(2026, 12, 1, 10, 0)),
        ("hot", True, "hand-raiser-follow-up", berlin(2026, 11, 30, 14, 0)),
    ],
)
def test_contact_and_follow_up_clocks_met_in_time_take_no_step(
    germany, sdr, route, at_time, temperature, fast_tracked, key, due
):
    lead = new_sql(at=MONDAY_10, temperature=temperature, fast_tracked=fast_tracked)
    route(lead, MONDAY_10)
    at_time(due, activity_log, lead=lead, rep=sdr, kind="call", occurred_at=due)  # exactly at the due time
    at_time(due + dt.timedelta(days=1), sla_sweep)
    clock = clock_of(lead, key)
    assert (clock.state, clock.met_at, steps_of(clock)) == ("met", due, [])


@pytest.mark.parametrize(
    ("temperature", "fast_tracked", "key", "due"),
    [
        ("warm", False, "contact-warm", berlin(2026, 11, 30, 10, 15)),
        ("cold", False, "contact-cold", berlin(2026, 12, 1, 10, 0)),
        # cold: its 24-hour contact clock does not reassign the lead before the 4-hour follow-up is due
        ("cold", True, "hand-raiser-follow-up", berlin(2026, 11, 30, 14, 0)),
    ],
)
def test_contact_and_follow_up_clocks_breach_at_their_due_time(
    germany, sdr, route, at_time, temperature, fast_tracked, key, due
):
    lead = new_sql(at=MONDAY_10, temperature=temperature, fast_tracked=fast_tracked)
    route(lead, MONDAY_10)
    at_time(due - dt.timedelta(seconds=1), sla_sweep)
    assert clock_of(lead, key).state == "open"
    at_time(due, sla_sweep)
    clock = clock_of(lead, key)
    assert (clock.state, steps_of(clock)) == ("breached", ["breach", "notify_owner", "notify_manager"])


def test_ae_review_and_rejection_rationale_breach_and_notify(germany, sdr, manager, route, at_time):
    accepted, rejected = new_sql(at=MONDAY_10), new_sql(at=MONDAY_10)
    route(accepted, MONDAY_10)
    route(rejected, MONDAY_10)
    for lead in (accepted, rejected):
        at_time(MONDAY_10, activity_log, lead=lead, rep=lead.owner or sdr, kind="call", occurred_at=MONDAY_10)
    accepted.refresh_from_db()
    rejected.refresh_from_db()
    at_time(MONDAY_10, lead_transition, lead=accepted, to=Stage.ACCEPTED, by=accepted.owner, at=MONDAY_10)
    at_time(MONDAY_10, lead_transition, lead=rejected, to=Stage.REJECTED, by=rejected.owner, reason="student")
    review, rationale = clock_of(accepted, "ae-review"), clock_of(rejected, "rejection-rationale")
    assert review.due_at == berlin(2026, 12, 1, 10, 0)  # 1 business day: Monday 7 h + Tuesday 1 h
    assert rationale.due_at == berlin(2026, 12, 2, 10, 0)
    at_time(berlin(2026, 12, 2, 10, 0), sla_sweep)
    for clock in (review, rationale):
        clock.refresh_from_db()
        assert (clock.state, steps_of(clock)) == ("breached", ["breach", "notify_owner", "notify_manager"])


@pytest.mark.parametrize(
    ("assigned", "due"),
    [
        # a weekend: Friday 2 h, Monday 8 h, Tuesday 6 h
        (berlin(2026, 11, 27, 15, 0), berlin(2026, 12, 1, 15, 0)),
        # Christmas: Thursday 24th 1 h, Friday 25th and Saturday 26th are public holidays, Monday 8 h, Tuesday 7 h
        (berlin(2026, 12, 24, 16, 0), berlin(2026, 12, 29, 16, 0)),
        # the spring daylight-saving weekend: Friday 3 h (CET), Monday 8 h, Tuesday 5 h -> 14:00 CEST (12:00 UTC)
        (berlin(2026, 3, 27, 14, 0), berlin(2026, 3, 31, 14, 0)),
    ],
    ids=["weekend", "public-holiday", "dst-change"],
)
def test_an_sql_left_waiting_two_business_days_is_auto_accepted(germany, sdr, ae, route, at_time, assigned, due):
    lead = new_sql(at=assigned)
    route(lead, assigned)
    at_time(assigned, activity_log, lead=lead, rep=sdr, kind="call", occurred_at=assigned)
    accept = clock_of(lead, "sdr-accept-reject")
    assert accept.due_at == due

    at_time(due - dt.timedelta(minutes=1), sla_sweep)
    lead.refresh_from_db()
    assert lead.stage == Stage.SQL

    at_time(due, sla_sweep)
    lead.refresh_from_db()
    assert (lead.stage, lead.accepted_at) == (Stage.ACCEPTED, due)
    transition = StageTransition.objects.get(lead=lead, to_stage=Stage.ACCEPTED)
    assert (transition.by_system, transition.reason) == ("sla", "auto-accepted: SDR accept/reject SLA breached")
    accept.refresh_from_db()
    assert (accept.state, accept.stopped_at) == ("breached", due)
    assert steps_of(accept) == ["breach", "notify_owner", "notify_manager", "auto_accept"]
    # Accepted as the SDR's button would: handed to the team's AE, whose review clock runs.
    assert (lead.owner, lead.sdr) == (ae, sdr)
    review = clock_of(lead, "ae-review")
    assert (review.state, review.owner) == ("open", ae)
    assert accept.escalations.get(action="auto_accept").detail.endswith(f"handed to {ae.get_full_name()}")


def test_an_sql_accepted_by_hand_before_its_due_time_is_not_auto_accepted(germany, sdr, route, at_time):
    lead = new_sql(at=MONDAY_10)
    route(lead, MONDAY_10)
    at_time(MONDAY_10, lead_transition, lead=lead, to=Stage.REJECTED, by=sdr, reason="wrong market")
    at_time(berlin(2026, 12, 10, 10, 0), sla_sweep)
    lead.refresh_from_db()
    assert lead.stage == Stage.REJECTED
    assert steps_of(clock_of(lead, "sdr-accept-reject")) == []


def test_a_duplicate_or_concurrent_sweep_takes_no_step_twice(germany, route, at_time):
    leads = [new_sql(at=MONDAY_10, temperature="hot") for _ in range(3)]
    for lead in leads:
        route(lead, MONDAY_10)
    now = berlin(2026, 11, 30, 10, 6)
    # a second sweep read the same clocks before the first one acted on them
    seen_by_second_sweep = list(SlaClock.objects.filter(pk__in=due_clock_ids(now=now)).select_related("lead"))
    assert len(seen_by_second_sweep) == 3
    assert at_time(now, sla_sweep).steps == 9
    for stale in seen_by_second_sweep:
        assert stale.escalation_step == 0
        assert at_time(now, clock_escalate, clock_id=stale.pk, now=now, clock=stale) == []
    assert at_time(now, sla_sweep).steps == 0
    assert SlaEscalation.objects.count() == 9
    assert Notification.objects.filter(kind__in=["sla_breach", "sla_escalation"]).count() == 6


def test_a_sweep_killed_after_the_first_clock_loses_nothing_and_the_next_one_finishes(
    germany, route, at_time, monkeypatch
):
    leads = [new_sql(at=MONDAY_10, temperature="hot") for _ in range(3)]
    for lead in leads:
        route(lead, MONDAY_10)
    now = berlin(2026, 11, 30, 10, 6)
    real = services.clock_escalate
    calls = []

    def dies_after_the_first(*, clock_id, **kwargs):
        if calls:
            raise SystemExit("worker killed")
        calls.append(clock_id)
        return real(clock_id=clock_id, **kwargs)

    monkeypatch.setattr(services, "clock_escalate", dies_after_the_first)
    with pytest.raises(SystemExit):
        at_time(now, sla_sweep)
    assert SlaEscalation.objects.count() == 3
    assert SlaEscalation.objects.filter(clock_id=calls[0]).count() == 3

    monkeypatch.setattr(services, "clock_escalate", real)
    assert at_time(now, sla_sweep).steps == 6
    assert SlaEscalation.objects.count() == 9
    for lead in leads:
        assert steps_of(clock_of(lead, "contact-hot")) == ["breach", "notify_owner", "notify_manager"]


def test_steps_that_fail_are_taken_again_by_the_next_sweep_and_only_once(
    germany, sdr, manager, route, at_time, monkeypatch
):
    from leadops import notifications

    lead = new_sql(at=MONDAY_10, temperature="hot")
    route(lead, MONDAY_10)
    now = berlin(2026, 11, 30, 10, 6)
    real = notifications.notifications_send

    def mail_server_down(drafts, **kwargs):
        if any(draft.kind == "sla_escalation" for draft in drafts):
            raise ConnectionError("down")
        return real(drafts, **kwargs)

    monkeypatch.setattr(notifications, "notifications_send", mail_server_down)
    with pytest.raises(ConnectionError):
        at_time(now, sla_sweep)
    clock = clock_of(lead, "contact-hot")
    # the clock's steps are taken together or not at all
    assert (clock.state, clock.escalation_step, steps_of(clock)) == ("open", 0, [])
    assert not Notification.objects.filter(kind__in=["sla_breach", "sla_escalation"]).exists()

    monkeypatch.setattr(notifications, "notifications_send", real)
    assert at_time(now, sla_sweep).actions == {"breach": 1, "notify_owner": 1, "notify_manager": 1}
    assert Notification.objects.filter(recipient=sdr, kind="sla_breach").count() == 1
    assert Notification.objects.filter(recipient=manager, kind="sla_escalation").count() == 1


def test_beat_runs_the_sweep_every_minute_as_a_late_acknowledged_task(germany, route, at_time):
    entry = settings.CELERY_BEAT_SCHEDULE["sla-sweep"]
    assert (entry["task"], entry["schedule"]) == ("sla.tasks.sla_sweep", 60.0)
    assert sla_sweep_task.name == "sla.tasks.sla_sweep" and sla_sweep_task.acks_late
    lead = new_sql(at=MONDAY_10, temperature="hot")
    route(lead, MONDAY_10)
    result = at_time(berlin(2026, 11, 30, 10, 5), lambda: sla_sweep_task.delay().get())
    assert result == {"clocks": 1, "steps": 3}


def test_a_clock_paused_after_the_sweep_read_it_takes_no_step(germany, route, at_time):
    lead = new_sql(at=MONDAY_10, temperature="hot")
    route(lead, MONDAY_10)
    now = berlin(2026, 11, 30, 10, 6)
    seen_by_the_sweep = clock_of(lead, "contact-hot")
    # an ownership dispute opened meanwhile pauses the owner's clocks
    services.clocks_pause(lead_id=lead.pk, at=berlin(2026, 11, 30, 10, 5, 30), reason="ownership dispute 1")

    assert at_time(now, clock_escalate, clock_id=seen_by_the_sweep.pk, now=now, clock=seen_by_the_sweep) == []

    clock = clock_of(lead, "contact-hot")
    assert (clock.state, clock.escalation_step, clock.next_step_at) == ("open", 0, None)
    assert clock.paused_at == berlin(2026, 11, 30, 10, 5, 30)
    assert steps_of(clock) == []
