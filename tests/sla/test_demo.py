"""The demo world's SLA history: a freshly seeded demo has clocks in every state, played through the real services.

Seeding commits, so the worlds here are built outside the tests' transactions (like tests/leadops/test_seed.py) and
read by the tests; the classes at the end replace the world, so they come last.
"""

from __future__ import annotations

import importlib
import io
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command

from leadops import roles, rules
from leadops.demo.roster import demo_roster
from leadops.demo.seed import demo_reset
from leadops.demo.signals import demo_world_seeded
from leadops.models import Activity, Lead, Notification, StageTransition
from routing.demo import demo_routing_setup
from routing.models import OwnershipDispute, RoutingDecision
from sla import selectors
from sla.demo import demo_sla_seeded
from sla.models import ClockState, SlaClock, SlaEscalation, SlaPolicy

pytestmark = [pytest.mark.sqlite]

# A Wednesday afternoon: the week so far has ended clocks, and today has breaches.
NOW = datetime(2026, 3, 4, 15, 30, tzinfo=UTC)
LEADS, SEED = 800, 7
HAS_PAUSES = any(f.name == "paused_at" for f in SlaClock._meta.get_fields())


def seed_world(*, now: datetime, leads: int = LEADS, seed: int = SEED, reset: bool = False) -> None:
    if not SlaPolicy.objects.exists():  # a transactional test elsewhere may have flushed what the migration installed
        importlib.import_module("sla.migrations.0002_default_policies").install(apps, None)
    with time_machine.travel(now, tick=False):
        call_command(
            "seed_demo",
            anchor=now.date().isoformat(),
            leads=leads,
            seed=seed,
            reset=reset,
            quiet=True,
            stdout=io.StringIO(),
        )


def clock_dump() -> list[tuple]:
    """Every clock by natural keys (the lead's e-mail, usernames, times), never by database ids."""
    return sorted(
        SlaClock.objects.values_list(
            "lead__email",
            "policy__key",
            "owner__username",
            "state",
            "started_at",
            "due_at",
            "met_at",
            "breached_at",
            "stopped_at",
            "escalation_step",
            "outcome",
        ),
        key=repr,
    )


def sdr_usernames() -> list[str]:
    return sorted(user.username for user in demo_roster() if user.role == roles.SDR)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """One 800-lead demo world seeded on NOW's day, at NOW, shared by the read-only checks below."""
    with django_db_blocker.unblock():
        mail.outbox = []
        seed_world(now=NOW)
        yield {"mail": list(mail.outbox)}
        demo_reset()


