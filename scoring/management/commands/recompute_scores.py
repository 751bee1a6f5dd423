"""Re-score every lead with the active scoring version, in chunks, with a progress bar.

Resumable: an interrupted run is continued by running the command again with --resume (same reference time, so the
same scores), and a chunk is never scored twice.
"""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from leadops.models import Lead
from scoring.models import RescoreChunk, RescoreRun, ScoringModelVersion, VersionStatus
from scoring.services import aggregates, runs


class Command(BaseCommand):
    help = "Re-score every lead with the active scoring version (set-based, in chunks)."

    def add_arguments(self, parser):
        parser.add_argument("--chunk-size", type=int, default=runs.CHUNK_SIZE)
        parser.add_argument("--resume", action="store_true", help="Continue the last unfinished run.")
        parser.add_argument("--quiet", action="store_true", help="No progress bar.")
        parser.add_argument(
            "--rebuild-aggregates",
            action="store_true",
            help="First recompute every lead's behaviour and intent aggregates from the stored events and signals "
            "(after a bulk load that bypassed the ingestion API, such as seed_demo).",
        )
        parser.add_argument(
            "--if-unscored", action="store_true", help="Do nothing unless some lead has never been scored."
        )

    def handle(self, *args, chunk_size, resume, quiet, rebuild_aggregates, if_unscored, **options):
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1.")
        version = ScoringModelVersion.objects.filter(status=VersionStatus.ACTIVE).select_related("model").first()
        if version is None:
            raise CommandError("No active scoring version: approve one first.")
        if if_unscored and not Lead.objects.filter(score_version__isnull=True).exists():
            self.stdout.write(f"Every lead is scored ({version.label} is active); nothing to do.")
            return
        if rebuild_aggregates:
            self._rebuild_aggregates(quiet)
        if resume:
            run = RescoreRun.objects.filter(version=version, finished_at__isnull=True).order_by("-started_at").first()
            if run is None:
                raise CommandError(f"No unfinished run of {version.label} to resume.")
            # A resumed run hands out chunks left 'running' by the interrupted one right away.
            runs.rescore_run_resume(run=run, stale_after_seconds=0)
        else:
            run = runs.rescore_run_start(version=version, reason=RescoreRun.Reason.MANUAL, chunk_size=chunk_size)
        pending = list(run.chunks.filter(status=RescoreChunk.Status.PENDING).values_list("pk", flat=True))
        scored = 0
        for chunk_id in tqdm(pending, desc=f"Re-scoring with {version.label}", unit="chunk", disable=quiet):
            result = runs.rescore_chunk_process(chunk_id=chunk_id)
            scored += result.scored if result else 0
        run.refresh_from_db()
        self.stdout.write(
            f"Scored {scored:,} leads with {version.label} as of {run.as_of:%Y-%m-%d %H:%M:%S %Z} "
            f"({run.chunks_total} chunks{'' if run.finished_at else ', unfinished'})."
        )

    def _rebuild_aggregates(self, quiet: bool) -> None:
        aggregates.aggregates_rebuild_all(
            progress=lambda chunks: tqdm(chunks, desc="Rebuilding aggregates", unit="chunk", disable=quiet)
        )
