"""Capacity planning: the load formula exactly, each rep's load this month against capacity, the spread."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from routing import planning, selectors
from routing.models import RepMonthlyLoad, TerritoryMember
from tests.routing.conftest import make_rep

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("leads", "factor", "reps", "load"),
    [
        (1200, Decimal("1.0"), 12, Decimal("100")),
        (1200, Decimal("1.2"), 12, Decimal("120")),
        (1000, Decimal("1.0"), 12, Decimal("83.3")),
        (0, Decimal("1.0"), 3, Decimal("0")),
    ],
)
def test_rep_load_is_monthly_leads_times_factor_over_reps(leads, factor, reps, load):
    assert planning.rep_load(monthly_leads=leads, factor=factor, reps=reps) == load


def test_twelve_hundred_leads_over_twelve_reps_is_exactly_one_hundred():
    load = planning.rep_load(monthly_leads=1200, factor=Decimal("1.0"), reps=12)
    assert load == Decimal(100) and str(load) == "100"


def test_no_reps_is_refused():
    with pytest.raises(ValueError):
        planning.rep_load(monthly_leads=10, factor=Decimal(1), reps=0)


@pytest.mark.parametrize(("load", "band"), [(49, "below"), (50, "within"), (100, "within"), (101, "above")])
def test_the_benchmark_band_is_50_to_100(load, band):
    assert planning.band(load) == band


def test_the_page_works_out_the_plan_from_the_form(client, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("routing:capacity"), {"monthly_leads": "1200", "factor": "1.0", "reps": "12"})
    assert response.status_code == 200
    assert response.context["load"] == 100
    assert "(1,200 × 1.0) / 12 = <strong>100</strong>" in response.content.decode()
    response = client.get(reverse("routing:capacity"), {"monthly_leads": "1200", "factor": "1.2", "reps": "12"})
    assert response.context["load"] == 120 and response.context["load_band"] == "above"


def test_load_per_rep_this_month_against_capacity_and_the_spread(client, admin_user, emea, sdr, ae):
    month = selectors.month_of(timezone.localdate())
    RepMonthlyLoad.objects.create(user=sdr, month=month, assigned=64)
    RepMonthlyLoad.objects.create(user=ae, month=month, assigned=31)
    TerritoryMember.objects.filter(user=ae).update(monthly_capacity=40)
    client.force_login(admin_user)
    response = client.get(reverse("routing:capacity"))
    rows = {r.user_id: r for r in response.context["rows"]}
    assert (rows[sdr.pk].assigned, rows[sdr.pk].capacity, rows[sdr.pk].band) == (64, 80, "within")
    assert (rows[ae.pk].assigned, rows[ae.pk].capacity, rows[ae.pk].band, rows[ae.pk].used_pct) == (31, 40, "below", 78)
    assert rows[emea.gina.pk].assigned == 0
    spread = response.context["spread"]
    assert (spread["most"].user_id, spread["least"].user_id, spread["gap"]) == (sdr.pk, emea.gina.pk, 64)


def test_a_manager_sees_their_team_only(client, emea, sdr, other_sdr):
    month = selectors.month_of(timezone.localdate())
    RepMonthlyLoad.objects.create(user=other_sdr, month=month, assigned=12)
    RepMonthlyLoad.objects.create(user=sdr, month=month, assigned=5)
    manager = get_user_model().objects.get(username="manager")
    client.force_login(manager)
    ids = {r.user_id for r in client.get(reverse("routing:capacity")).context["rows"]}
    assert sdr.pk in ids and other_sdr.pk not in ids


@pytest.mark.parametrize(("role", "status"), [("sdr", 403), ("ae", 403), ("marketer", 403), ("outsider", 403)])
def test_reps_and_others_cannot_open_the_capacity_page(client, cast, role, status):
    client.force_login(cast[role])
    assert client.get(reverse("routing:capacity")).status_code == status


def test_the_capacity_page_costs_the_same_queries_for_more_reps(
    client, admin_user, emea, team, manager, django_assert_max_num_queries
):
    client.force_login(admin_user)
    client.get(reverse("routing:capacity"))
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("routing:capacity"))
    month = selectors.month_of(timezone.localdate())
    for number in range(5):
        rep = make_rep(f"rep{number}", team, manager)
        TerritoryMember.objects.create(territory=emea, user=rep, role="generalist")
        RepMonthlyLoad.objects.create(user=rep, month=month, assigned=number * 10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("routing:capacity"))