@pytest.mark.django_db
@pytest.mark.usefixtures("world")
class TestSeededSlaHistory:
    def test_clocks_end_in_every_state(self):
        states = {state for state in SlaClock.objects.values_list("state", flat=True)}
        assert states == {ClockState.OPEN, ClockState.MET, ClockState.BREACHED, ClockState.CANCELLED}
        if HAS_PAUSES:
            assert SlaClock.objects.filter(paused_at__isnull=False, stopped_at__isnull=True).exists()

    def test_met_clocks_were_stopped_in_time_by_the_owners_first_call(self):
        met = SlaClock.objects.filter(state=ClockState.MET, policy__stops_on="first_activity")
        assert met.count() >= 40  # five contacts in time per SDR in the office, and more
        for clock in met:
            assert clock.met_at <= clock.due_at
            assert Activity.objects.filter(lead=clock.lead, rep=clock.owner, occurred_at=clock.met_at).exists()

    def test_breaches_notified_the_owner_and_escalated_to_the_manager(self):
        breached = SlaClock.objects.filter(state=ClockState.BREACHED).select_related("owner__profile__team__manager")
        assert breached.count() >= 9
        for clock in breached:
            actions = list(clock.escalations.values_list("action", flat=True))
            assert actions[:3] == ["breach", "notify_owner", "notify_manager"], clock
            manager = clock.owner.profile.team.manager
            assert Notification.objects.filter(recipient=clock.owner, kind="sla_breach", lead=clock.lead).exists()
            assert Notification.objects.filter(recipient=manager, kind="sla_escalation", lead=clock.lead).exists()

    def test_contact_breached_twice_over_was_reassigned_through_routing_to_a_colleague(self):
        steps = SlaEscalation.objects.filter(action="reassign").select_related("clock__policy", "clock__owner")
        # North America and APAC; EMEA's only other generalist is out of office, so routing has nobody to give it to.
        assert sorted(step.clock.owner.profile.team.name for step in steps) == ["APAC", "North America"]
        for step in steps:
            assert step.at == step.clock.started_at + 2 * step.clock.policy.target
            decision = RoutingDecision.objects.get(lead_id=step.clock.lead_id, kind="reroute")
            assert decision.decided_at == step.at and decision.assignee_id not in (None, step.clock.owner_id)
            assert step.detail == f"reassigned through routing to {decision.assignee.get_full_name()}"
            # The owner's accept / reject clock closed with the move; the new owner's clocks run from it.
            assert SlaClock.objects.filter(
                lead_id=step.clock.lead_id, owner=step.clock.owner, state=ClockState.CANCELLED
            ).exists()
            assert SlaClock.objects.filter(
                lead_id=step.clock.lead_id, owner_id=decision.assignee_id, started_at=step.at
            ).exists()

    def test_sqls_left_undecided_for_two_business_days_were_auto_accepted(self):
        auto = SlaEscalation.objects.filter(action="auto_accept").select_related("clock__lead")
        assert auto.count() >= 3
        for step in auto:
            assert StageTransition.objects.filter(
                lead=step.clock.lead, to_stage="accepted", by_system="sla", at=step.at
            ).exists()

    def test_running_clocks_are_at_risk_within_the_hour_or_comfortably_ahead(self):
        running = SlaClock.objects.filter(state=ClockState.OPEN, stopped_at__isnull=True)
        if HAS_PAUSES:
            running = running.filter(paused_at__isnull=True)
        at_risk = running.filter(due_at__gt=NOW, due_at__lte=NOW + timedelta(hours=1))
        ahead = running.filter(due_at__gt=NOW + timedelta(hours=12))
        assert at_risk.count() >= 8  # one per SDR in the office
        assert ahead.count() >= 16
        assert not running.filter(due_at__lte=NOW).exists()  # the sweep has taken every step due by now

    def test_breached_today_and_waiting_for_the_reassignment(self):
        today = NOW.replace(hour=0, minute=0)
        waiting = SlaClock.objects.filter(
            state=ClockState.BREACHED, stopped_at__isnull=True, breached_at__gte=today, policy__key="contact-cold"
        )
        assert waiting.count() >= 8
        assert all(clock.next_step_at > NOW for clock in waiting)

    @pytest.mark.skipif(not HAS_PAUSES, reason="clocks have no pause yet")
    def test_an_open_ownership_dispute_pauses_the_owners_clocks(self):
        disputes = OwnershipDispute.objects.filter(status="open")
        assert disputes.count() == 4  # one per team, and the SDR who is out of office
        for dispute in disputes:
            paused = SlaClock.objects.filter(lead=dispute.lead, owner=dispute.opened_by, paused_at=dispute.opened_at)
            assert set(paused.values_list("policy__key", flat=True)) == {"contact-cold", "sdr-accept-reject"}

    def test_every_demo_sdr_has_running_clocks_on_their_page(self, client):
        User = get_user_model()
        assert len(sdr_usernames()) == 9
        for username in sdr_usernames():
            client.force_login(User.objects.get(username=username))
            response = client.get("/sla/mine/")
            assert response.status_code == 200
            clocks = response.context["clocks"]
            assert len(clocks) >= 3, username
        away = User.objects.get(username="sdr.emea.3")  # out of office: the dispute they opened before leaving
        assert selectors.my_open_clocks(user=away).filter(policy__key="dispute-resolution", state="breached").exists()

    def test_every_demo_manager_sees_risks_breaches_and_a_believable_week_on_the_team_board(self, client):
        for username in ("manager", "manager.emea", "manager.apac"):
            client.force_login(get_user_model().objects.get(username=username))
            with time_machine.travel(NOW, tick=False):
                response = client.get("/sla/team/")
            assert response.status_code == 200
            board = response.context["board"]
            assert board["at_risk"], username
            assert board["breached_today"], username
            assert 70 <= board["week_rate"] <= 90, (username, board["week_rate"])
            assert board["week_closed"] >= 15, username

    def test_only_breaches_of_today_are_still_unread(self):
        today = NOW.replace(hour=0, minute=0)
        for notification in Notification.objects.filter(kind__in=["sla_breach", "sla_escalation"]):
            clock = SlaClock.objects.get(pk=int(notification.dedupe_key.split("-")[2]))
            assert (notification.read_at is None) == (clock.breached_at >= today), notification.message
        assert Notification.objects.filter(recipient__username="manager", read_at__isnull=True).exists()

    def test_nobody_is_e_mailed_about_the_made_up_past(self, world):
        assert Notification.objects.filter(kind="sla_escalation", recipient__email__contains="@").count() >= 9
        assert world["mail"] == []

    def test_lead_histories_stay_legal_and_in_order(self):
        history = defaultdict(list)
        for transition in StageTransition.objects.order_by("lead_id", "at", "id"):
            history[transition.lead_id].append(transition)
        leads = Lead.objects.filter(sla_clocks__isnull=False).distinct()
        assert leads.count() >= 70
        for lead in leads:
            stage, previous_at = rules.Stage.NEW, lead.created_at
            for transition in history[lead.pk]:
                assert transition.from_stage == stage, lead.email
                check = rules.transition_check(
                    from_stage=transition.from_stage, to_stage=transition.to_stage, reason=transition.reason
                )
                assert check.allowed, (lead.email, check.reason)
                assert previous_at < transition.at <= NOW, lead.email
                stage, previous_at = transition.to_stage, transition.at
            assert stage == lead.stage, lead.email
            assert lead.sql_at <= NOW and lead.assigned_at <= NOW
            times = list(lead.activities.values_list("occurred_at", flat=True))
            calls_as_sql = [at for at in times if at >= lead.sql_at]
            if calls_as_sql:
                assert lead.last_activity_at == max(times) <= NOW, lead.email
                assert lead.first_activity_at <= min(calls_as_sql), lead.email

    def test_a_reset_leaves_no_clock_step_dispute_or_notification_behind(self):
        assert SlaClock.objects.exists() and OwnershipDispute.objects.exists()
        demo_reset()  # inside this test's transaction: the world is back for the next test
        assert not SlaClock.objects.exists()
        assert not SlaEscalation.objects.exists()
        assert not OwnershipDispute.objects.exists()
        assert not Notification.objects.exists()
        assert not RoutingDecision.objects.exists()
        assert SlaPolicy.objects.filter(active=True).count() == 8  # the policies themselves stay


