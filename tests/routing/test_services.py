"""Routing writes: assignment, the decision on record, counters, notifications, re-routing and reassignment."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from leadops.models import AuditEntry, Lead, Notification, RepProfile
from routing import services
from routing.models import RepMonthlyLoad, RoutingDecision, Territory, TerritoryMember
from scoring.services.scores import leads_became_sql
from tests.routing.conftest import sql_lead

pytestmark = pytest.mark.django_db


def _load(user):
    month = timezone.now().date().replace(day=1)
    return RepMonthlyLoad.objects.filter(user=user, month=month).values_list("assigned", flat=True).first() or 0


def test_a_new_sql_goes_to_a_specialist_with_the_reason_on_record(emea, sdr, django_capture_on_commit_callbacks):
    lead = sql_lead()
    routed = []
    services.lead_routed.connect(lambda sender, **kw: routed.append(kw), weak=False, dispatch_uid="t")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            decision = services.lead_route(lead_id=lead.pk)
    finally:
        services.lead_routed.disconnect(dispatch_uid="t")
    lead.refresh_from_db()
    assert lead.owner == sdr and lead.assigned_at is not None
    assert (decision.assignee, decision.queue, decision.territory, decision.kind) == (sdr, "", emea, "initial")
    assert decision.path == [
        "named account? no",
        "intent 1 day ago",
        "territory EMEA (priority 1)",
        "ICP strong (fit 80) -> specialists",
        f"{sdr.get_full_name()} (0/80 this month, 0.5 below fair share of 0.5)",
    ]
    assert decision.by_system == "routing" and decision.setup_version == 1
    assert _load(sdr) == 1
    audit = AuditEntry.objects.get(action="lead.assign", object_id=str(lead.pk))
    assert audit.changes == {"owner_id": [None, sdr.pk]}
    notification = Notification.objects.get(recipient=sdr)
    assert notification.kind == "lead_assigned" and notification.lead_id == lead.pk
    assert routed == [{"signal": services.lead_routed, "lead_id": lead.pk, "decision_id": decision.pk}]


def test_leads_alternate_between_equal_specialists(emea, sdr, ae):
    leads = [sql_lead() for _ in range(4)]
    services.leads_route(lead_ids=[lead.pk for lead in leads])
    owners = list(
        Lead.objects.filter(pk__in=[lead.pk for lead in leads]).order_by("pk").values_list("owner", flat=True)
    )
    assert owners == [sdr.pk, ae.pk, sdr.pk, ae.pk]
    assert (_load(sdr), _load(ae)) == (2, 2)


def test_routing_a_lead_twice_assigns_it_once(emea, sdr, django_capture_on_commit_callbacks):
    lead = sql_lead()
    with django_capture_on_commit_callbacks(execute=True):
        first = services.lead_route(lead_id=lead.pk)
        second = services.lead_route(lead_id=lead.pk)
    assert first.pk == second.pk
    assert RoutingDecision.objects.filter(lead=lead).count() == 1
    assert _load(sdr) == 1
    assert Notification.objects.filter(recipient=sdr).count() == 1


def test_a_lead_that_already_has_an_owner_keeps_it(emea, ae, other_sdr):
    lead = sql_lead(owner=other_sdr)
    decision = services.lead_route(lead_id=lead.pk)
    lead.refresh_from_db()
    assert lead.owner == other_sdr and decision.assignee == other_sdr
    assert decision.path == ["already has an owner; not routed again"]
    assert _load(other_sdr) == 0


def test_a_rep_at_capacity_overflows_to_the_managers_queue(emea, sdr, ae, manager):
    TerritoryMember.objects.filter(territory=emea).update(monthly_capacity=1)
    leads = [sql_lead() for _ in range(3)]
    decisions = services.leads_route(lead_ids=[lead.pk for lead in leads])
    assert [d.assignee_id for d in decisions] == [sdr.pk, ae.pk, None]
    last = decisions[-1]
    assert (last.queue, last.queue_owner, last.reason) == ("overflow", manager, "EMEA: every rep at capacity")
    assert Lead.objects.get(pk=leads[-1].pk).owner is None
    assert (_load(sdr), _load(ae)) == (1, 1)


def test_a_named_account_goes_to_its_owner(emea, other_sdr):
    lead = sql_lead(named_owner=other_sdr, score=85)
    decision = services.lead_route(lead_id=lead.pk)
    assert decision.assignee == other_sdr and decision.territory is None
    assert decision.reason == f"Named account owner {other_sdr.get_full_name()}"


def test_a_named_account_owner_out_of_office_takes_the_normal_path(emea, sdr, other_sdr):
    today = timezone.now().date()
    RepProfile.objects.filter(user=other_sdr).update(out_of_office_from=today, out_of_office_until=today)
    decision = services.lead_route(lead_id=sql_lead(named_owner=other_sdr, score=85).pk)
    assert decision.assignee == sdr
    assert decision.path[0] == f"named account of {other_sdr.get_full_name()}, who is out of office"


def test_stale_intent_goes_to_nurture_and_no_territory_to_the_default_overflow(emea):
    stale = services.lead_route(lead_id=sql_lead(signal_days_ago=40).pk)
    assert (stale.queue, stale.assignee) == ("nurture", None)
    nowhere = services.lead_route(lead_id=sql_lead(country="Japan").pk)
    assert (nowhere.queue, nowhere.reason) == ("overflow", "No territory matches this lead")


def test_weak_fit_goes_to_the_generalist(emea):
    decision = services.lead_route(lead_id=sql_lead(fit=40).pk)
    assert decision.assignee == emea.gina


def test_new_sqls_from_scoring_are_routed(emea, sdr, django_capture_on_commit_callbacks):
    lead = sql_lead()
    with django_capture_on_commit_callbacks(execute=True):
        leads_became_sql.send(sender=Territory, lead_ids=[lead.pk])
    assert Lead.objects.get(pk=lead.pk).owner == sdr
    assert RoutingDecision.objects.filter(lead=lead, kind="initial").count() == 1


# --- re-routing and reassignment ------------------------------------------------------------------------------------


def test_a_rep_set_out_of_office_has_unworked_sqls_rerouted(emea, sdr, ae, admin_user):
    leads = [sql_lead() for _ in range(3)]
    services.leads_route(lead_ids=[lead.pk for lead in leads])  # sdr, ae, sdr
    worked = leads[2]
    Lead.objects.filter(pk=worked.pk).update(first_activity_at=timezone.now())
    RepProfile.objects.filter(user=sdr).update(out_of_office_from=timezone.now().date())

    moved = services.rep_unavailable_reroute(user=sdr, by=admin_user, reason="Out of office until further notice")

    assert [d.lead_id for d in moved] == [leads[0].pk]
    assert Lead.objects.get(pk=leads[0].pk).owner == ae
    assert Lead.objects.get(pk=worked.pk).owner == sdr
    decision = moved[0]
    assert (decision.kind, decision.by_user) == ("reroute", admin_user)
    assert decision.path[0] == "re-routed: Out of office until further notice"
    assert (_load(sdr), _load(ae)) == (1, 2)
    assert AuditEntry.objects.filter(action="lead.assign", object_id=str(leads[0].pk)).count() == 2


def test_rerouting_needs_a_reason(emea, sdr, admin_user):
    with pytest.raises(ValidationError) as excinfo:
        services.rep_unavailable_reroute(user=sdr, by=admin_user, reason=" ")
    assert list(excinfo.value.message_dict) == ["reason"]


def test_a_manager_reassigns_by_hand_with_a_reason(emea, sdr, ae, manager, django_capture_on_commit_callbacks):
    lead = sql_lead()
    services.lead_route(lead_id=lead.pk)
    with django_capture_on_commit_callbacks(execute=True):
        decision = services.lead_reassign(lead=lead, to_user=ae, by=manager, reason="Speaks French")
    lead.refresh_from_db()
    assert lead.owner == ae
    assert (decision.kind, decision.by_user, decision.reason) == ("manual", manager, "Speaks French")
    assert decision.path == [f"reassigned by hand by {manager.get_full_name()}: Speaks French", ae.get_full_name()]
    assert (_load(sdr), _load(ae)) == (0, 1)
    assert Notification.objects.get(recipient=ae).kind == "lead_reassigned"


def test_a_reassignment_needs_a_reason(emea, sdr, ae, manager):
    lead = sql_lead(owner=sdr)
    with pytest.raises(ValidationError) as excinfo:
        services.lead_reassign(lead=lead, to_user=ae, by=manager, reason="")
    assert list(excinfo.value.message_dict) == ["reason"]


@pytest.mark.parametrize("who", ["sdr", "other_manager"])
def test_a_rep_or_another_teams_manager_cannot_reassign(emea, sdr, ae, other_sdr, who):
    lead = sql_lead(owner=sdr)
    by = sdr if who == "sdr" else other_sdr.profile.manager
    with pytest.raises(PermissionDenied):
        services.lead_reassign(lead=lead, to_user=ae, by=by, reason="Mine now")
    assert Lead.objects.get(pk=lead.pk).owner == sdr


# --- territories --------------------------------------------------------------------------------------------------


def test_an_admin_saves_a_territory_with_members(admin_user, team, sdr, ae):
    RepProfile.objects.filter(user=ae).update(monthly_capacity=60)
    territory = services.territory_save(
        by=admin_user,
        data={"name": "DACH", "priority": 2, "countries": ["DE", "AT", "CH"], "team_id": team.pk},
        members=[{"user_id": sdr.pk, "role": "specialist", "weight": 2}, {"user_id": ae.pk, "role": "ae"}],
    )
    assert list(territory.members.order_by("user_id").values_list("user_id", "weight", "monthly_capacity")) == [
        (sdr.pk, 2, 80),
        (ae.pk, 1, 60),  # the capacity on the rep's profile
    ]
    assert AuditEntry.objects.filter(action="routing.territory_create", object_id=str(territory.pk)).exists()


def test_bad_territory_input_is_refused_and_nothing_saved(admin_user, team, sdr):
    with pytest.raises(ValidationError) as excinfo:
        services.territory_save(
            by=admin_user,
            data={
                "name": "DACH",
                "priority": 2,
                "countries": ["XX"],
                "team_id": team.pk,
                "calendar": {"time_zone": "Nowhere"},
            },
            members=[{"user_id": sdr.pk, "role": "specialist", "weight": 0}, {"user_id": sdr.pk, "role": "sdr"}],
        )
    assert sorted(excinfo.value.message_dict) == [
        "calendar.time_zone",
        "calendar.weekly_hours",  # a calendar without working hours would never let a clock run out
        "countries",
        "members.0.weight",
        "members.1.user_id",
    ]
    assert not Territory.objects.exists()


def test_only_admins_configure_territories(manager, team):
    with pytest.raises(PermissionDenied):
        services.territory_save(by=manager, data={"name": "X", "priority": 1, "team_id": team.pk})


def test_decided_at_is_the_routing_time(emea):
    now = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=5)
    decision = services.lead_route(lead_id=sql_lead().pk, now=now)
    assert decision.decided_at == now


def test_a_routing_task_also_takes_up_new_sqls_still_waiting(emea, sdr, ae):
    from routing.tasks import route_leads

    first, waiting = sql_lead(), sql_lead()
    assert route_leads([first.pk]) == {"routed": 2}
    assert Lead.objects.get(pk=waiting.pk).owner == ae
    assert route_leads([waiting.pk]) == {"routed": 1}  # its own task finds it done and assigns nothing twice
    assert RoutingDecision.objects.filter(lead=waiting).count() == 1
    assert (_load(sdr), _load(ae)) == (1, 1)


def test_a_backlog_of_unrouted_sqls_is_routed_in_batches(emea, sdr, ae, other_sdr):
    leads = [sql_lead() for _ in range(5)]
    owned = sql_lead(owner=other_sdr)
    since = timezone.now() - dt.timedelta(days=1)
    assert services.unrouted_sqls_route(since=since, batch=2) == 5
    assert Lead.objects.filter(pk__in=[lead.pk for lead in leads], owner__isnull=True).count() == 0
    assert not RoutingDecision.objects.filter(lead=owned).exists()
    assert services.unrouted_sqls_route(since=since) == 0


def test_a_rep_given_many_leads_at_once_gets_one_notification_listing_them(emea, sdr, ae):
    leads = [sql_lead() for _ in range(10)]
    decisions = services.leads_route(lead_ids=[lead.pk for lead in leads])
    assert services.routing_notify(decision_ids=[d.pk for d in decisions]) == 2
    (notification,) = Notification.objects.filter(recipient=sdr)
    assert notification.message.startswith("5 new leads were routed to you: ")
    assert notification.link == "/leads/?stage=sql"
    services.routing_notify(decision_ids=[d.pk for d in decisions])  # a rerun notifies nobody again
    assert Notification.objects.filter(recipient__in=[sdr, ae]).count() == 2


def test_a_rep_given_a_few_leads_is_told_about_each(emea, sdr, ae):
    leads = [sql_lead() for _ in range(6)]
    decisions = services.leads_route(lead_ids=[lead.pk for lead in leads])
    assert services.routing_notify(decision_ids=[d.pk for d in decisions]) == 6
    assert sorted(Notification.objects.filter(recipient=sdr).values_list("lead_id", flat=True)) == [
        leads[0].pk,
        leads[2].pk,
        leads[4].pk,
    ]
