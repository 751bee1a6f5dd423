"""Resumable re-scoring of every lead: a run is split into id ranges that workers claim one at a time."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone

from leadops.models import Lead
from scoring.facts import engine_model
from scoring.models import RescoreChunk, RescoreRun, ScoringModelVersion, VersionStatus
from scoring.services.scores import RescoreResult, leads_rescore_range

CHUNK_SIZE = 50_000


def rescore_run_start(*, version: ScoringModelVersion, reason: str, chunk_size: int = CHUNK_SIZE) -> RescoreRun:
    """Plan a run over the current id range; every chunk scores with the run's own `as_of`."""
    now = timezone.now()
    bounds = Lead.objects.aggregate(lo=Min("pk"), hi=Max("pk"))
    with transaction.atomic():
        run = RescoreRun.objects.create(version=version, reason=reason, as_of=now, started_at=now)
        chunks = []
        if bounds["lo"] is not None:
            for lo in range(bounds["lo"], bounds["hi"] + 1, chunk_size):
                chunks.append(RescoreChunk(run=run, lo=lo, hi=min(lo + chunk_size, bounds["hi"] + 1)))
        RescoreChunk.objects.bulk_create(chunks)
        run.chunks_total = len(chunks)
        run.save(update_fields=["chunks_total"])
    return run


def rescore_chunk_process(*, chunk_id: int) -> RescoreResult | None:
    """Claim one chunk and re-score it. A chunk already done, or being done by another worker, is left alone;
    a chunk whose worker died stays 'running' until rescore_run_resume hands it out again."""
    claimed = RescoreChunk.objects.filter(pk=chunk_id, status=RescoreChunk.Status.PENDING).update(
        status=RescoreChunk.Status.RUNNING, claimed_at=timezone.now()
    )
    if claimed != 1:
        return None
    chunk = RescoreChunk.objects.select_related("run__version__model").get(pk=chunk_id)
    version = chunk.run.version
    if version.status != VersionStatus.ACTIVE:
        # Another version was activated meanwhile and has its own run: scoring with this one would leave leads
        # scored by two versions.
        RescoreChunk.objects.filter(pk=chunk_id).update(status=RescoreChunk.Status.DONE, finished_at=timezone.now())
        _finish_if_complete(chunk.run_id)
        return None
    try:
        with transaction.atomic():
            result = leads_rescore_range(
                version=version, lo=chunk.lo, hi=chunk.hi, now=chunk.run.as_of, model=engine_model(version)
            )
            RescoreChunk.objects.filter(pk=chunk_id).update(
                status=RescoreChunk.Status.DONE, finished_at=timezone.now(), scored=result.scored
            )
    except Exception:
        RescoreChunk.objects.filter(pk=chunk_id).update(status=RescoreChunk.Status.PENDING, claimed_at=None)
        raise
    _finish_if_complete(chunk.run_id)
    return result


def rescore_run_resume(*, run: RescoreRun, stale_after_seconds: int = 900) -> list[int]:
    """Hand chunks whose worker died (running for too long) back out; returns the chunks still to do."""
    stale = timezone.now() - timezone.timedelta(seconds=stale_after_seconds)
    run.chunks.filter(status=RescoreChunk.Status.RUNNING, claimed_at__lt=stale).update(
        status=RescoreChunk.Status.PENDING, claimed_at=None
    )
    return list(run.chunks.filter(status=RescoreChunk.Status.PENDING).values_list("pk", flat=True))


def _finish_if_complete(run_id: int) -> None:
    if not RescoreChunk.objects.filter(run_id=run_id).exclude(status=RescoreChunk.Status.DONE).exists():
        RescoreRun.objects.filter(pk=run_id, finished_at__isnull=True).update(finished_at=timezone.now())
