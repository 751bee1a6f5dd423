"""Ownership disputes: the owner disputes, RevOps resolves (keep, move, split), everyone concerned is told."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from leadops.models import AuditEntry, Notification
from routing import services_disputes
from routing.models import OwnershipDispute, RoutingDecision
from tests.routing.conftest import sql_lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def sdrs_lead(emea, sdr):
    lead = sql_lead(owner=sdr)
    return lead


def test_the_owner_disputes_from_the_lead_page(client, sdr, admin_user, sdrs_lead):
    client.force_login(sdr)
    page = client.get(reverse("lead_detail", args=[sdrs_lead.pk])).content.decode()
    assert 'data-testid="dispute-button"' in page
    response = client.post(
        reverse("routing:dispute_new", args=[sdrs_lead.pk]), {"reason": "Globex is Ana's named account"}
    )
    dispute = OwnershipDispute.objects.get(lead=sdrs_lead)
    assert response.status_code == 302 and response.url == reverse("routing:dispute_detail", args=[dispute.pk])
    assert (dispute.opened_by, dispute.status, dispute.reason) == (sdr, "open", "Globex is Ana's named account")
    note = Notification.objects.get(kind="dispute_opened")
    assert note.recipient == admin_user and "Globex is Ana's named account" in note.message
    assert AuditEntry.objects.filter(action="routing.dispute_open", object_id=str(sdrs_lead.pk)).exists()


def test_another_rep_cannot_dispute_someone_elses_lead(client, other_sdr, ae, sdrs_lead):
    client.force_login(other_sdr)
    assert client.get(reverse("routing:dispute_new", args=[sdrs_lead.pk])).status_code == 404  # not even visible
    with pytest.raises(PermissionDenied):
        services_disputes.dispute_open(lead=sdrs_lead, by=other_sdr, reason="mine")
    assert not OwnershipDispute.objects.exists()


@pytest.mark.parametrize("role", ["manager", "admin_user", "marketer"])
def test_roles_that_do_not_work_leads_cannot_dispute(client, request, role, sdrs_lead):
    client.force_login(request.getfixturevalue(role))
    assert client.post(reverse("routing:dispute_new", args=[sdrs_lead.pk]), {"reason": "x"}).status_code == 403
    page = client.get(reverse("lead_detail", args=[sdrs_lead.pk])).content.decode()
    assert 'data-testid="dispute-button"' not in page


def test_a_closed_lead_cannot_be_disputed(client, sdr, sdrs_lead):
    sdrs_lead.stage = "disqualified"
    sdrs_lead.save(update_fields=["stage"])
    client.force_login(sdr)
    assert (
        'data-testid="dispute-button"' not in client.get(reverse("lead_detail", args=[sdrs_lead.pk])).content.decode()
    )
    assert client.post(reverse("routing:dispute_new", args=[sdrs_lead.pk]), {"reason": "x"}).status_code == 403


def test_a_dispute_needs_a_reason_and_one_is_open_at_a_time(client, sdr, sdrs_lead):
    client.force_login(sdr)
    response = client.post(reverse("routing:dispute_new", args=[sdrs_lead.pk]), {"reason": "  "})
    assert response.status_code == 200 and response.context["form"].errors["reason"]
    services_disputes.dispute_open(lead=sdrs_lead, by=sdr, reason="Wrong territory")
    with pytest.raises(ValidationError) as refused:
        services_disputes.dispute_open(lead=sdrs_lead, by=sdr, reason="Again")
    assert "already has an open dispute" in refused.value.message_dict["reason"][0]


def test_only_admins_resolve(client, sdr, manager, sdrs_lead):
    dispute = services_disputes.dispute_open(lead=sdrs_lead, by=sdr, reason="Wrong territory")
    for person in (sdr, manager):
        client.force_login(person)
        response = client.post(
            reverse("routing:dispute_detail", args=[dispute.pk]), {"outcome": "keep", "note": "Stays"}
        )
        assert response.status_code == 403
        with pytest.raises(PermissionDenied):
            services_disputes.dispute_resolve(dispute=dispute, by=person, outcome="keep", note="Stays")
    dispute.refresh_from_db()
    assert dispute.status == "open"


def test_keep_tells_the_rep(client, sdr, admin_user, sdrs_lead):
    dispute = services_disputes.dispute_open(lead=sdrs_lead, by=sdr, reason="Wrong territory")
    client.force_login(admin_user)
    response = client.post(
        reverse("routing:dispute_detail", args=[dispute.pk]), {"outcome": "keep", "note": "Germany is EMEA"}
    )
    assert response.status_code == 302
    dispute.refresh_from_db()
    sdrs_lead.refresh_from_db()
    assert (dispute.status, dispute.outcome, dispute.resolved_by) == ("resolved", "keep", admin_user)
    assert sdrs_lead.owner == sdr
    note = Notification.objects.get(kind="dispute_resolved")
    assert note.recipient == sdr and "the lead stays with you" in note.message


def test_move_reassigns_through_routing(sdr, ae, admin_user, sdrs_lead):
    dispute = services_disputes.dispute_open(lead=sdrs_lead, by=sdr, reason="Ae owns Globex")
    services_disputes.dispute_resolve(dispute=dispute, by=admin_user, outcome="move", note="Agreed", other_rep=ae)
    sdrs_lead.refresh_from_db()
    assert sdrs_lead.owner == ae
    decision = RoutingDecision.objects.get(lead=sdrs_lead, kind="manual")
    assert decision.assignee == ae and "Ownership dispute resolved: Agreed" in decision.path[0]


def test_split_keeps_the_owner_and_records_who_shares(sdr, ae, admin_user, sdrs_lead):
    dispute = services_disputes.dispute_open(lead=sdrs_lead, by=sdr, reason="Ae sourced it")
    with pytest.raises(ValidationError):
        services_disputes.dispute_resolve(dispute=dispute, by=admin_user, outcome="split", note="Half")  # no rep
    services_disputes.dispute_resolve(dispute=dispute, by=admin_user, outcome="split", note="Half", other_rep=ae)
    dispute.refresh_from_db()
    sdrs_lead.refresh_from_db()
    assert (dispute.outcome, dispute.other_rep, sdrs_lead.owner) == ("split", ae, sdr)


def test_the_disputes_page_reports_resolution_times_against_48_hours(client, sdr, ae, admin_user, emea):
    now = timezone.now()
    fast, slow, waiting = sql_lead(owner=sdr), sql_lead(owner=sdr), sql_lead(owner=ae)
    d1 = services_disputes.dispute_open(lead=fast, by=sdr, reason="a", now=now - dt.timedelta(hours=10))
    services_disputes.dispute_resolve(
        dispute=d1, by=admin_user, outcome="keep", note="ok", now=now - dt.timedelta(hours=7)
    )
    d2 = services_disputes.dispute_open(lead=slow, by=sdr, reason="b", now=now - dt.timedelta(hours=80))
    services_disputes.dispute_resolve(
        dispute=d2, by=admin_user, outcome="keep", note="ok", now=now - dt.timedelta(hours=20)
    )
    services_disputes.dispute_open(lead=waiting, by=ae, reason="c", now=now - dt.timedelta(hours=50))
    client.force_login(admin_user)
    response = client.get(reverse("routing:dispute_list"))
    report = response.context["report"]
    assert (report["open"], report["open_overdue"], report["resolved"], report["within_target"]) == (1, 1, 2, 1)
    assert report["within_target_pct"] == 50
    page = response.content.decode()
    assert "3 h 0 min" in page and "2 d 12 h" in page and "past 48 h" in page


def test_a_rep_lists_only_their_own_disputes_and_a_manager_their_teams(client, sdr, other_sdr, manager, emea):
    mine = services_disputes.dispute_open(lead=sql_lead(owner=sdr), by=sdr, reason="a")
    theirs = services_disputes.dispute_open(lead=sql_lead(owner=other_sdr), by=other_sdr, reason="b")
    client.force_login(sdr)
    assert [d.pk for d in client.get(reverse("routing:dispute_list")).context["disputes"]] == [mine.pk]
    assert client.get(reverse("routing:dispute_detail", args=[theirs.pk])).status_code == 404
    client.force_login(manager)
    assert [d.pk for d in client.get(reverse("routing:dispute_list")).context["disputes"]] == [mine.pk]


def test_the_dispute_panel_costs_one_query_beyond_the_permission_check(sdr, sdrs_lead, django_assert_num_queries):
    services_disputes.dispute_open(lead=sdrs_lead, by=sdr, reason="Wrong territory")

    sdr_fresh = type(sdr).objects.get(pk=sdr.pk)
    with django_assert_num_queries(2):  # the role permissions (cached on the user afterwards) and the disputes
        order, html = services_disputes.lead_dispute_panel(None, lead=sdrs_lead, user=sdr_fresh, request=None)
    assert order == 11 and "dispute open" in html


def test_opening_and_resolving_are_announced_after_commit(
    sdr, admin_user, sdrs_lead, django_capture_on_commit_callbacks
):
    heard = []

    def listener(sender, dispute_id, status, **kwargs):
        heard.append(status)

    services_disputes.dispute_changed.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            dispute = services_disputes.dispute_open(lead=sdrs_lead, by=sdr, reason="Wrong territory")
        assert heard == ["open"]
        with django_capture_on_commit_callbacks(execute=True):
            services_disputes.dispute_resolve(dispute=dispute, by=admin_user, outcome="keep", note="Stays")
    finally:
        services_disputes.dispute_changed.disconnect(listener)
    assert heard == ["open", "resolved"]


def test_the_disputes_page_costs_the_same_queries_for_more_disputes(
    client, sdr, ae, admin_user, emea, django_assert_max_num_queries
):
    services_disputes.dispute_open(lead=sql_lead(owner=sdr), by=sdr, reason="a")
    client.force_login(admin_user)
    client.get(reverse("routing:dispute_list"))
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("routing:dispute_list"))
    for _ in range(4):
        dispute = services_disputes.dispute_open(lead=sql_lead(owner=ae), by=ae, reason="b")
        services_disputes.dispute_resolve(dispute=dispute, by=admin_user, outcome="split", note="c", other_rep=sdr)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("routing:dispute_list"))


def test_a_dispute_is_late_only_past_48_hours_open_or_until_resolved():
    opened = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    on_time = OwnershipDispute(opened_at=opened)
    assert services_disputes.is_late(on_time, now=dt.datetime(2026, 3, 4, 9, 0, tzinfo=dt.UTC)) is False
    assert services_disputes.is_late(on_time, now=dt.datetime(2026, 3, 4, 9, 1, tzinfo=dt.UTC)) is True
    resolved_late = OwnershipDispute(opened_at=opened, resolved_at=dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC))
    assert services_disputes.is_late(resolved_late, now=dt.datetime(2026, 3, 9, tzinfo=dt.UTC)) is True


@pytest.mark.parametrize("owner", ["other_sdr", None])
def test_a_rep_cannot_open_a_dispute_on_another_reps_or_an_unowned_lead_from_the_page(client, request, sdr, owner):
    lead = sql_lead(owner=request.getfixturevalue(owner) if owner else None)
    client.force_login(sdr)
    assert client.post(reverse("routing:dispute_new", args=[lead.pk]), {"reason": "mine"}).status_code in (403, 404)
    assert client.get(reverse("routing:dispute_new", args=[lead.pk])).status_code in (403, 404)
    assert not OwnershipDispute.objects.exists()
