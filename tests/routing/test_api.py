"""Routing API: who may call what (each role x endpoint), what a dry run answers, how bad input is refused."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from leadops.models import AuditEntry
from routing import services
from routing.models import RepMonthlyLoad, RoutingDecision, Territory
from tests.routing.conftest import sql_lead

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "outsider", "sdr", "ae", "manager", "marketer", "admin"]


@pytest.fixture
def world(cast, emea):
    lead = sql_lead()
    services.lead_route(lead_id=lead.pk)  # goes to the sdr
    return {"lead": lead, "territory": emea, **cast}


def _client(world, role):
    client = APIClient()
    if role != "anonymous":
        client.force_authenticate(world[role])
    return client


def _territory_body(world, name="APAC"):
    return {"name": name, "priority": 5, "team_id": world["territory"].team_id, "countries": ["AU", "NZ"]}


ENDPOINTS = {
    # name: (method, url, body, statuses in the order of ROLES)
    "decisions": (
        "get",
        lambda w: f"/api/routing/leads/{w['lead'].pk}/decisions/",
        None,
        [401, 403, 200, 404, 200, 200, 200],
    ),
    "dry run": (
        "post",
        lambda w: "/api/routing/dry-run/",
        lambda w: {"score": 80, "fit": 80, "country": "DE", "last_signal_at": timezone.now().isoformat()},
        [401, 403, 403, 403, 200, 403, 200],
    ),
    "territories": ("get", lambda w: "/api/routing/territories/", None, [401, 403, 200, 200, 200, 200, 200]),
    "territory": (
        "get",
        lambda w: f"/api/routing/territories/{w['territory'].pk}/",
        None,
        [401, 403, 200, 200, 200, 200, 200],
    ),
    "create territory": (
        "post",
        lambda w: "/api/routing/territories/",
        _territory_body,
        [401, 403, 403, 403, 403, 403, 201],
    ),
    "change territory": (
        "patch",
        lambda w: f"/api/routing/territories/{w['territory'].pk}/",
        lambda w: {"priority": 3},
        [401, 403, 403, 403, 403, 403, 200],
    ),
}

CASES = [(name, role, spec[3][i]) for name, spec in ENDPOINTS.items() for i, role in enumerate(ROLES)]


@pytest.mark.parametrize(("endpoint", "role", "expected"), CASES)
def test_permission_matrix(world, endpoint, role, expected):
    method, url, body, _ = ENDPOINTS[endpoint]
    kwargs = {"format": "json"}
    if body is not None:
        kwargs["data"] = body(world)
    response = getattr(_client(world, role), method)(url(world), **kwargs)
    assert response.status_code == expected, response.content
    if method != "get" and expected != 200 and expected != 201:
        assert Territory.objects.count() == 1 and Territory.objects.get().priority == 1


def test_a_leads_decisions_say_where_it_went_and_why(world):
    body = _client(world, "sdr").get(f"/api/routing/leads/{world['lead'].pk}/decisions/").json()
    (decision,) = body["results"]
    assert decision["assignee"]["username"] == "sdr"
    assert decision["territory"] == "EMEA" and decision["kind"] == "initial" and decision["by"] == "routing"
    assert decision["path"][2] == "territory EMEA (priority 1)"


def test_a_dry_run_answers_without_writing(world):
    decisions, loads = RoutingDecision.objects.count(), list(RepMonthlyLoad.objects.values_list("assigned", flat=True))
    response = _client(world, "admin").post(
        "/api/routing/dry-run/",
        {"score": 80, "fit": 40, "country": "France", "last_signal_at": timezone.now().isoformat()},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["assignee_id"] == world["territory"].gina.pk and body["territory_id"] == world["territory"].pk
    assert body["path"][-2] == "ICP weak (fit 40) -> generalists"
    assert RoutingDecision.objects.count() == decisions
    assert list(RepMonthlyLoad.objects.values_list("assigned", flat=True)) == loads


def test_a_dry_run_without_a_recent_signal_says_nurture(world):
    response = _client(world, "manager").post("/api/routing/dry-run/", {"score": 80, "fit": 80}, format="json")
    assert response.json()["queue"] == "nurture"


def test_bad_territory_input_is_refused_by_field(world):
    body = {
        **_territory_body(world),
        "countries": ["XX"],
        "calendar": {"time_zone": "Europe/Berlin", "weekly_hours": {"mon": [["17:00", "09:00"]]}},
        "members": [{"user_id": world["sdr"].pk, "role": "sdr", "weight": 0}],
    }
    response = _client(world, "admin").post("/api/routing/territories/", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "countries": ["'XX' is not an ISO country code such as DE or US."],
        "calendar.weekly_hours.mon": ["17:00-09:00: a working period must end after it starts."],
        "members.0.weight": ["A weight must be above zero."],
    }
    assert not Territory.objects.filter(name="APAC").exists()


def test_an_admin_creates_a_territory_with_members(world):
    body = {
        **_territory_body(world),
        "members": [{"user_id": world["other_sdr"].pk, "role": "specialist", "weight": 2}],
    }
    response = _client(world, "admin").post("/api/routing/territories/", body, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["members"][0]["username"] == "other_sdr" and created["members"][0]["monthly_capacity"] == 80
    assert AuditEntry.objects.filter(action="routing.territory_create", object_id=str(created["id"])).exists()


def test_numbers_too_big_to_store_are_refused_by_field_not_a_server_error(world):
    body = {
        **_territory_body(world),
        "priority": 10_000_000_000,
        "employees_min": 10_000_000_000,
        "members": [{"user_id": world["other_sdr"].pk, "role": "sdr", "monthly_capacity": 1_000_000}],
    }
    response = _client(world, "admin").post("/api/routing/territories/", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["errors"] == {
        "priority": ["must not be above 2147483647."],
        "employees_min": ["must not be above 2147483647."],
        "members.0.monthly_capacity": ["A capacity must not be above 32767."],
    }
    assert not Territory.objects.filter(name="APAC").exists()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"score": "high", "fit": 80},
        {"score": 10**12, "fit": 80},
        {"score": 80, "fit": 80, "employees": [1, 2]},
        {"score": 80, "fit": 80, "revenue": "1e400"},
        {"score": 80, "fit": 80, "named_owner_id": "someone"},
    ],
)
def test_a_dry_run_with_junk_is_refused_with_400(world, body):
    response = _client(world, "manager").post("/api/routing/dry-run/", body, format="json")
    assert response.status_code == 400


def test_a_dry_run_naming_an_owner_id_too_big_to_exist_still_answers(world):
    body = {
        "score": 80,
        "fit": 40,
        "country": "France",
        "named_owner_id": 10**15,
        "last_signal_at": timezone.now().isoformat(),
    }
    response = _client(world, "manager").post("/api/routing/dry-run/", body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["assignee_id"] == world["territory"].gina.pk
