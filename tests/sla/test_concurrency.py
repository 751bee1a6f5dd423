"""Real concurrency on PostgreSQL: two sweeps at once never take the same escalation step twice."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections

from leadops.models import Notification
from sla.models import SlaEscalation
from sla.services import clock_escalate, clock_start, due_clock_ids, sla_sweep
from tests.factories import LeadFactory
from tests.sla.conftest import berlin

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers for the whole database")


def _in_threads(*jobs):
    start = threading.Barrier(len(jobs))
    errors = []

    def run(job):
        try:
            start.wait(10)
            job()
        except Exception as exc:  # noqa: BLE001 - reported to the test thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def test_two_sweeps_at_once_take_each_step_once(policies, sdr, manager):
    started = berlin(2026, 11, 30, 10, 0)
    for _ in range(20):
        lead = LeadFactory(owner=sdr, stage="sql")
        clock_start(lead=lead, policy=policies["contact-hot"], owner_id=sdr.pk, started_at=started)
    now = started + dt.timedelta(minutes=6)
    ids = due_clock_ids(now=now)
    assert len(ids) == 20

    def backwards():
        for clock_id in reversed(ids):
            clock_escalate(clock_id=clock_id, now=now)

    errors = _in_threads(lambda: sla_sweep(now=now), backwards, lambda: sla_sweep(now=now))

    assert errors == []
    assert SlaEscalation.objects.count() == 20 * 3
    assert Notification.objects.filter(recipient=sdr, kind="sla_breach").count() == 20
    assert Notification.objects.filter(recipient=manager, kind="sla_escalation").count() == 20
