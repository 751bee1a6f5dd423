"""Each SLA page and API tried by the wrong person: another team's manager, another rep, a marketer, an outsider."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.urls import reverse

from sla.models import SlaPolicy
from sla.services import clock_start, sla_sweep
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def sdr_lead(policies, sdr):
    """The SDR's lead (manager's team) with a hot contact clock breached at NOW."""
    lead = LeadFactory(owner=sdr, stage="sql", first_name="Ada", last_name="Lovelace")
    clock_start(lead=lead, policy=policies["contact-hot"], owner_id=sdr.pk, started_at=NOW - dt.timedelta(minutes=7))
    sla_sweep(now=NOW)
    return lead


@pytest.fixture
def other_manager(other_sdr):
    return get_user_model().objects.get(username="other_manager")


def test_another_teams_manager_cannot_read_a_leads_clocks(client, other_manager, sdr_lead):
    client.force_login(other_manager)
    assert client.get(reverse("api_sla_lead_clocks", args=[sdr_lead.pk])).status_code == 404


def test_another_teams_manager_sees_none_of_the_teams_breaches_on_the_board(client, other_manager, sdr_lead):
    client.force_login(other_manager)
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):
        response = client.get(reverse("sla:team_board"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="breached-today"' not in page and "Ada Lovelace" not in page
    assert response.context["board"]["week_closed"] == 0


def test_another_teams_manager_counts_none_of_the_teams_clocks_in_compliance(client, other_manager, sdr_lead):
    client.force_login(other_manager)
    body = client.get(
        reverse("api_sla_compliance"), {"since": "2026-11-30T00:00:00Z", "until": "2026-12-01T00:00:00Z"}
    ).json()
    rows = {row["policy"]: row for row in body["policies"]}
    assert rows["contact-hot"] == {"policy": "contact-hot", "met": 0, "breached": 0, "compliance_pct": None}


def test_a_rep_does_not_see_another_reps_clocks_on_my_clocks(client, other_sdr, sdr_lead):
    client.force_login(other_sdr)
    response = client.get(reverse("sla:my_clocks"))
    assert response.status_code == 200
    assert response.context["clocks"] == []
    assert "Ada Lovelace" not in response.content.decode()


@pytest.mark.parametrize("actor", ["marketer", "outsider", "other_sdr"])
def test_the_compliance_api_is_refused_to_reps_marketers_and_outsiders(client, cast, sdr_lead, actor):
    client.force_login(cast[actor])
    assert client.get(reverse("api_sla_compliance")).status_code == 403


@pytest.mark.parametrize("actor", ["sdr", "ae", "manager", "marketer", "outsider"])
def test_only_configurers_open_or_post_a_policy(client, cast, policies, actor):
    client.force_login(cast[actor])
    url = reverse("sla:policy_edit", args=["contact-warm"])
    assert client.get(url).status_code == 403
    data = {"name": "x", "target_minutes": 999, "active": "on", "ladder": "[]"}
    assert client.post(url, data).status_code == 403
    assert SlaPolicy.objects.get(key="contact-warm").target == dt.timedelta(minutes=15)


def test_the_pages_send_an_anonymous_visitor_to_log_in(client, policies):
    for name in ("sla:my_clocks", "sla:team_board", "sla:policy_list"):
        assert client.get(reverse(name)).status_code == 302
    assert client.get(reverse("api_sla_compliance")).status_code in (401, 403)
