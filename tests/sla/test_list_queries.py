"""The SLA list pages cost the same number of queries whatever the number of clocks on them."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sla.services import clock_start, sla_sweep
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)


def clocked_leads(policies, sdr, count):
    """`count` leads of the SDR, each with a breached hot contact clock and an accept / reject clock due soon."""
    for _ in range(count):
        lead = LeadFactory(owner=sdr, stage="sql")
        clock_start(
            lead=lead, policy=policies["contact-hot"], owner_id=sdr.pk, started_at=NOW - dt.timedelta(minutes=7)
        )
        clock_start(lead=lead, policy=policies["sdr-accept-reject"], owner_id=sdr.pk, started_at=NOW)
    sla_sweep(now=NOW)


def page_queries(client, url):
    with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_my_clocks_costs_the_same_with_one_clock_or_many(client, sdr, policies):
    client.force_login(sdr)
    clocked_leads(policies, sdr, 1)
    one, page = page_queries(client, reverse("sla:my_clocks"))
    assert page.count('data-testid="my-clock"') == 2  # a breached clock runs on until it is stopped
    clocked_leads(policies, sdr, 4)
    many, page = page_queries(client, reverse("sla:my_clocks"))
    assert page.count('data-testid="my-clock"') == 10
    assert many == one


def test_the_team_board_costs_the_same_with_one_clock_or_many(client, manager, sdr, policies):
    client.force_login(manager)
    clocked_leads(policies, sdr, 1)
    one, page = page_queries(client, reverse("sla:team_board"))
    assert page.count('data-testid="breached-today"') == 1
    clocked_leads(policies, sdr, 4)
    many, page = page_queries(client, reverse("sla:team_board"))
    assert page.count('data-testid="breached-today"') == 5
    assert many == one


def test_the_policies_page_costs_the_same_whatever_the_ladders(client, admin_user, policies):
    client.force_login(admin_user)
    count, page = page_queries(client, reverse("sla:policy_list"))
    assert page.count('data-testid="policy"') == len(policies)
    policy = next(iter(policies.values()))
    policy.ladder = [{"at": 1, "action": "notify_owner"}, {"at": 2, "action": "notify_manager"}]
    policy.save()
    assert page_queries(client, reverse("sla:policy_list"))[0] == count
