"""Give rejections recorded before their lead was ever scored (a CSV history import, the demo world, which is
seeded before it is scored) the score, tier and source their lead has now, so marketing's feedback view can band
them. Rejections that have a score keep it; running it twice changes nothing."""

from django.core.management.base import BaseCommand
from django.db.models import OuterRef, Subquery

from handoff.models import LeadRejection
from leadops.models import Lead


class Command(BaseCommand):
    help = "Fill the score, tier and source of rejections recorded before their lead was scored."

    def handle(self, *args, **options):
        lead = Lead.objects.filter(pk=OuterRef("lead_id"))
        missing = LeadRejection.objects.filter(score_total__isnull=True, lead__score_total__isnull=False)
        filled = missing.update(
            score_total=Subquery(lead.values("score_total")[:1]),
            score_tier=Subquery(lead.values("score_tier")[:1]),
        )
        self.stdout.write(f"Rejections given their lead's score: {filled:,}.")
