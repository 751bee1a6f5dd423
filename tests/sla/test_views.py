"""SLA pages, the lead page panel and the API: who sees what, and what they see."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.urls import reverse

from leadops.models import AuditEntry
from sla.models import SlaClock, SlaPolicy, SlaPolicyChange
from sla.panels import lead_sla_panel
from sla.services import clock_start, sla_sweep
from tests.factories import LeadFactory
from tests.sla.conftest import OFFICE

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def clocked(policies, sdr):
    """An SDR's lead with a breached hot contact clock (and its steps) and an open accept / reject clock."""
    lead = LeadFactory(owner=sdr, stage="sql", first_name="Ada", last_name="Lovelace")
    clock_start(lead=lead, policy=policies["contact-hot"], owner_id=sdr.pk, started_at=NOW - dt.timedelta(minutes=7))
    clock_start(lead=lead, policy=policies["sdr-accept-reject"], owner_id=sdr.pk, started_at=NOW)
    sla_sweep(now=NOW)
    return lead


def test_the_lead_page_shows_the_sla_panel_with_the_steps_taken(client, sdr, clocked):
    client.force_login(sdr)
    page = client.get(reverse("lead_detail", args=[clocked.pk])).content.decode()
    assert "Service levels" in page
    assert "Time to contact, hot lead" in page and "breached" in page
    assert f"notified the owner {sdr.get_full_name()}" in page
    assert "SDR accept / reject (2 business days)" in page


def test_the_sla_panel_costs_two_queries(clocked, sdr, django_assert_num_queries):
    with django_assert_num_queries(2):
        order, html = lead_sla_panel(None, lead=clocked, user=sdr, request=None)
    assert order == 20 and "Service levels" in html


def test_a_lead_without_clocks_has_no_sla_panel(sdr):
    assert lead_sla_panel(None, lead=LeadFactory(owner=sdr), user=sdr, request=None) is None


def test_a_rep_sees_their_own_open_clocks_only(client, sdr, other_sdr, clocked, policies):
    other = LeadFactory(owner=other_sdr, stage="sql", first_name="Grace", last_name="Hopper")
    clock_start(lead=other, policy=policies["contact-cold"], owner_id=other_sdr.pk, started_at=NOW)
    client.force_login(sdr)
    page = client.get(reverse("sla:my_clocks")).content.decode()
    assert page.count('data-testid="my-clock"') == 2
    assert "Ada Lovelace" in page and "Grace Hopper" not in page


@pytest.mark.parametrize(
    ("actor", "url", "status"),
    [
        ("sdr", "sla:my_clocks", 200),
        ("ae", "sla:my_clocks", 200),
        ("manager", "sla:my_clocks", 403),
        ("outsider", "sla:my_clocks", 403),
        ("manager", "sla:team_board", 200),
        ("admin", "sla:team_board", 200),
        ("sdr", "sla:team_board", 403),
        ("marketer", "sla:team_board", 403),
        ("admin", "sla:policy_list", 200),
        ("manager", "sla:policy_list", 403),
        ("sdr", "sla:policy_list", 403),
    ],
)
def test_sla_pages_by_role(client, cast, policies, actor, url, status):
    client.force_login(cast[actor])
    assert client.get(reverse(url)).status_code == status


def test_the_team_board_shows_breaches_and_compliance_of_the_team_only(client, manager, other_sdr, clocked, policies):
    other = LeadFactory(owner=other_sdr, stage="sql", first_name="Grace", last_name="Hopper")
    started = NOW - dt.timedelta(minutes=7)
    clock_start(lead=other, policy=policies["contact-hot"], owner_id=other_sdr.pk, started_at=started)
    sla_sweep(now=NOW)
    client.force_login(manager)
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):
        response = client.get(reverse("sla:team_board"))
    page = response.content.decode()
    assert page.count('data-testid="breached-today"') == 1
    assert "Ada Lovelace" in page and "Grace Hopper" not in page
    week = response.context["board"]
    assert [(row.policy.key, row.met, row.breached) for row in week["per_policy"]] == [("contact-hot", 0, 1)]
    assert week["week_rate"] == 0.0


def test_the_policies_page_previews_when_a_clock_would_be_due(client, admin_user, policies):
    client.force_login(admin_user)
    response = client.get(
        reverse("sla:policy_list"),
        {"calendar": json.dumps(OFFICE), "start": "2026-12-24 15:00", "minutes": 16 * 60},
    )
    # 15:00 UTC is 16:00 in Berlin: 1 h on the 24th, Christmas skipped, 8 h on Monday 28th, 7 h on Tuesday 29th
    assert response.context["preview"]["due"].isoformat() == "2026-12-29T16:00:00+01:00"
    assert 'data-testid="preview-due"' in response.content.decode()


def test_the_preview_names_what_is_wrong_with_a_calendar(client, admin_user, policies):
    client.force_login(admin_user)
    bad = {"time_zone": "Mars/Olympus", "weekly_hours": {"mon": [["17:00", "09:00"]]}}
    response = client.get(
        reverse("sla:policy_list"), {"calendar": json.dumps(bad), "start": "2026-12-24 15:00", "minutes": 60}
    )
    errors = response.context["form"].errors["calendar"]
    assert any(error.startswith("time_zone:") for error in errors)
    assert any(error.startswith("weekly_hours.mon:") for error in errors)
    assert response.context["preview"] is None


