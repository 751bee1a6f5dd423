"""Thin Celery wrappers around the scoring services: ids in, one service call, safe to run twice."""

from __future__ import annotations

import threading
import time

from celery import current_app, shared_task
from django.db import OperationalError

from scoring.models import RescoreRun, ScoringModelVersion, VersionStatus
from scoring.services import pending, runs

TRANSIENT = (OperationalError,)
# A task stops after this many batches so that one task never runs for hours under sustained load; the next
# ingested batch or beat sends another.
PENDING_BATCHES_PER_TASK = 50


@shared_task(acks_late=True, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def version_prepare(version_id: int) -> str:
    """After submission: back-fill the aggregates a version needs, then compute its impact preview."""
    runs.version_prepare(version_id=version_id)
    return "ready"


@shared_task(acks_late=True, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def version_rescore_all(version_id: int, reason: str) -> int:
    """Plan a full re-score and fan its chunks out over the workers."""
    version = ScoringModelVersion.objects.get(pk=version_id)
    if version.status != VersionStatus.ACTIVE:
        return 0
    return _fan_out(runs.rescore_run_start(version=version, reason=reason))


def _fan_out(run: RescoreRun) -> int:
    for chunk_id in run.chunks.values_list("pk", flat=True):
        rescore_chunk.delay(chunk_id)
    return run.chunks_total


@shared_task(acks_late=True, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def rescore_chunk(chunk_id: int) -> int:
    result = runs.rescore_chunk_process(chunk_id=chunk_id)
    return result.scored if result else 0


@shared_task(acks_late=True, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def rescore_pending() -> int:
    """Re-score the leads ingestion queued, in batches, with the active version.

    Ingestion sends one through rescore_pending_soon; a task that finds the queue empty (another worker drained
    it) ends at once. Beat sends one every minute as well, in case a message was lost.
    """
    result = pending.pending_rescore_drain(batch=pending.DRAIN_BATCH, max_batches=PENDING_BATCHES_PER_TASK)
    if result.batches == PENDING_BATCHES_PER_TASK:
        rescore_pending.delay()  # stopped at its limit with leads possibly left: a fresh task goes on
    return result.scored


# How long a process lets queued leads gather before a worker drains them. A worker scores a batch of a few hundred
# leads for little more than it scores a handful, so waking it once per quarter second instead of once per ingested
# batch roughly halves its work under load, for at most this much more latency.
WAKE_UP_DELAY_S = 0.25
_wake_up_lock = threading.Lock()
_wake_up_due = 0.0  # monotonic time at which the wake-up this process sent last will run


def rescore_pending_soon() -> None:
    """Make sure a drain runs after the caller's (committed) transaction: send one, due in WAKE_UP_DELAY_S,
    unless this process already sent one that is not due yet, which will find the caller's leads."""
    global _wake_up_due
    if current_app.conf.task_always_eager:  # an eager task runs now, so it can never cover a later commit
        rescore_pending.delay()
        return
    with _wake_up_lock:
        now = time.monotonic()
        if now < _wake_up_due:
            return
        _wake_up_due = now + WAKE_UP_DELAY_S
    rescore_pending.apply_async(countdown=WAKE_UP_DELAY_S)


@shared_task(acks_late=True)
def nightly_decay() -> int:
    """Behaviour loses weight with age: re-score everyone with the active version, once a day (a second sweep the
    same day plans nothing)."""
    run = runs.nightly_run_start()
    return _fan_out(run) if run is not None else 0


@shared_task(acks_late=True)
def rescore_runs_resume() -> int:
    """Hand the chunks of crashed workers out again (beat runs this every few minutes)."""
    chunk_ids = runs.rescore_runs_resume_all()
    for chunk_id in chunk_ids:
        rescore_chunk.delay(chunk_id)
    return len(chunk_ids)
