"""The sweep takes each clock in its own transaction (a crash loses nothing), at a fixed number of queries per clock."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sla.models import SlaClock
from sla.services import clock_start, sla_sweep
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)


def sweep_queries(policies, sdr, count):
    """Queries of a sweep that finds `count` hot contact clocks an hour past due: every step at once (breach, notify
    the owner, notify the manager, reassign through routing)."""
    SlaClock.objects.all().delete()
    for _ in range(count):
        lead = LeadFactory(owner=sdr, stage="sql")
        clock_start(lead=lead, policy=policies["contact-hot"], owner_id=sdr.pk, started_at=NOW - dt.timedelta(hours=1))
    with CaptureQueriesContext(connection) as queries:
        result = sla_sweep(now=NOW)
    assert result.clocks == count
    return len(queries)


def test_each_clock_swept_costs_the_same_fixed_number_of_queries(policies, sdr):
    one, two, five = (sweep_queries(policies, sdr, n) for n in (1, 2, 5))
    per_clock = two - one
    assert five - one == 4 * per_clock
    # 17 statements a clock, savepoints included: the clock's savepoint and its claim (2), the reassignment through
    # routing (11), both notifications in one insert (e-mail preferences are read once a sweep), the escalation rows
    # and the audit entries (one insert each), the savepoint's release.
    assert per_clock == 17
