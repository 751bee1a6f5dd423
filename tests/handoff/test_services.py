"""The SQL handoff through its services: accept, reject, log, claim, SAL, return, opportunity, reassign. Expected
values are worked out by hand on the German territory (Berlin office hours 09:00-17:00, Monday to Friday)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from handoff import services
from handoff.models import LeadRejection
from leadops.models import Activity, AuditEntry, Lead, Opportunity, StageTransition
from leadops.rules import Stage
from routing.models import RoutingDecision
from sla.models import SlaClock
from tests.factories import UserFactory
from tests.routing.conftest import make_rep
from tests.sla.conftest import berlin, new_sql

pytestmark = pytest.mark.django_db

MONDAY_10 = berlin(2026, 11, 30, 10, 0)
MONDAY_11 = berlin(2026, 11, 30, 11, 0)


def clock(lead, key, owner=None):
    clocks = SlaClock.objects.filter(lead=lead, policy__key=key)
    if owner is not None:
        clocks = clocks.filter(owner=owner)
    return clocks.get()


@pytest.fixture
def sql(germany, route, sdr):
    lead = new_sql(at=MONDAY_10, temperature="warm")
    route(lead, MONDAY_10)
    lead.refresh_from_db()
    assert lead.owner == sdr
    return lead


def test_accepting_hands_the_lead_to_the_teams_ae_and_moves_the_clocks(sql, sdr, ae, acting, reasons):
    acting(MONDAY_11, lambda: services.lead_accept(lead=sql, by=sdr))
    sql.refresh_from_db()
    assert (sql.stage, sql.owner, sql.sdr, sql.accepted_at) == (Stage.ACCEPTED, ae, sdr, MONDAY_11)
    decision = RoutingDecision.objects.filter(lead=sql).latest("pk")
    assert decision.kind == "handoff"
    assert decision.assignee == ae
    assert decision.path[0] == f"accepted by {sdr.get_full_name()}"
    assert decision.path[1].endswith("has the fewest leads waiting (0)")
    accept = clock(sql, "sdr-accept-reject")
    assert (accept.state, accept.met_at) == ("met", MONDAY_11)
    review = clock(sql, "ae-review")
    # 8 working hours from Monday 11:00: Monday 11-17 (6 h), Tuesday 09-11 (2 h)
    assert (review.owner, review.state, review.due_at) == (ae, "open", berlin(2026, 12, 1, 11, 0))
    # The AE gets no contact clock: the lead was contacted by the SDR's team already.
    assert not SlaClock.objects.filter(lead=sql, owner=ae, policy__key__startswith="contact").exists()


def test_the_ae_with_fewest_leads_waiting_gets_the_handoff(sql, sdr, ae, team, manager, acting):
    second_ae = make_rep("ae2", team, manager, role="AE")
    # ae already has one accepted lead waiting for review, ae2 none
    waiting = new_sql(at=MONDAY_10)
    Lead.objects.filter(pk=waiting.pk).update(stage=Stage.ACCEPTED, owner=ae)
    acting(MONDAY_11, lambda: services.lead_accept(lead=sql, by=sdr))
    sql.refresh_from_db()
    assert sql.owner == second_ae


def test_with_no_ae_available_the_lead_waits_for_the_manager(sql, sdr, ae, manager, acting):
    ae.is_active = False
    ae.save()
    acting(MONDAY_11, lambda: services.lead_accept(lead=sql, by=sdr))
    sql.refresh_from_db()
    assert (sql.stage, sql.owner, sql.sdr) == (Stage.ACCEPTED, None, sdr)
    assert manager.notifications.filter(kind="handoff_waiting", lead=sql).count() == 1


def test_a_rejection_needs_a_reason_and_a_note_and_changes_nothing_without_them(sql, sdr, reasons, acting):
    with pytest.raises(ValidationError) as refused:
        services.lead_reject(lead=sql, by=sdr, reason_code="", note="")
    assert set(refused.value.message_dict) == {"reason"}
    with pytest.raises(ValidationError) as refused:
        services.lead_reject(lead=sql, by=sdr, reason_code="no_budget", note="   ")
    assert set(refused.value.message_dict) == {"note"}
    with pytest.raises(ValidationError):
        services.lead_reject(lead=sql, by=sdr, reason_code="made_up", note="x")
    sql.refresh_from_db()
    assert sql.stage == Stage.SQL
    assert not LeadRejection.objects.exists()


def test_rejecting_sends_the_lead_to_nurture_and_keeps_the_reason_with_the_score(sql, sdr, reasons, acting):
    acting(MONDAY_11, lambda: services.lead_reject(lead=sql, by=sdr, reason_code="no_budget", note="Frozen till Q3"))
    sql.refresh_from_db()
    assert (sql.stage, sql.rejected_at, sql.nurture_at) == (Stage.NURTURE, MONDAY_11, MONDAY_11)
    moves = list(StageTransition.objects.filter(lead=sql).order_by("pk").values_list("from_stage", "to_stage"))
    assert moves[-2:] == [("sql", "rejected"), ("rejected", "nurture")]
    rejection = LeadRejection.objects.get()
    assert (rejection.reason.code, rejection.note, rejection.score_total, rejection.to_stage) == (
        "no_budget",
        "Frozen till Q3",
        80,
        "nurture",
    )
    assert clock(sql, "sdr-accept-reject").state == "met"
    assert clock(sql, "rejection-rationale").state == "met"


@pytest.mark.parametrize(
    ("code", "stage"), [("bad_data", Stage.DISQUALIFIED), ("student_competitor", Stage.DISQUALIFIED)]
)
def test_a_disqualifying_reason_disqualifies(sql, sdr, reasons, acting, code, stage):
    acting(MONDAY_11, lambda: services.lead_reject(lead=sql, by=sdr, reason_code=code, note="Duplicate of #12"))
    sql.refresh_from_db()
    assert sql.stage == stage


def test_two_tabs_accepting_and_rejecting_the_same_sql_exactly_one_wins(sql, sdr, reasons, acting):
    tab_one, tab_two = Lead.objects.get(pk=sql.pk), Lead.objects.get(pk=sql.pk)
    acting(MONDAY_11, lambda: services.lead_accept(lead=tab_one, by=sdr))
    with pytest.raises(services.LeadChanged, match="it is now Accepted"):
        services.lead_reject(lead=tab_two, by=sdr, reason_code="no_budget", note="late tab")
    with pytest.raises(services.LeadChanged):
        services.lead_accept(lead=tab_two, by=sdr)
    assert StageTransition.objects.filter(lead=sql, to_stage__in=["accepted", "rejected"]).count() == 1


def test_the_first_activity_stops_the_contact_clock(sql, sdr, acting):
    # warm: 15 minutes, due 10:15; a call at 10:12 meets it
    at = berlin(2026, 11, 30, 10, 12)
    activity = acting(at, lambda: services.activity_record(lead=sql, by=sdr, kind="call", outcome="Connected"))
    sql.refresh_from_db()
    assert (sql.first_activity_at, activity.outcome) == (at, "Connected")
    assert (clock(sql, "contact-warm").state, clock(sql, "contact-warm").met_at) == ("met", at)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "fax", "outcome": "Connected"}, "kind"),
        ({"kind": "call", "outcome": ""}, "outcome"),
        ({"kind": "call", "outcome": "Connected", "duration_minutes": "ten"}, "duration_minutes"),
        ({"kind": "call", "outcome": "Connected", "duration_minutes": 0}, "duration_minutes"),
        ({"kind": "call", "outcome": "Connected", "occurred_at": berlin(2026, 12, 1, 10, 0)}, "occurred_at"),
    ],
)
def test_a_bad_activity_is_refused_on_its_field_and_nothing_is_logged(sql, sdr, data, field, acting):
    with pytest.raises(ValidationError) as refused:
        acting(MONDAY_10, lambda: services.activity_record(lead=sql, by=sdr, **data))
    assert field in refused.value.message_dict
    assert not Activity.objects.exists()


def test_the_ae_takes_it_on_as_sal_and_the_review_clock_is_met(sql, sdr, ae, acting):
    acting(MONDAY_11, lambda: services.lead_accept(lead=sql, by=sdr))
    at = berlin(2026, 11, 30, 15, 0)
    acting(at, lambda: services.lead_sal_accept(lead=sql, by=ae))
    sql.refresh_from_db()
    assert sql.sal_at == at
    assert (clock(sql, "ae-review").state, clock(sql, "ae-review").met_at) == ("met", at)
    with pytest.raises(PermissionDenied, match="already took"):
        services.lead_sal_accept(lead=sql, by=ae)


def test_the_ae_returns_the_lead_to_the_sdr_with_a_reason(sql, sdr, ae, reasons, acting):
    acting(MONDAY_11, lambda: services.lead_accept(lead=sql, by=sdr))
    at = berlin(2026, 11, 30, 14, 0)
    with pytest.raises(ValidationError):
        services.lead_return(lead=sql, by=ae, reason_code="no_authority", note="")
    acting(at, lambda: services.lead_return(lead=sql, by=ae, reason_code="no_authority", note="Need the CFO"))
    sql.refresh_from_db()
    assert (sql.stage, sql.owner) == (Stage.SQL, sdr)
    assert LeadRejection.objects.get().kind == "ae_return"
    assert clock(sql, "ae-review").state == "met"
    # The SDR's accept clock starts again: 16 working hours from Monday 14:00 -> Wednesday 14:00
    restarted = SlaClock.objects.filter(lead=sql, policy__key="sdr-accept-reject", state="open").get()
    assert (restarted.owner, restarted.due_at) == (sdr, berlin(2026, 12, 2, 14, 0))


def test_the_ae_opens_and_closes_the_opportunity(sql, sdr, ae, acting):
    acting(MONDAY_11, lambda: services.lead_accept(lead=sql, by=sdr))
    with pytest.raises(PermissionDenied, match="SAL before"):
        services.opportunity_save(lead=sql, by=ae, amount="24000", stage="discovery", expected_close="2027-02-01")
    acting(MONDAY_11, lambda: services.lead_sal_accept(lead=sql, by=ae))
    with pytest.raises(ValidationError) as refused:
        services.opportunity_save(lead=sql, by=ae, amount="-5", stage="discovery", expected_close="tomorrow")
    assert set(refused.value.message_dict) == {"amount", "expected_close"}
    acting(
        MONDAY_11,
        lambda: services.opportunity_save(
            lead=sql, by=ae, amount="24,000", stage="discovery", expected_close="2027-02-01"
        ),
    )
    sql.refresh_from_db()
    opportunity = Opportunity.objects.get(lead=sql)
    assert (sql.stage, opportunity.amount, str(opportunity.expected_close)) == (Stage.OPPORTUNITY, 24000, "2027-02-01")
    with pytest.raises(ValidationError, match="lost"):
        services.opportunity_save(lead=sql, by=ae, amount="24000", stage="lost", expected_close="")
    acting(
        MONDAY_11,
        lambda: services.opportunity_save(
            lead=sql, by=ae, amount="24000", stage="lost", expected_close="", loss_reason="Chose a competitor"
        ),
    )
    sql.refresh_from_db()
    assert sql.stage == Stage.LOST
    assert Opportunity.objects.count() == 1


def test_a_rep_claims_an_unowned_lead_of_their_territory_once(germany, sdr, other_sdr, acting):
    lead = new_sql(at=MONDAY_10)
    RoutingDecision.objects.create(
        lead=lead,
        territory=germany,
        queue="overflow",
        path=["every rep at capacity"],
        reason="x",
        decided_at=MONDAY_10,
        by_system="routing",
    )
    with pytest.raises(PermissionDenied, match="not a member"):
        services.lead_claim(lead=lead, by=other_sdr)
    acting(MONDAY_11, lambda: services.lead_claim(lead=lead, by=sdr))
    lead.refresh_from_db()
    assert lead.owner == sdr
    assert clock(lead, "sdr-accept-reject").owner == sdr
    with pytest.raises(services.LeadChanged, match="claimed this lead first"):
        services.lead_claim(lead=lead, by=germany.gina)


def test_a_claim_respects_capacity(germany, sdr, acting):
    from routing.models import RepMonthlyLoad, TerritoryMember

    TerritoryMember.objects.filter(user=sdr).update(monthly_capacity=3)
    RepMonthlyLoad.objects.create(user=sdr, month=MONDAY_10.date().replace(day=1), assigned=3)
    lead = new_sql(at=MONDAY_10)
    RoutingDecision.objects.create(
        lead=lead,
        territory=germany,
        queue="overflow",
        path=["x"],
        reason="x",
        decided_at=MONDAY_10,
        by_system="routing",
    )
    with pytest.raises(PermissionDenied, match="capacity"):
        acting(MONDAY_11, lambda: services.lead_claim(lead=lead, by=sdr))


def test_a_manager_reassigns_a_selection_with_a_reason_and_each_refusal_is_named(
    sql, sdr, manager, germany, other_sdr, acting
):
    foreign = new_sql(at=MONDAY_10)
    Lead.objects.filter(pk=foreign.pk).update(owner=other_sdr)
    with pytest.raises(ValidationError):
        services.leads_reassign(lead_ids=[sql.pk], to_user=germany.gina, by=manager, reason=" ")
    result = acting(
        MONDAY_11,
        lambda: services.leads_reassign(
            lead_ids=[sql.pk, foreign.pk], to_user=germany.gina, by=manager, reason="Sam is at a conference"
        ),
    )
    assert result.done == [sql.pk]
    assert result.refused == {foreign.pk: "This lead belongs to a rep outside the teams you manage."}
    sql.refresh_from_db()
    assert sql.owner == germany.gina
    assert clock(sql, "sdr-accept-reject", owner=sdr).state == "cancelled"
    assert clock(sql, "sdr-accept-reject", owner=germany.gina).state == "open"
    assert AuditEntry.objects.filter(action="lead.assign", object_id=str(sql.pk), reason="Sam is at a conference")


def test_bulk_reject_rejects_my_sqls_and_names_the_ones_it_could_not(sql, sdr, other_sdr, reasons, acting):
    theirs = new_sql(at=MONDAY_10)
    Lead.objects.filter(pk=theirs.pk).update(owner=other_sdr)
    result = acting(
        MONDAY_11,
        lambda: services.leads_reject(lead_ids=[sql.pk, theirs.pk], by=sdr, reason_code="not_icp", note="Too small"),
    )
    assert result.done == [sql.pk]
    assert result.refused == {theirs.pk: "Only the lead's owner accepts or rejects it."}


def test_a_superuser_without_a_sales_role_cannot_accept(sql):
    boss = UserFactory(username="root", is_superuser=True, is_staff=True)
    with pytest.raises(PermissionDenied, match="Your role does not accept"):
        services.lead_accept(lead=sql, by=boss)


def test_a_manager_giving_a_waiting_accepted_lead_to_an_ae_starts_their_review_clock(sql, sdr, ae, manager, acting):
    ae.is_active = False
    ae.save()
    acting(MONDAY_11, lambda: services.lead_accept(lead=sql, by=sdr))
    ae.is_active = True
    ae.save()
    at = berlin(2026, 11, 30, 13, 0)
    result = acting(
        at, lambda: services.leads_reassign(lead_ids=[sql.pk], to_user=ae, by=manager, reason="Back from leave")
    )
    assert result.done == [sql.pk]
    # While it waited, the review clock was the manager's (theirs to find an AE); it closes with the assignment.
    assert clock(sql, "ae-review", owner=manager).state == "cancelled"
    review = clock(sql, "ae-review", owner=ae)
    # 8 working hours from Monday 13:00 Berlin (12:00 UTC) on the manual decision's calendar (no territory: the
    # default 09:00-17:00 UTC): Monday 12:00-17:00 UTC (5 h), Tuesday 09:00-12:00 UTC (3 h) -> Tuesday 12:00 UTC
    assert (review.owner, review.state) == (ae, "open")
    assert review.due_at == dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def test_bulk_reject_names_an_mql_as_not_an_sql(sql, sdr, reasons, acting):
    mql = new_sql(at=MONDAY_10)
    Lead.objects.filter(pk=mql.pk).update(owner=sdr, stage=Stage.MQL)
    result = acting(
        MONDAY_11,
        lambda: services.leads_reject(lead_ids=[sql.pk, mql.pk], by=sdr, reason_code="not_icp", note="Too small"),
    )
    assert result.done == [sql.pk]
    assert result.refused == {mql.pk: "Only an SQL can be accepted or rejected; this lead is MQL."}


def test_an_ae_out_of_office_today_is_passed_over(sql, sdr, ae, team, manager, acting):
    from leadops.models import RepProfile

    second_ae = make_rep("ae2", team, manager, role="AE")
    # ae has no lead waiting and the lower id, so would be chosen; away 2026-11-30 to 2026-12-04
    RepProfile.objects.filter(user=ae).update(
        out_of_office_from=dt.date(2026, 11, 30), out_of_office_until=dt.date(2026, 12, 4)
    )
    acting(MONDAY_11, lambda: services.lead_accept(lead=sql, by=sdr))
    sql.refresh_from_db()
    assert sql.owner == second_ae
