"""Clocks started and stopped by what happens to a lead: routing, activities, the lifecycle; policy changes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from leadops.models import AuditEntry
from leadops.rules import Stage
from leadops.services import activity_log, lead_transition
from routing.services import lead_reassign
from sla.calendars import DEFAULT_REASON
from sla.models import SlaClock, SlaPolicy
from sla.services import clock_start, sla_policy_change_approve, sla_policy_save
from tests.sla.conftest import berlin, new_sql

pytestmark = pytest.mark.django_db

MONDAY_10 = berlin(2026, 11, 30, 10, 0)


def clocks(lead):
    return {clock.policy.key: clock for clock in SlaClock.objects.filter(lead=lead).select_related("policy")}


def test_assignment_starts_the_contact_clock_by_temperature_and_the_accept_clock_in_business_time(germany, sdr, route):
    lead = new_sql(at=MONDAY_10, temperature="hot")
    route(lead, MONDAY_10)
    started = clocks(lead)
    assert set(started) == {"contact-hot", "sdr-accept-reject"}
    contact, accept = started["contact-hot"], started["sdr-accept-reject"]
    assert (contact.owner, contact.state, contact.started_at) == (sdr, "open", MONDAY_10)
    assert contact.due_at == berlin(2026, 11, 30, 10, 5)
    assert contact.calendar_note == "wall clock"
    # 16 working hours of 09:00-17:00: Monday 7 h, Tuesday 8 h, Wednesday 1 h
    assert accept.due_at == berlin(2026, 12, 2, 10, 0)
    assert accept.calendar_note == "calendar of territory Germany"
    assert [action for _at, action in accept.schedule] == ["breach", "notify_owner", "notify_manager", "auto_accept"]


@pytest.mark.parametrize(
    ("temperature", "key", "due"),
    [
        ("warm", "contact-warm", berlin(2026, 11, 30, 10, 15)),
        ("cold", "contact-cold", berlin(2026, 12, 1, 10, 0)),
        ("", "contact-cold", berlin(2026, 12, 1, 10, 0)),  # never scored: treated as cold
    ],
)
def test_contact_target_follows_the_temperature(germany, route, temperature, key, due):
    lead = new_sql(at=MONDAY_10, temperature=temperature)
    route(lead, MONDAY_10)
    assert clocks(lead)[key].due_at == due


def test_a_fast_tracked_hand_raiser_also_gets_the_four_hour_follow_up(germany, route):
    lead = new_sql(at=MONDAY_10, temperature="warm", fast_tracked=True)
    route(lead, MONDAY_10)
    started = clocks(lead)
    assert set(started) == {"contact-warm", "hand-raiser-follow-up", "sdr-accept-reject"}
    assert started["hand-raiser-follow-up"].due_at == berlin(2026, 11, 30, 14, 0)


def test_routing_the_same_lead_twice_starts_no_second_clock(germany, route):
    lead = new_sql(at=MONDAY_10)
    route(lead, MONDAY_10)
    route(lead, MONDAY_10 + dt.timedelta(minutes=1))
    assert SlaClock.objects.filter(lead=lead).count() == 2


def test_a_lead_without_territory_counts_business_time_on_the_default_calendar(germany, ae, route, policies):
    # A named account's owner takes the lead whatever the territories say: no territory on the decision.
    lead = new_sql(at=MONDAY_10, named_owner=ae, score=90)
    decision = route(lead, MONDAY_10)
    assert decision.territory is None and decision.assignee == ae
    accept = clocks(lead)["sdr-accept-reject"]
    assert accept.calendar_note == DEFAULT_REASON
    # 09:00-17:00 UTC; Monday 10:00 Berlin is 09:00 UTC: Monday 8 h, Tuesday 8 h -> Tuesday 17:00 UTC
    assert accept.due_at == dt.datetime(2026, 12, 1, 17, 0, tzinfo=dt.UTC)


def test_the_owners_first_activity_meets_the_contact_clock(germany, sdr, route, at_time):
    lead = new_sql(at=MONDAY_10, temperature="hot")
    route(lead, MONDAY_10)
    at = berlin(2026, 11, 30, 10, 4)
    at_time(at, activity_log, lead=lead, rep=sdr, kind="call", occurred_at=at)
    started = clocks(lead)
    assert (started["contact-hot"].state, started["contact-hot"].met_at) == ("met", at)
    assert started["contact-hot"].outcome == "first activity logged"
    assert started["sdr-accept-reject"].state == "open"
    lead.refresh_from_db()
    assert (lead.first_activity_at, lead.last_activity_at) == (at, at)


def test_someone_elses_activity_does_not_stop_the_owners_contact_clock(germany, sdr, route, at_time):
    lead = new_sql(at=MONDAY_10, temperature="hot")
    route(lead, MONDAY_10)
    at = berlin(2026, 11, 30, 10, 2)
    at_time(at, activity_log, lead=lead, rep=germany.gina, kind="email", occurred_at=at)
    assert clocks(lead)["contact-hot"].state == "open"


def test_an_activity_after_the_due_time_is_a_breach_even_before_the_sweep(germany, sdr, route, at_time):
    lead = new_sql(at=MONDAY_10, temperature="hot")
    route(lead, MONDAY_10)
    at = berlin(2026, 11, 30, 10, 6)
    at_time(at, activity_log, lead=lead, rep=sdr, kind="call", occurred_at=at)
    contact = clocks(lead)["contact-hot"]
    assert (contact.state, contact.breached_at, contact.stopped_at, contact.met_at) == (
        "breached",
        berlin(2026, 11, 30, 10, 5),
        at,
        None,
    )


def test_accepting_meets_the_accept_clock_and_starts_the_ae_review(germany, sdr, route, at_time):
    lead = new_sql(at=MONDAY_10)
    route(lead, MONDAY_10)
    at = berlin(2026, 12, 1, 16, 0)
    at_time(at, lead_transition, lead=lead, to=Stage.ACCEPTED, by=sdr, at=at)
    started = clocks(lead)
    assert (started["sdr-accept-reject"].state, started["sdr-accept-reject"].met_at) == ("met", at)
    review = started["ae-review"]
    # 8 working hours from Tuesday 16:00: 1 h on Tuesday, 7 h on Wednesday
    assert (review.owner, review.state, review.due_at) == (sdr, "open", berlin(2026, 12, 2, 16, 0))


def test_the_ae_opening_an_opportunity_meets_the_review(germany, sdr, route, at_time):
    lead = new_sql(at=MONDAY_10)
    route(lead, MONDAY_10)
    at_time(MONDAY_10, lead_transition, lead=lead, to=Stage.ACCEPTED, by=sdr, at=MONDAY_10)
    later = berlin(2026, 11, 30, 15, 0)
    at_time(later, lead_transition, lead=lead, to=Stage.OPPORTUNITY, by=sdr, at=later)
    assert clocks(lead)["ae-review"].state == "met"


def test_rejecting_starts_the_rationale_clock_which_moving_on_meets(germany, sdr, route, at_time):
    lead = new_sql(at=MONDAY_10)
    route(lead, MONDAY_10)
    at = berlin(2026, 11, 30, 11, 0)
    at_time(at, lead_transition, lead=lead, to=Stage.REJECTED, by=sdr, reason="no budget", at=at)
    started = clocks(lead)
    assert started["sdr-accept-reject"].state == "met"
    assert started["rejection-rationale"].due_at == berlin(2026, 12, 2, 11, 0)
    later = berlin(2026, 12, 1, 9, 0)
    at_time(later, lead_transition, lead=lead, to=Stage.NURTURE, by=sdr, at=later)
    started = clocks(lead)
    assert started["rejection-rationale"].state == "met"
    # the contact clock of a lead sent to nurture is closed, not left to breach
    assert (started["contact-cold"].state, started["contact-cold"].outcome) == ("cancelled", "lead moved to nurture")


def test_a_reassignment_closes_the_old_owners_clocks_with_their_outcome_and_starts_the_new_owners(
    germany, sdr, manager, route, at_time
):
    lead = new_sql(at=MONDAY_10, temperature="hot")
    route(lead, MONDAY_10)
    at = berlin(2026, 11, 30, 10, 30)  # the hot contact clock is already past due
    SlaClock.objects.filter(lead=lead, policy__key="contact-hot").update(
        state="breached", breached_at=berlin(2026, 11, 30, 10, 5), escalation_step=1
    )
    at_time(at, lead_reassign, lead=lead, to_user=germany.gina, by=manager, reason="sdr is ill", now=at)
    old = {c.policy.key: c for c in SlaClock.objects.filter(lead=lead, owner=sdr).select_related("policy")}
    assert (old["contact-hot"].state, old["contact-hot"].stopped_at) == ("breached", at)
    assert (old["sdr-accept-reject"].state, old["sdr-accept-reject"].outcome) == ("cancelled", "reassigned to gina")
    new = {c.policy.key: c for c in SlaClock.objects.filter(lead=lead, owner=germany.gina).select_related("policy")}
    assert set(new) == {"contact-hot", "sdr-accept-reject"}
    assert new["contact-hot"].due_at == berlin(2026, 11, 30, 10, 35)
    assert new["contact-hot"].state == "open"


def test_a_dispute_clock_runs_on_the_wall_clock(germany, sdr, policies):
    lead = new_sql(at=MONDAY_10)
    clock = clock_start(lead=lead, policy=policies["dispute-resolution"], owner_id=sdr.pk, started_at=MONDAY_10)
    assert clock.due_at == berlin(2026, 12, 2, 10, 0)


# --- policies ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"target": dt.timedelta(0)}, "target"),
        ({"target": dt.timedelta(minutes=-5)}, "target"),
        ({"ladder": [{"at": 1, "action": "auto_accept"}]}, "ladder"),  # contact clocks cannot auto-accept
        ({"ladder": [{"at": 0.5, "action": "notify_owner"}]}, "ladder"),
        ({"ladder": [{"at": 1, "action": "call_the_ceo"}]}, "ladder"),
        ({"temperature": "lukewarm"}, "temperature"),
        ({"starts_on": "whenever"}, "starts_on"),
    ],
)
def test_bad_policy_changes_are_refused_on_their_field_and_nothing_is_saved(policies, admin_user, change, field):
    policy = policies["contact-hot"]
    with pytest.raises(ValidationError) as refused:
        sla_policy_save(by=admin_user, policy=policy, data=change)
    assert field in refused.value.message_dict
    policy.refresh_from_db()
    assert policy.target == dt.timedelta(minutes=5)
    assert not AuditEntry.objects.filter(action__startswith="sla.policy").exists()


def test_a_reassigning_step_is_refused_where_no_routing_applies(policies, admin_user):
    with pytest.raises(ValidationError) as refused:
        sla_policy_save(
            by=admin_user, policy=policies["dispute-resolution"], data={"ladder": [{"at": 2, "action": "reassign"}]}
        )
    assert "cannot reassign" in refused.value.message_dict["ladder"][0]


def test_a_policy_change_is_audited_and_says_when_it_loosens_the_target(policies, admin_user):
    # Loosening waits for a second person (tests/sla/test_policy_four_eyes.py): the proposal is what is audited.
    result = sla_policy_save(by=admin_user, policy=policies["contact-hot"], data={"target": dt.timedelta(minutes=10)})
    entry = AuditEntry.objects.get(action="sla.policy_change_propose")
    assert entry.actor == admin_user
    assert entry.changes == {"target": ["0:05:00", "0:10:00"], "change": result.change.pk}
    assert entry.reason == "loosens: target 0:05:00 -> 0:10:00"


def test_a_tightening_change_is_audited_without_a_loosening_reason(policies, admin_user):
    sla_policy_save(by=admin_user, policy=policies["contact-hot"], data={"target": dt.timedelta(minutes=3)})
    entry = AuditEntry.objects.get(action="sla.policy_save")
    assert entry.actor == admin_user
    assert entry.changes == {"target": ["0:05:00", "0:03:00"]}
    assert entry.reason == ""


def test_running_clocks_keep_the_schedule_they_started_with(germany, route, policies, admin_user, manager):
    lead = new_sql(at=MONDAY_10, temperature="hot")
    route(lead, MONDAY_10)
    result = sla_policy_save(by=admin_user, policy=policies["contact-hot"], data={"target": dt.timedelta(minutes=30)})
    sla_policy_change_approve(change=result.change, by=manager)
    assert SlaPolicy.objects.get(key="contact-hot").target == dt.timedelta(minutes=30)
    assert clocks(lead)["contact-hot"].due_at == berlin(2026, 11, 30, 10, 5)


def test_a_bulk_stage_change_stops_the_clocks_too(germany, sdr, route, at_time):
    from leadops.services import lead_transition_bulk

    leads = [new_sql(at=MONDAY_10) for _ in range(2)]
    for lead in leads:
        route(lead, MONDAY_10)
    at = berlin(2026, 11, 30, 12, 0)
    at_time(at, lead_transition_bulk, lead_ids=[lead.pk for lead in leads], to=Stage.ACCEPTED, by="import", at=at)
    for lead in leads:
        assert clocks(lead)["sdr-accept-reject"].state == "met"
        assert clocks(lead)["ae-review"].state == "open"


def test_an_earlier_activity_logged_later_keeps_the_earliest_first_activity(germany, sdr, route, at_time):
    lead = new_sql(at=MONDAY_10)
    late, early = berlin(2026, 11, 30, 11, 0), berlin(2026, 11, 30, 10, 30)
    at_time(late, activity_log, lead=lead, rep=sdr, kind="call", occurred_at=late)
    at_time(late, activity_log, lead=lead, rep=sdr, kind="email", occurred_at=early)
    lead.refresh_from_db()
    assert (lead.first_activity_at, lead.last_activity_at) == (early, late)


def test_an_ownership_dispute_runs_the_resolution_clock_until_revops_resolves_it(
    germany, sdr, ae, admin_user, route, at_time
):
    from routing.services_disputes import dispute_open, dispute_resolve

    lead = new_sql(at=MONDAY_10)
    route(lead, MONDAY_10)
    lead.refresh_from_db()
    dispute = at_time(MONDAY_10, dispute_open, lead=lead, by=sdr, reason="Ae owns Globex", now=MONDAY_10)
    clock = clocks(lead)["dispute-resolution"]
    assert (clock.owner, clock.state, clock.due_at) == (sdr, "open", berlin(2026, 12, 2, 10, 0))
    later = berlin(2026, 12, 1, 9, 0)
    at_time(
        later, dispute_resolve, dispute=dispute, by=admin_user, outcome="move", note="Agreed", other_rep=ae, now=later
    )
    clock.refresh_from_db()
    assert (clock.state, clock.met_at, clock.outcome) == ("met", later, "dispute resolved: Moved to another rep")


def test_the_clocks_task_skips_unknown_decisions_and_starts_nothing_twice(germany, route):
    from routing.models import RoutingDecision
    from sla.tasks import clocks_for_decisions

    lead = new_sql(at=MONDAY_10)
    route(lead, MONDAY_10)
    decision = RoutingDecision.objects.get(lead=lead)
    assert clocks_for_decisions([decision.pk, 999_999]) == {"clocks": 2}  # the open ones, not new ones
    assert SlaClock.objects.filter(lead=lead).count() == 2


def test_moves_up_the_funnel_are_not_announced_to_the_clocks(db, django_capture_on_commit_callbacks):
    from leadops.services import lead_stage_changed

    heard = []
    lead_stage_changed.connect(lambda sender, **kw: heard.append(kw["to_stage"]), weak=False, dispatch_uid="heard")
    try:
        lead = new_sql(at=MONDAY_10)
        lead.stage = Stage.MQL
        lead.save()
        with django_capture_on_commit_callbacks(execute=True):
            lead_transition(lead=lead, to=Stage.SQL, by="scoring")
            lead_transition(lead=lead, to=Stage.REJECTED, by="sdr", reason="no budget")
    finally:
        lead_stage_changed.disconnect(dispatch_uid="heard")
    assert heard == [Stage.REJECTED]


def test_a_late_clocks_task_does_not_restart_a_clock_the_rep_already_stopped(germany, sdr, route, at_time):
    from sla.services import clocks_for_decisions

    lead = new_sql(at=MONDAY_10, temperature="warm")
    decision = route(lead, MONDAY_10)
    at_time(
        berlin(2026, 11, 30, 10, 5),
        activity_log,
        lead=lead,
        rep=sdr,
        kind="call",
        occurred_at=berlin(2026, 11, 30, 10, 5),
    )
    assert clocks(lead)["contact-warm"].state == "met"
    # The worker runs the routing decision's clocks task again, late (a backlog, a retry): nothing restarts.
    at_time(berlin(2026, 11, 30, 10, 20), clocks_for_decisions, decision_ids=[decision.pk])
    assert SlaClock.objects.filter(lead=lead, policy__key="contact-warm").count() == 1


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (dt.timedelta(minutes=5), "5 min"),
        (dt.timedelta(hours=4), "4 h"),
        (dt.timedelta(minutes=90), "1 h 30 min"),
        (dt.timedelta(hours=48), "48 h"),
        (dt.timedelta(hours=72), "72 h"),
        (dt.timedelta(days=5), "5 d"),
        (dt.timedelta(days=30, hours=6), "30 d 6 h"),
    ],
)
def test_targets_read_as_the_playbook_writes_them(duration, text):
    from sla.rules import duration_text

    assert duration_text(duration) == text
