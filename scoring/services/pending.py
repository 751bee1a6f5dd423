"""The queue of leads waiting to be re-scored after their events or intent signals arrived.

Ingestion adds leads in the transaction that stores their events; workers drain the queue in batches. Batching is
what makes the incremental path fast: under load a worker finds many leads waiting and scores them all in one
set-based statement, and when the queue is short it scores the few it finds at once, so latency stays low.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from leadops.db import rows_insert
from scoring import rules as engine
from scoring.facts import engine_model
from scoring.models import PendingRescore, ScoringModelVersion, VersionStatus
from scoring.services.scores import RescoreResult, leads_rescore

# Leads re-scored per transaction: large enough to amortise the stage-move queries, small enough that a batch
# commits in well under a second.
DRAIN_BATCH = 2000


def leads_queue_for_rescore(lead_ids) -> None:
    """Queue these leads (a lead already waiting keeps its place). Call inside the transaction that changed them."""
    now = timezone.now()
    rows_insert(PendingRescore, ["lead", "queued_at"], [(i, now) for i in sorted(set(lead_ids))], ignore_conflicts=True)


def pending_rescore_drain(*, batch: int = DRAIN_BATCH, max_batches: int | None = None) -> RescoreResult:
    """Re-score queued leads with the active version, oldest first, one batch per transaction, until the queue is
    empty (or `max_batches` were done).

    A batch claims its entries by deleting them, skipping entries another worker holds, in the transaction that
    writes the scores: a worker that dies leaves them queued for the next one. With no active version the queue is
    left as it is.
    """
    total = RescoreResult()
    done = 0
    models: dict[int, engine.Model] = {}  # the rules of an active version never change; read them once per drain
    while max_batches is None or done < max_batches:
        version = ScoringModelVersion.objects.filter(status=VersionStatus.ACTIVE).first()
        if version is None:
            break
        if version.pk not in models:
            models[version.pk] = engine_model(version)
        with transaction.atomic():
            claimed = _claim(batch)
            if not claimed:
                break
            result = leads_rescore(lead_ids=claimed, version=version, model=models[version.pk])
        total.scored += result.scored
        total.borderline_opened += result.borderline_opened
        for stage, count in result.moved.items():
            total.moved[stage] = total.moved.get(stage, 0) + count
        done += 1
    total.batches = done
    return total


def _claim(batch: int) -> list[int]:
    """Delete up to `batch` of the oldest entries and return their leads.

    Deleting at once, before scoring, is what keeps a lead's later events from being lost: an ingestion that queues
    the same lead meanwhile finds the entry deleted by a transaction in progress, waits for it to end and then
    queues the lead again. (An entry merely locked would still count as present, and the lead would not be queued
    again although its new events came after the score was computed.)
    """
    table = PendingRescore._meta.db_table
    skip_locked = " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE lead_id IN "
            f"(SELECT lead_id FROM {table} ORDER BY queued_at, lead_id LIMIT %s{skip_locked}) RETURNING lead_id",
            [batch],
        )
        return sorted(row[0] for row in cursor.fetchall())
