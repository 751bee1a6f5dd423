"""An SLA world: the cast's team works a German territory (Berlin office hours, German public holidays) with two
specialists, sdr and gina, so a reassignment has somewhere to go."""

from __future__ import annotations

import datetime as dt
import importlib
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps

from leadops.rules import Stage
from routing.models import Territory, TerritoryMember
from routing.services import lead_route
from sla.models import SlaPolicy
from tests.factories import AccountFactory, LeadEventFactory, LeadFactory
from tests.routing.conftest import make_rep

BERLIN = ZoneInfo("Europe/Berlin")
UTC = dt.UTC
OFFICE = {
    "time_zone": "Europe/Berlin",
    "weekly_hours": {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays_country": "DE",
    "holidays": [],
}


def berlin(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BERLIN)


@pytest.fixture
def policies(db):
    """The playbook's defaults (a transactional test elsewhere may have flushed what the migration installed)."""
    if not SlaPolicy.objects.exists():
        importlib.import_module("sla.migrations.0002_default_policies").install(apps, None)
    return {policy.key: policy for policy in SlaPolicy.objects.all()}


@pytest.fixture
def germany(team, manager, sdr, policies):
    territory = Territory.objects.create(name="Germany", priority=1, countries=["DE"], team=team, calendar=OFFICE)
    gina = make_rep("gina", team, manager)
    TerritoryMember.objects.create(territory=territory, user=sdr, role="specialist")
    TerritoryMember.objects.create(territory=territory, user=gina, role="specialist")
    territory.gina = gina
    return territory


def new_sql(*, at, temperature="cold", fast_tracked=False, named_owner=None, score=80):
    """An SQL from Germany with a demo request the day before `at` (routing wants recent intent)."""
    account = AccountFactory(country="Germany", region="EMEA", named_account_owner=named_owner)
    lead = LeadFactory(
        account=account,
        stage=Stage.SQL,
        score_total=score,
        score_fit=80,
        temperature=temperature,
        sql_at=at,
        fast_tracked_at=at if fast_tracked else None,
        created_at=at - dt.timedelta(days=3),
    )
    LeadEventFactory(lead=lead, kind="demo_request", occurred_at=at - dt.timedelta(days=1))
    return lead


@pytest.fixture
def route(django_capture_on_commit_callbacks):
    """Route a lead at `at` (wall clock travelled there), running what waits for the commit (the SLA receivers)."""

    def route(lead, at):
        with time_machine.travel(at, tick=False), django_capture_on_commit_callbacks(execute=True):
            return lead_route(lead_id=lead.pk, now=at)

    return route


@pytest.fixture
def at_time(django_capture_on_commit_callbacks):
    """Run `fn` at `at` with the commit hooks run, e.g. at_time(berlin(...), sla_sweep)."""

    def run(when, fn, *args, **kwargs):
        with time_machine.travel(when, tick=False), django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run
