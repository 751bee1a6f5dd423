"""Paused clocks: while an ownership dispute on a lead is open, the owner's other clocks stand still and take no step;
resolved, they resume with the business (or wall-clock) time they had left, on the same calendar.

The cast's team works a German territory, 09:00-17:00 Monday to Friday in Berlin (tests/sla/conftest.py). Every due
time below is worked out by hand in the comment above it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from leadops.models import AuditEntry, Lead
from routing.services_disputes import dispute_open, dispute_resolve
from sla import rules
from sla.models import SlaClock, SlaEscalation
from sla.panels import lead_sla_panel
from sla.selectors import team_board
from sla.services import clock_start, clocks_for_dispute, clocks_pause, clocks_resume, sla_sweep
from tests.factories import LeadFactory
from tests.sla.conftest import berlin, new_sql

pytestmark = pytest.mark.django_db

THURSDAY_10 = berlin(2026, 12, 3, 10, 0)
FRIDAY_15 = berlin(2026, 12, 4, 15, 0)
MONDAY_11 = berlin(2026, 12, 7, 11, 0)


def clocks(lead, owner=None):
    found = SlaClock.objects.filter(lead=lead).select_related("policy")
    if owner is not None:
        found = found.filter(owner=owner)
    return {clock.policy.key: clock for clock in found}


def times(clock):
    return [(dt.datetime.fromisoformat(at), action) for at, action in clock.schedule]


@pytest.fixture
def disputed(germany, sdr, route, at_time):
    """A cold SQL routed to the SDR on Thursday 10:00; the contact clock breached on Friday 10:00; the SDR disputes
    the assignment on Friday 15:00."""
    lead = new_sql(at=THURSDAY_10, temperature="cold")
    route(lead, THURSDAY_10)
    lead.refresh_from_db()
    assert lead.owner == sdr
    friday_10 = berlin(2026, 12, 4, 10, 0)
    at_time(friday_10, sla_sweep, now=friday_10)
    dispute = at_time(FRIDAY_15, dispute_open, lead=lead, by=sdr, reason="Globex is Ana's account", now=FRIDAY_15)
    return lead, dispute


# --- the pure rule ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("taken", "paused_at", "expected"),
    [
        # 3 min left to the breach, 8 to the reassignment: the same left after a resumption the next morning
        (0, berlin(2026, 11, 30, 10, 2), [berlin(2026, 12, 1, 9, 3), berlin(2026, 12, 1, 9, 8)]),
        # the breach was taken: it keeps its time, the reassignment still had 8 minutes
        (1, berlin(2026, 11, 30, 10, 2), [berlin(2026, 11, 30, 10, 5), berlin(2026, 12, 1, 9, 8)]),
        # paused at 10:07, after the breach fell due: it stays due (taken at once), the reassignment had 3 minutes
        (0, berlin(2026, 11, 30, 10, 7), [berlin(2026, 11, 30, 10, 5), berlin(2026, 12, 1, 9, 3)]),
    ],
)
def test_a_resumed_schedule_keeps_what_was_due_and_moves_what_was_left(taken, paused_at, expected):
    schedule = [(berlin(2026, 11, 30, 10, 5), "breach"), (berlin(2026, 11, 30, 10, 10), "reassign")]
    resumed = rules.schedule_resumed(
        schedule=schedule,
        taken=taken,
        paused_at=paused_at,
        resumed_at=berlin(2026, 12, 1, 9, 0),
        between=rules.wall_clock_between,
        add=rules.wall_clock_add,
    )
    assert resumed == list(zip(expected, ["breach", "reassign"], strict=True))


# --- pausing ----------------------------------------------------------------------------------------------------------


def test_an_open_dispute_pauses_the_owners_clocks_but_not_its_own(disputed, sdr):
    lead, _dispute = disputed
    found = clocks(lead)
    accept, contact, dispute_clock = found["sdr-accept-reject"], found["contact-cold"], found["dispute-resolution"]
    # Accept / reject, 16 business hours from Thursday 10:00: Thursday 7 h, Friday 8 h, Monday 1 h -> Monday 10:00.
    # Paused on Friday 15:00 with Friday 15:00-17:00 and Monday 09:00-10:00 left: 3 hours.
    assert (accept.state, accept.due_at, accept.paused_at) == ("open", berlin(2026, 12, 7, 10, 0), FRIDAY_15)
    assert (accept.remaining, accept.next_step_at) == (dt.timedelta(hours=3), None)
    # Contact, 24 wall-clock hours: breached Friday 10:00 (owner and manager told); the reassignment at twice the
    # target, Saturday 10:00, was 19 hours away.
    assert (contact.state, contact.escalation_step, contact.paused_at) == ("breached", 3, FRIDAY_15)
    assert (contact.remaining, contact.next_step_at) == (dt.timedelta(hours=19), None)
    # The dispute's own clock runs: 48 hours on the wall clock.
    assert (dispute_clock.owner, dispute_clock.paused_at) == (sdr, None)
    assert dispute_clock.next_step_at == berlin(2026, 12, 6, 15, 0)
    entry = AuditEntry.objects.get(action="sla.clock_pause")
    assert entry.changes == {"remaining": {str(accept.pk): "3:00:00", str(contact.pk): "19:00:00"}}


def test_a_paused_clock_takes_no_sweep_step(disputed, at_time):
    lead, _dispute = disputed
    monday_1030 = berlin(2026, 12, 7, 10, 30)  # past the accept clock's old due time and the contact reassignment
    at_time(monday_1030, sla_sweep, now=monday_1030)
    found = clocks(lead)
    assert (found["sdr-accept-reject"].state, found["sdr-accept-reject"].escalation_step) == ("open", 0)
    assert (found["contact-cold"].escalation_step, found["contact-cold"].state) == (3, "breached")
    lead.refresh_from_db()
    assert lead.stage == "sql"  # not auto-accepted
    assert not SlaEscalation.objects.filter(clock=found["sdr-accept-reject"]).exists()
    # ... while the dispute's own clock breaches at its 48 hours
    assert found["dispute-resolution"].state == "breached"


def test_resolving_resumes_with_the_time_left_across_the_weekend(disputed, admin_user, at_time):
    lead, dispute = disputed
    at_time(
        MONDAY_11,
        dispute_resolve,
        dispute=dispute,
        by=admin_user,
        outcome="keep",
        note="The SDR keeps it",
        now=MONDAY_11,
    )
    found = clocks(lead)
    accept, contact = found["sdr-accept-reject"], found["contact-cold"]
    # 3 business hours from Monday 11:00 -> Monday 14:00; every step of its ladder falls at the breach.
    monday_14 = berlin(2026, 12, 7, 14, 0)
    assert (accept.due_at, accept.next_step_at, accept.paused_at, accept.remaining) == (
        monday_14,
        monday_14,
        None,
        None,
    )
    assert times(accept) == [
        (monday_14, "breach"),
        (monday_14, "notify_owner"),
        (monday_14, "notify_manager"),
        (monday_14, "auto_accept"),
    ]
    # The breached contact clock keeps its breach; its reassignment had 19 hours: Monday 11:00 + 19 h.
    tuesday_06 = berlin(2026, 12, 8, 6, 0)
    assert (contact.state, contact.due_at, contact.next_step_at) == ("breached", berlin(2026, 12, 4, 10, 0), tuesday_06)
    assert times(contact)[3] == (tuesday_06, "reassign")
    taken = [(berlin(2026, 12, 4, 10, 0), action) for action in ("breach", "notify_owner", "notify_manager")]
    assert times(contact)[:3] == taken
    assert found["dispute-resolution"].state == "breached"  # stopped late: it was due on Sunday 15:00
    resumed = AuditEntry.objects.get(action="sla.clock_resume")
    assert resumed.reason == f"resumed: ownership dispute {dispute.pk} resolved: Kept with the rep"


def test_a_resumed_clock_breaches_at_its_new_due_time(disputed, admin_user, at_time):
    lead, dispute = disputed
    at_time(MONDAY_11, dispute_resolve, dispute=dispute, by=admin_user, outcome="keep", note="Keep", now=MONDAY_11)
    before = berlin(2026, 12, 7, 13, 59)
    at_time(before, sla_sweep, now=before)
    assert clocks(lead)["sdr-accept-reject"].state == "open"
    due = berlin(2026, 12, 7, 14, 0)
    at_time(due, sla_sweep, now=due)
    accept = clocks(lead)["sdr-accept-reject"]
    assert (accept.state, accept.breached_at) == ("breached", due)
    lead.refresh_from_db()
    assert lead.stage == "accepted"  # the policy's last step, taken at the new due time


def test_a_wall_clock_clock_resumes_with_the_minutes_it_had_left(germany, sdr, admin_user, route, at_time):
    monday_10 = berlin(2026, 11, 30, 10, 0)
    lead = new_sql(at=monday_10, temperature="hot")
    route(lead, monday_10)
    lead.refresh_from_db()
    opened = berlin(2026, 11, 30, 10, 2)
    dispute = at_time(opened, dispute_open, lead=lead, by=sdr, reason="Not my territory", now=opened)
    resolved = berlin(2026, 12, 1, 9, 0)
    at_time(resolved, dispute_resolve, dispute=dispute, by=admin_user, outcome="keep", note="Keep", now=resolved)
    found = clocks(lead)
    contact, accept = found["contact-hot"], found["sdr-accept-reject"]
    # 5 minutes from 10:00, paused at 10:02: 3 minutes left -> Tuesday 09:03; the reassignment (10:10) had 8 -> 09:08.
    assert contact.due_at == berlin(2026, 12, 1, 9, 3)
    assert [at for at, _action in times(contact)] == [berlin(2026, 12, 1, 9, 3)] * 3 + [berlin(2026, 12, 1, 9, 8)]
    # Accept / reject was due Wednesday 10:00; paused Monday 10:02 with 6 h 58 min of Monday, Tuesday's 8 h and
    # Wednesday's first hour left (15 h 58 min); from Tuesday 09:00: Tuesday 8 h, then 7 h 58 min -> Wednesday 16:58.
    assert accept.due_at == berlin(2026, 12, 2, 16, 58)


def test_a_dispute_moving_the_lead_cancels_the_old_owners_paused_clocks_and_starts_the_new_owners(
    disputed, sdr, germany, admin_user, at_time
):
    lead, dispute = disputed
    gina = germany.gina
    at_time(
        MONDAY_11, dispute_resolve, dispute=dispute, by=admin_user, outcome="move", note="Gina's", other_rep=gina,
        now=MONDAY_11,
    )  # fmt: skip
    old = clocks(lead, owner=sdr)
    assert (old["sdr-accept-reject"].state, old["sdr-accept-reject"].outcome) == ("cancelled", "reassigned to gina")
    assert (old["contact-cold"].state, old["contact-cold"].stopped_at) == ("breached", MONDAY_11)
    assert not any(clock.is_paused for clock in old.values())
    new = clocks(lead, owner=gina)
    assert set(new) == {"contact-cold", "sdr-accept-reject"}
    assert all((clock.started_at, clock.paused_at, clock.state) == (MONDAY_11, None, "open") for clock in new.values())
    # Fresh: 24 wall-clock hours from Monday 11:00.
    assert new["contact-cold"].due_at == berlin(2026, 12, 8, 11, 0)
    # A reassignment by hand has no territory, so the accept clock counts on the default calendar, 09:00-17:00 UTC:
    # from 10:00 UTC Monday 7 h, Tuesday 8 h, Wednesday 1 h -> Wednesday 10:00 UTC.
    assert new["sdr-accept-reject"].due_at == dt.datetime(2026, 12, 9, 10, 0, tzinfo=dt.UTC)


def test_resuming_closes_the_paused_clocks_of_someone_who_no_longer_owns_the_lead(disputed, sdr, germany):
    # The reassignment's own clean-up runs in a worker and may come after the dispute's resolution.
    lead, _dispute = disputed
    Lead.objects.filter(pk=lead.pk).update(owner=germany.gina)
    assert clocks_resume(lead_id=lead.pk, at=MONDAY_11, reason="dispute resolved") == 0
    old = clocks(lead, owner=sdr)
    assert (old["sdr-accept-reject"].state, old["sdr-accept-reject"].outcome) == ("cancelled", "reassigned to gina")
    assert (old["contact-cold"].state, old["contact-cold"].stopped_at) == ("breached", MONDAY_11)
    assert old["dispute-resolution"].stopped_at is None  # RevOps' clock, stopped by the resolution itself


def test_the_dispute_signals_run_twice_pause_and_resume_once(disputed, admin_user, at_time):
    lead, dispute = disputed
    clocks_for_dispute(dispute_id=dispute.pk, status="open")
    accept = clocks(lead)["sdr-accept-reject"]
    assert (accept.paused_at, accept.remaining) == (FRIDAY_15, dt.timedelta(hours=3))
    assert AuditEntry.objects.filter(action="sla.clock_pause").count() == 1
    at_time(MONDAY_11, dispute_resolve, dispute=dispute, by=admin_user, outcome="keep", note="Keep", now=MONDAY_11)
    clocks_for_dispute(dispute_id=dispute.pk, status="resolved")
    clocks_for_dispute(dispute_id=dispute.pk, status="open")  # late: the dispute is resolved, nothing pauses
    accept = clocks(lead)["sdr-accept-reject"]
    assert (accept.due_at, accept.paused_at) == (berlin(2026, 12, 7, 14, 0), None)
    assert AuditEntry.objects.filter(action="sla.clock_resume").count() == 1


def test_a_calendar_that_can_no_longer_reach_the_time_left_resumes_on_the_default_calendar(
    disputed, germany, admin_user, at_time
):
    lead, dispute = disputed
    # During the pause the territory's calendar is cut down to one hour on Mondays, and every Monday from the day
    # the dispute is resolved for twenty years is a day off: no working hour is left to count the 3 hours on.
    mondays = [(dt.date(2026, 12, 7) + dt.timedelta(weeks=week)).isoformat() for week in range(21 * 53)]
    germany.calendar = {"time_zone": "UTC", "weekly_hours": {"mon": [["09:00", "10:00"]]}, "holidays": mondays}
    germany.save(update_fields=["calendar"])
    resolved = dt.datetime(2026, 12, 7, 16, 30, tzinfo=dt.UTC)
    at_time(resolved, dispute_resolve, dispute=dispute, by=admin_user, outcome="keep", note="Keep", now=resolved)
    accept = clocks(lead)["sdr-accept-reject"]
    # The default 09:00-17:00 UTC: Monday 16:30-17:00, then 2 h 30 min on Tuesday -> Tuesday 11:30 UTC.
    assert (accept.paused_at, accept.due_at) == (None, dt.datetime(2026, 12, 8, 11, 30, tzinfo=dt.UTC))
    entry = AuditEntry.objects.get(action="sla.clock_resume")
    assert entry.changes["clocks"][str(accept.pk)]["calendar"].startswith("the lead's calendar cannot reach it")


def test_a_clock_of_an_unowned_lead_is_not_paused(policies, sdr):
    lead = LeadFactory(owner=None, stage="sql")
    clock_start(lead=lead, policy=policies["contact-cold"], owner_id=sdr.pk, started_at=FRIDAY_15)
    assert clocks_pause(lead_id=lead.pk, at=FRIDAY_15, reason="a dispute") == 0


# --- the pages --------------------------------------------------------------------------------------------------------


def test_the_lead_panel_and_my_clocks_say_paused(client, disputed, sdr):
    lead, _dispute = disputed
    _order, html = lead_sla_panel(None, lead=lead, user=sdr, request=None)
    assert html.count('data-testid="clock-paused"') == 2
    assert "3 h 0 min left" in html and "19 h 0 min left to the next step" in html
    assert "paused 2026-12-04 14:00 while the ownership dispute is open" in html  # 15:00 Berlin is 14:00 UTC
    client.force_login(sdr)
    page = client.get(reverse("sla:my_clocks")).content.decode()
    assert page.count('data-testid="clock-paused"') == 2
    assert page.count("paused since 2026-12-04 14:00") == 2


def test_the_lead_panel_still_costs_two_queries_with_paused_clocks(disputed, sdr, django_assert_num_queries):
    lead, _dispute = disputed
    with django_assert_num_queries(2):
        lead_sla_panel(None, lead=lead, user=sdr, request=None)


def test_a_paused_clock_is_not_at_risk_on_the_team_board(policies, sdr, manager):
    now = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)
    lead = LeadFactory(owner=sdr, stage="sql")
    clock_start(lead=lead, policy=policies["contact-warm"], owner_id=sdr.pk, started_at=now)  # due 10:15
    assert len(team_board(user=manager, now=now)["at_risk"]) == 1
    assert clocks_pause(lead_id=lead.pk, at=now, reason="a dispute") == 1
    assert team_board(user=manager, now=now)["at_risk"] == []


def test_accepting_during_the_pause_after_the_old_due_time_meets_the_accept_clock(disputed, sdr, at_time):
    from leadops.services import lead_transition

    lead, _dispute = disputed
    # The accept clock was due Monday 10:00 before the pause (Friday 15:00, 3 business hours left); it stood still
    # since, so accepting on Monday 10:30 while the dispute is still open is on time.
    monday_1030 = berlin(2026, 12, 7, 10, 30)
    at_time(monday_1030, lead_transition, lead=lead, to="accepted", by=sdr, reason="accepted")
    accept = clocks(lead, owner=sdr)["sdr-accept-reject"]
    assert (accept.state, accept.met_at, accept.breached_at) == ("met", monday_1030, None)
