"""The incremental path: ingestion queues leads, workers drain the queue in batches, nothing is lost or done twice."""

import datetime as dt
import threading
import time

import pytest
from django.db import connection, connections

from leadops.models import Lead, LeadEvent, StageTransition
from leadops.rules import Stage
from scoring import rules as engine
from scoring.facts import engine_model, facts_for_leads
from scoring.models import PendingRescore, ScoringModelVersion, VersionStatus
from scoring.services import aggregates, pending
from tests.factories import AccountFactory, LeadFactory

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)


def _lead(name="ann"):
    account = AccountFactory(industry="Software", employees=800, annual_revenue=200_000_000)
    return LeadFactory(account=account, seniority="vp", department="sales", email=f"{name}@{account.domain}")


def _events(lead, *kinds, path="/pricing"):
    return [{"lead_id": lead.pk, "kind": kind, "occurred_at": NOW, "properties": {"path": path}} for kind in kinds]


def _expected(lead_ids, version, now):
    model = engine_model(version)
    return {i: engine.score_lead(f, model, now=now).total for i, f in facts_for_leads(lead_ids).items()}


@pytest.mark.django_db
@pytest.mark.sqlite
def test_ingested_leads_wait_in_the_queue_until_a_worker_drains_it(client, marketer, active_version):
    lead = _lead()
    client.force_login(marketer)
    payload = [
        {"lead_id": lead.pk, "kind": "demo_request", "occurred_at": NOW.isoformat()},
        {"lead_id": lead.pk, "kind": "pricing_page_visit", "occurred_at": NOW.isoformat()},
    ]
    response = client.post("/api/events/", payload, content_type="application/json")
    assert response.status_code == 202, response.json()
    # The events and the queue entry are committed together; the score waits for a worker.
    assert list(PendingRescore.objects.values_list("lead_id", flat=True)) == [lead.pk]
    assert Lead.objects.get(pk=lead.pk).score_total is None

    result = pending.pending_rescore_drain()

    lead.refresh_from_db()
    assert result.scored == 1
    assert not PendingRescore.objects.exists()
    assert lead.score_version == active_version
    assert lead.score_total == _expected([lead.pk], active_version, lead.scored_at)[lead.pk]
    assert lead.score_buying > 0


@pytest.mark.django_db
@pytest.mark.sqlite
def test_a_lead_with_several_batches_waiting_is_scored_once(active_version):
    lead = _lead()
    aggregates.events_record(events=_events(lead, "email_open"))
    aggregates.events_record(events=_events(lead, "demo_request"))
    assert PendingRescore.objects.filter(lead=lead).count() == 1
    assert pending.pending_rescore_drain().scored == 1
    assert LeadEvent.objects.filter(lead=lead).count() == 2


@pytest.mark.django_db
@pytest.mark.sqlite
def test_batches_are_drained_oldest_first_up_to_the_limit(active_version):
    leads = [_lead(f"rep{i}") for i in range(5)]
    for lead in leads:
        aggregates.events_record(events=_events(lead, "email_open"))
    result = pending.pending_rescore_drain(batch=2, max_batches=2)
    assert result.scored == 4
    assert list(PendingRescore.objects.values_list("lead_id", flat=True)) == [leads[-1].pk]


@pytest.mark.django_db
@pytest.mark.sqlite
def test_a_drain_that_dies_leaves_its_leads_queued_and_a_rerun_moves_them_once(active_version, monkeypatch):
    lead = _lead()
    aggregates.events_record(events=_events(lead, "demo_request", "pricing_page_visit", "webinar_attended"))
    real_rescore = pending.leads_rescore

    def rescore_then_die(**kwargs):
        real_rescore(**kwargs)  # scores written and stages moved, then the worker is killed before commit
        raise RuntimeError("worker killed")

    monkeypatch.setattr(pending, "leads_rescore", rescore_then_die)
    with pytest.raises(RuntimeError):
        pending.pending_rescore_drain()
    assert list(PendingRescore.objects.values_list("lead_id", flat=True)) == [lead.pk]
    assert Lead.objects.get(pk=lead.pk).score_total is None
    assert not StageTransition.objects.filter(lead=lead).exists()

    monkeypatch.setattr(pending, "leads_rescore", real_rescore)
    assert pending.pending_rescore_drain().scored == 1
    lead.refresh_from_db()
    # Fit 100 (software, 800 people, $200M, VP in sales) and a demo request today: fast-tracked, once.
    assert lead.stage == Stage.SQL
    assert lead.score_fast_track == "Demo request"
    assert list(StageTransition.objects.filter(lead=lead).values_list("to_stage", flat=True)) == [
        Stage.MQL,
        Stage.SQL,
    ]
    assert not PendingRescore.objects.exists()


@pytest.mark.django_db
@pytest.mark.sqlite
def test_without_an_active_version_the_queue_waits(active_version):
    lead = _lead()
    aggregates.events_record(events=_events(lead, "email_open"))
    ScoringModelVersion.objects.filter(pk=active_version.pk).update(status=VersionStatus.RETIRED)
    assert pending.pending_rescore_drain().scored == 0
    assert PendingRescore.objects.filter(lead=lead).exists()


