"""The background runs of scoring: resumable re-scoring of every lead (a run is split into id ranges that workers
claim one at a time), the nightly decay, and the preparation of a submitted version."""

from __future__ import annotations

from datetime import datetime

from django.db import OperationalError, transaction
from django.db.models import Max, Min
from django.utils import timezone

from leadops.models import Lead
from scoring.facts import engine_model
from scoring.models import ImpactPreview, RescoreChunk, RescoreRun, ScoringModel, ScoringModelVersion, VersionStatus
from scoring.services import aggregates, preview
from scoring.services.scores import RescoreResult, leads_rescore_range

CHUNK_SIZE = 50_000


def rescore_run_start(
    *, version: ScoringModelVersion, reason: str, chunk_size: int = CHUNK_SIZE, now: datetime | None = None
) -> RescoreRun:
    """Plan a run over the current id range; every chunk scores with the run's own `as_of`."""
    now = now or timezone.now()
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


def rescore_runs_resume_all(*, stale_after_seconds: int = 900) -> list[int]:
    """The chunks of every unfinished run still to do, those of dead workers handed back out."""
    chunk_ids: list[int] = []
    for run in RescoreRun.objects.filter(finished_at__isnull=True).order_by("started_at"):
        chunk_ids += rescore_run_resume(run=run, stale_after_seconds=stale_after_seconds)
    return chunk_ids


def nightly_run_start(*, now: datetime | None = None) -> RescoreRun | None:
    """Plan tonight's decay: re-score everyone with the active version, unless a nightly run was planned today
    already (beat may deliver the sweep twice) or no version is active."""
    now = now or timezone.now()
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    active = ScoringModelVersion.objects.filter(status=VersionStatus.ACTIVE)
    with transaction.atomic():
        version = active.first()
        if version is None:
            return None
        # Two sweeps at once: the second waits here until the first has planned its run, then finds it. Approval
        # takes the same lock first, so the version read next stays the active one until the run is planned.
        ScoringModel.objects.select_for_update().get(pk=version.model_id)
        version = active.filter(model_id=version.model_id).first()
        if version is None:
            return None
        if RescoreRun.objects.filter(reason=RescoreRun.Reason.NIGHTLY, started_at__gte=today).exists():
            return None
        return rescore_run_start(version=version, reason=RescoreRun.Reason.NIGHTLY, now=now)


def version_prepare(*, version_id: int) -> ImpactPreview:
    """After submission: back-fill the aggregates the version needs, then compute its impact preview.

    A preview that cannot be computed is marked failed with the reason (the page would otherwise say "being
    computed" forever and approval would wait for nothing); a transient database error is left to the retry.
    """
    try:
        aggregates.version_aggregates_backfill(version_id=version_id)
        return preview.impact_preview_compute(
            version=ScoringModelVersion.objects.select_related("model").get(pk=version_id)
        )
    except OperationalError:
        raise
    except Exception as exc:
        ImpactPreview.objects.filter(version_id=version_id).update(
            status=ImpactPreview.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:1000]
        )
        raise


def _finish_if_complete(run_id: int) -> None:
    if not RescoreChunk.objects.filter(run_id=run_id).exclude(status=RescoreChunk.Status.DONE).exists():
        RescoreRun.objects.filter(pk=run_id, finished_at__isnull=True).update(finished_at=timezone.now())