def test_an_admin_changes_a_target_and_it_is_audited(client, admin_user, policies):
    client.force_login(admin_user)
    url = reverse("sla:policy_edit", args=["contact-warm"])
    data = {"name": "Time to contact, warm lead", "target_minutes": 20, "active": "on", "ladder": "[]"}
    assert client.post(url, data).status_code == 302
    # A longer target and fewer steps loosen the policy: stored for a second person's approval, not applied.
    policy = SlaPolicy.objects.get(key="contact-warm")
    assert (policy.target, len(policy.ladder)) == (dt.timedelta(minutes=15), 3)
    change = SlaPolicyChange.objects.get(policy=policy, status="pending")
    assert (change.data["target"], change.data["ladder"]) == (1200, [])
    entry = AuditEntry.objects.get(action="sla.policy_change_propose")
    assert "notify_owner removed" in entry.reason and "target 0:15:00 -> 0:20:00" in entry.reason


def test_an_admin_tightens_a_target_and_it_applies_at_once(client, admin_user, policies):
    client.force_login(admin_user)
    url = reverse("sla:policy_edit", args=["contact-warm"])
    ladder = json.dumps(SlaPolicy.objects.get(key="contact-warm").ladder)
    data = {"name": "Time to contact, warm lead", "target_minutes": 10, "active": "on", "ladder": ladder}
    assert client.post(url, data).status_code == 302
    assert SlaPolicy.objects.get(key="contact-warm").target == dt.timedelta(minutes=10)
    assert AuditEntry.objects.get(action="sla.policy_save").changes == {"target": ["0:15:00", "0:10:00"]}
    assert not SlaPolicyChange.objects.exists()


def test_a_zero_target_is_refused_on_the_page_and_nothing_changes(client, admin_user, policies):
    client.force_login(admin_user)
    url = reverse("sla:policy_edit", args=["contact-warm"])
    response = client.post(url, {"name": "Warm", "target_minutes": 0, "active": "on", "ladder": "[]"})
    assert response.status_code == 200
    assert response.context["form"].errors["target_minutes"] == ["A target must be longer than zero."]
    assert SlaPolicy.objects.get(key="contact-warm").target == dt.timedelta(minutes=15)


def test_a_manager_cannot_edit_policies(client, manager, policies):
    client.force_login(manager)
    url = reverse("sla:policy_edit", args=["contact-warm"])
    assert client.post(url, {"name": "x", "target_minutes": 999, "ladder": "[]"}).status_code == 403
    assert SlaPolicy.objects.get(key="contact-warm").target == dt.timedelta(minutes=15)


# --- API -----------------------------------------------------------------------------------------------------------


def test_the_api_lists_a_leads_clocks_for_whoever_sees_the_lead(client, sdr, manager, other_sdr, clocked):
    url = reverse("api_sla_lead_clocks", args=[clocked.pk])
    client.force_login(sdr)
    body = client.get(url).json()
    clocks = (
        {row["policy"]: row for row in body["results"]}
        if isinstance(body, dict)
        else {row["policy"]: row for row in body}
    )
    assert clocks["contact-hot"]["state"] == "breached"
    assert [step["action"] for step in clocks["contact-hot"]["steps"]] == ["breach", "notify_owner", "notify_manager"]
    client.force_login(manager)
    assert client.get(url).status_code == 200
    client.force_login(other_sdr)
    assert client.get(url).status_code == 404


def test_the_compliance_api_is_for_managers_and_admins(client, sdr, manager, clocked):
    url = reverse("api_sla_compliance")
    client.force_login(sdr)
    assert client.get(url).status_code == 403
    client.force_login(manager)
    body = client.get(url, {"since": "2026-11-30T00:00:00Z", "until": "2026-12-01T00:00:00Z"}).json()
    rows = {row["policy"]: row for row in body["policies"]}
    assert rows["contact-hot"] == {"policy": "contact-hot", "met": 0, "breached": 1, "compliance_pct": 0.0}
    assert rows["contact-cold"]["compliance_pct"] is None
    assert client.get(url, {"since": "yesterday"}).status_code == 400


def test_clocks_are_never_listed_to_an_outsider(client, outsider, clocked):
    client.force_login(outsider)
    assert client.get(reverse("api_sla_lead_clocks", args=[clocked.pk])).status_code in (403, 404)
    assert SlaClock.objects.filter(lead=clocked).count() == 2


def test_the_preview_uses_a_territorys_calendar(client, admin_user, germany):
    client.force_login(admin_user)
    response = client.get(
        reverse("sla:policy_list"), {"territory": germany.pk, "start": "2026-03-27 13:00", "minutes": 16 * 60}
    )
    # 14:00 CET Friday: 3 h, Monday 8 h, Tuesday 5 h -> 14:00 CEST on Tuesday 31 March
    assert response.context["preview"]["due"].isoformat() == "2026-03-31T14:00:00+02:00"


def test_the_preview_needs_a_calendar(client, admin_user, policies):
    client.force_login(admin_user)
    response = client.get(reverse("sla:policy_list"), {"start": "2026-03-27 13:00", "minutes": 60})
    assert response.context["form"].errors["calendar"] == ["Choose a territory or write a calendar."]
