"""The lead page as the SDR's work surface: what it shows, and a cost that does not grow with the lead's history."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leadops.models import Lead
from tests.factories import ActivityFactory, IntentSignalFactory, LeadEventFactory
from tests.sla.conftest import berlin, new_sql

pytestmark = pytest.mark.django_db

MONDAY_10 = berlin(2026, 11, 30, 10, 0)


def _queries(client, lead) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("lead_detail", args=[lead.pk]))
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_the_lead_page_costs_the_same_with_a_short_or_a_long_history(client, germany, sdr, route, reasons):
    short = new_sql(at=MONDAY_10)
    route(short, MONDAY_10)
    long = new_sql(at=MONDAY_10)
    route(long, MONDAY_10)
    long.refresh_from_db()
    for minutes in range(40):
        LeadEventFactory(lead=long, kind="page_view", occurred_at=MONDAY_10 - dt.timedelta(minutes=minutes))
    for hours in range(12):
        ActivityFactory(lead=long, rep=long.owner, kind="call", occurred_at=MONDAY_10 + dt.timedelta(hours=hours))
    for days in range(6):
        IntentSignalFactory(account=long.account, lead=None, observed_at=MONDAY_10 - dt.timedelta(days=days))
    short.refresh_from_db()
    long.refresh_from_db()
    # Routing shares them out: one is sdr's, the other gina's (both SDRs of the territory, so the same page).
    assert {short.owner, long.owner} == {sdr, germany.gina}

    def cost(lead):
        client.force_login(lead.owner)
        _queries(client, lead)  # warm what a signed-in session caches (permissions, content types)
        return _queries(client, lead)

    assert cost(long) == cost(short)


def test_the_lead_page_shows_the_owner_actions_activity_notes_and_intent(client, germany, sdr, route, reasons):
    lead = new_sql(at=MONDAY_10)
    route(lead, MONDAY_10)
    ActivityFactory(
        lead=lead, rep=sdr, kind="call", occurred_at=MONDAY_10, outcome="Connected", notes="Asked for a demo"
    )
    IntentSignalFactory(account=lead.account, lead=None, topic="lead routing", observed_at=MONDAY_10)
    client.force_login(sdr)
    page = client.get(reverse("lead_detail", args=[lead.pk])).content.decode()
    for text in ("Accept and hand to an AE", "Reject this SQL", "Log an activity", "Asked for a demo", "lead routing"):
        assert text in page
    assert Lead.objects.get(pk=lead.pk).owner == sdr


def test_a_manager_sees_the_lead_without_the_owners_actions(client, germany, sdr, manager, route, reasons):
    lead = new_sql(at=MONDAY_10)
    route(lead, MONDAY_10)
    client.force_login(manager)
    page = client.get(reverse("lead_detail", args=[lead.pk])).content.decode()
    assert "Accept and hand to an AE" not in page
    assert "Log an activity" not in page


def test_a_manager_gets_a_link_to_reassign_instead_of_an_empty_actions_box(client, germany, sdr, manager, route):
    lead = new_sql(at=MONDAY_10)
    route(lead, MONDAY_10)
    client.force_login(manager)
    page = client.get(reverse("lead_detail", args=[lead.pk])).content.decode()
    assert "Your next step" not in page
    assert reverse("handoff:team_rep", args=[sdr.pk]) in page


def test_a_marketer_sees_no_actions_box_at_all(client, germany, sdr, marketer, route):
    lead = new_sql(at=MONDAY_10)
    route(lead, MONDAY_10)
    client.force_login(marketer)
    page = client.get(reverse("lead_detail", args=[lead.pk])).content.decode()
    assert "Your next step" not in page
    assert "Manager actions" not in page
