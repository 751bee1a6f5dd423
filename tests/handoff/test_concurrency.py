"""Real concurrency on PostgreSQL: two people (or two tabs) acting on one lead at the same moment; exactly one wins,
the other is told what happened, and the lead moves once."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection

from handoff import services
from leadops.models import Lead, StageTransition
from leadops.rules import Stage
from routing.models import RoutingDecision
from tests.factories import LeadFactory
from tests.sla.test_concurrency import _in_threads

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers for the whole database")


@pytest.fixture
def reasons_installed(db):
    import importlib

    from django.apps import apps

    from handoff.models import RejectionReason

    if not RejectionReason.objects.exists():
        importlib.import_module("handoff.migrations.0002_default_reasons").add_reasons(apps, None)


def _outcomes(*jobs):
    results = []

    def wrap(job):
        def run():
            try:
                job()
                results.append("won")
            except (services.LeadChanged, PermissionDenied) as refused:
                results.append(f"refused: {refused}")

        return run

    errors = _in_threads(*[wrap(job) for job in jobs])
    return sorted(results), errors


@pytest.mark.parametrize("round_", range(3))
def test_one_sdr_in_two_tabs_accepting_and_rejecting_moves_the_lead_once(sdr, ae, reasons_installed, round_):
    lead = LeadFactory(owner=sdr, stage=Stage.SQL)
    results, errors = _outcomes(
        lambda: services.lead_accept(lead=Lead.objects.get(pk=lead.pk), by=sdr),
        lambda: services.lead_reject(
            lead=Lead.objects.get(pk=lead.pk), by=sdr, reason_code="no_need", note="second tab"
        ),
    )
    assert errors == []
    assert results[0].startswith("refused: This lead changed in the meantime")
    assert results[1] == "won"
    assert StageTransition.objects.filter(lead=lead, from_stage=Stage.SQL).count() == 1


def test_two_reps_claiming_the_same_queue_lead_one_gets_it(germany, sdr):
    lead = LeadFactory(stage=Stage.SQL, owner=None)
    RoutingDecision.objects.create(
        lead=lead,
        territory=germany,
        queue="overflow",
        path=["x"],
        reason="x",
        decided_at=lead.created_at,
        by_system="routing",
    )
    results, errors = _outcomes(
        lambda: services.lead_claim(lead=Lead.objects.get(pk=lead.pk), by=sdr),
        lambda: services.lead_claim(lead=Lead.objects.get(pk=lead.pk), by=germany.gina),
    )
    assert errors == []
    assert results == [
        "refused: Someone claimed this lead first: it is now SQL, owned by "
        + Lead.objects.get(pk=lead.pk).owner.get_full_name()
        + ".",
        "won",
    ]
    assert RoutingDecision.objects.filter(lead=lead, kind="manual").count() == 1