# --- the classes below replace the world; they come after every check of the one above ------------------------


@pytest.fixture(scope="class")
def reversed_receivers_world(world, django_db_blocker):
    """The same seed on the same day again, SLA's receiver connected before routing's."""
    with django_db_blocker.unblock():
        before = clock_dump()
        routing_was = demo_world_seeded.disconnect(dispatch_uid="routing.demo_setup")
        sla_was = demo_world_seeded.disconnect(dispatch_uid="sla.demo_history")
        demo_world_seeded.connect(demo_sla_seeded, dispatch_uid="sla.demo_history")
        demo_world_seeded.connect(demo_routing_setup, dispatch_uid="routing.demo_setup")
        try:
            order = [receiver for _key, receiver, *_ in demo_world_seeded.receivers]
            seed_world(now=NOW, reset=True)
        finally:
            demo_world_seeded.disconnect(dispatch_uid="routing.demo_setup")
            demo_world_seeded.disconnect(dispatch_uid="sla.demo_history")
            if routing_was:
                demo_world_seeded.connect(demo_routing_setup, dispatch_uid="routing.demo_setup")
            if sla_was:
                demo_world_seeded.connect(demo_sla_seeded, dispatch_uid="sla.demo_history")
        yield {"before": before, "after": clock_dump(), "order": order}


@pytest.mark.django_db
class TestSameSeedSameHistory:
    def test_the_history_is_the_same_whichever_receiver_runs_first(self, reversed_receivers_world):
        seeded = reversed_receivers_world
        sla_first = [receiver() for receiver in seeded["order"]]
        assert sla_first.index(demo_sla_seeded) < sla_first.index(demo_routing_setup)
        assert len(seeded["before"]) > 100
        assert seeded["after"] == seeded["before"]


@pytest.fixture(scope="class")
def monday_world(world, django_db_blocker):
    """Early on a Monday: the week is six and a half hours old."""
    with django_db_blocker.unblock():
        seed_world(now=datetime(2026, 3, 2, 6, 30, tzinfo=UTC), reset=True)
        yield


@pytest.mark.django_db
@pytest.mark.usefixtures("monday_world")
class TestEarlyInTheWeek:
    def test_the_team_boards_still_have_a_week_and_a_day_to_show(self, client):
        now = datetime(2026, 3, 2, 6, 30, tzinfo=UTC)
        for username in ("manager", "manager.emea", "manager.apac"):
            board = selectors.team_board(user=get_user_model().objects.get(username=username), now=now)
            assert board["at_risk"] and board["breached_today"], username
            assert 60 <= board["week_rate"] <= 95, (username, board["week_rate"])


@pytest.fixture(scope="class")
def past_world(world, django_db_blocker):
    """A world whose anchor is long gone: seeded today, without travelling there."""
    with django_db_blocker.unblock():
        call_command(
            "seed_demo", anchor="2026-03-01", leads=300, seed=SEED, reset=True, quiet=True, stdout=io.StringIO()
        )
        yield


@pytest.mark.django_db
@pytest.mark.usefixtures("past_world")
class TestAnotherDaysWorld:
    def test_gets_no_clocks_that_the_first_sweep_would_breach_at_once(self):
        assert Lead.objects.count() == 300
        assert not SlaClock.objects.exists()