def _drain_in_thread(monkeypatch, held: threading.Event, release: threading.Event, outcome: dict, batch: int):
    """A worker (thread) that claims a batch, scores it and then holds its transaction open until released. Drains
    on other threads run as usual."""
    real_rescore = pending.leads_rescore

    def rescore_and_hold(**kwargs):
        result = real_rescore(**kwargs)
        if threading.current_thread() is thread:
            outcome["claimed"] = sorted(kwargs["lead_ids"])
            held.set()
            assert release.wait(10)
        return result

    def work():
        try:
            outcome["result"] = pending.pending_rescore_drain(batch=batch, max_batches=1)
        except Exception as exc:  # noqa: BLE001 - reported to the test thread
            outcome["error"] = exc
        finally:
            held.set()
            connections.close_all()

    monkeypatch.setattr(pending, "leads_rescore", rescore_and_hold)
    thread = threading.Thread(target=work)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_events_arriving_while_their_lead_is_being_scored_queue_it_again(active_version, monkeypatch):
    """Real concurrency (PostgreSQL): the worker scored the lead from the old aggregates; the new events must not be
    left unscored."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers for the whole database")
    lead = _lead()
    aggregates.events_record(events=_events(lead, "email_open"))
    held, release, outcome = threading.Event(), threading.Event(), {}
    worker = _drain_in_thread(monkeypatch, held, release, outcome, batch=10)
    assert held.wait(10) and outcome.get("claimed") == [lead.pk]

    ingested = threading.Event()

    def ingest():
        try:
            aggregates.events_record(events=_events(lead, "demo_request"))
            ingested.set()
        finally:
            connections.close_all()

    feed = threading.Thread(target=ingest)
    feed.start()
    time.sleep(0.5)
    # The lead's queue entry is being deleted by the worker: the new batch waits for it rather than counting the
    # lead as already queued.
    assert not ingested.is_set()
    release.set()
    worker.join(10)
    feed.join(10)
    assert "error" not in outcome and ingested.is_set()
    assert list(PendingRescore.objects.values_list("lead_id", flat=True)) == [lead.pk]

    before = Lead.objects.get(pk=lead.pk).score_total
    pending.pending_rescore_drain()
    lead.refresh_from_db()
    assert lead.score_total > before  # the demo request counts
    assert lead.score_total == _expected([lead.pk], active_version, lead.scored_at)[lead.pk]


@pytest.mark.django_db(transaction=True)
def test_two_workers_drain_different_leads(active_version, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers for the whole database")
    leads = [_lead(f"rep{i}") for i in range(4)]
    for lead in leads:
        aggregates.events_record(events=_events(lead, "demo_request", "pricing_page_visit", "webinar_attended"))
    held, release, outcome = threading.Event(), threading.Event(), {}
    worker = _drain_in_thread(monkeypatch, held, release, outcome, batch=2)
    assert held.wait(10) and len(outcome.get("claimed", [])) == 2

    second = pending.pending_rescore_drain(batch=10)  # skips the two held by the first worker

    release.set()
    worker.join(10)
    assert "error" not in outcome
    assert second.scored == 2 and outcome["result"].scored == 2
    assert not PendingRescore.objects.exists()
    # Each lead moved once, by exactly one worker: a fitting lead with a demo request goes new -> MQL -> SQL.
    for lead in leads:
        moves = list(StageTransition.objects.filter(lead=lead).order_by("pk").values_list("to_stage", flat=True))
        assert moves == [Stage.MQL, Stage.SQL], lead


@pytest.mark.sqlite
def test_a_process_wakes_the_workers_at_most_once_per_delay(monkeypatch):
    """Batches committed while a wake-up is due ride on it: the worker drains them together."""
    from celery import current_app

    from scoring import tasks

    sent = []
    monkeypatch.setitem(current_app.conf, "task_always_eager", False)
    monkeypatch.setattr(tasks.rescore_pending, "apply_async", lambda **options: sent.append(options))
    monkeypatch.setattr(tasks, "_wake_up_due", 0.0)
    for _ in range(5):
        tasks.rescore_pending_soon()
    assert sent == [{"countdown": tasks.WAKE_UP_DELAY_S}]
    time.sleep(tasks.WAKE_UP_DELAY_S + 0.05)  # due: the next batch needs a wake-up of its own
    tasks.rescore_pending_soon()
    assert len(sent) == 2


@pytest.mark.django_db
@pytest.mark.sqlite
def test_a_task_that_stops_at_its_batch_limit_hands_the_rest_to_a_fresh_task(active_version, monkeypatch):
    from scoring import tasks

    leads = [_lead(f"rep{i}") for i in range(5)]
    for lead in leads:
        aggregates.events_record(events=_events(lead, "email_open"))
    monkeypatch.setattr(pending, "DRAIN_BATCH", 2)
    monkeypatch.setattr(tasks, "PENDING_BATCHES_PER_TASK", 1)
    tasks.rescore_pending.delay()  # eager here: each follow-up task runs at once
    assert not PendingRescore.objects.exists()
    assert Lead.objects.filter(pk__in=[lead.pk for lead in leads], score_version=active_version).count() == 5
