"""Real concurrency on PostgreSQL: routers running at once never overfill a rep nor assign a lead twice."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from leadops.models import Lead
from routing import services
from routing.models import RepMonthlyLoad, RoutingDecision, TerritoryMember
from tests.routing.conftest import sql_lead

pytestmark = pytest.mark.django_db(transaction=True)


def _in_threads(*jobs):
    """Run each job in its own thread (own connection), all released at once; returns the errors."""
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
        thread.join(30)
    return errors


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers for the whole database")


def test_two_routers_at_once_never_put_a_rep_over_capacity(emea, sdr, ae, manager):
    TerritoryMember.objects.filter(territory=emea).update(monthly_capacity=3)
    leads = [sql_lead() for _ in range(10)]
    ids = [lead.pk for lead in leads]

    def route_one_by_one(batch):
        return lambda: [services.lead_route(lead_id=pk) for pk in batch]

    errors = _in_threads(route_one_by_one(ids[0::2]), route_one_by_one(ids[1::2]))

    assert errors == []
    month = timezone.now().date().replace(day=1)
    loads = dict(RepMonthlyLoad.objects.filter(month=month).values_list("user_id", "assigned"))
    assert loads[sdr.pk] == 3 and loads[ae.pk] == 3
    owned = Lead.objects.filter(pk__in=ids, owner__isnull=False)
    assert owned.filter(owner=sdr).count() == 3 and owned.filter(owner=ae).count() == 3
    assert RoutingDecision.objects.filter(lead_id__in=ids, queue="overflow").count() == 4
    assert RoutingDecision.objects.filter(lead_id__in=ids).count() == 10


def test_the_same_lead_routed_twice_at_once_is_assigned_once(emea, sdr, ae):
    lead = sql_lead()
    errors = _in_threads(*[lambda: services.lead_route(lead_id=lead.pk)] * 2)
    assert errors == []
    assert RoutingDecision.objects.filter(lead=lead).count() == 1
    month = timezone.now().date().replace(day=1)
    assert sum(RepMonthlyLoad.objects.filter(month=month).values_list("assigned", flat=True)) == 1
    assert Lead.objects.get(pk=lead.pk).owner == sdr
