"""The demo world's handoff records: the reason codes of the rejections its SQLs went through, the SDR behind each
lead handed to an AE, and the AEs' reviews, so marketing's feedback view, the AE inbox and the SDRs' handed-over
leads show a believable history on a fresh `make run`.

The demo generator writes the lifecycle in bulk with each rejection's reason as a rep would type it; here each
becomes a LeadRejection with the code it belongs to (as a rep would have picked from the list), in a few set-based
statements. Connected to leadops.demo.signals.demo_world_seeded in handoff/apps.py, inside the seeding transaction.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import F, OuterRef, Subquery

from handoff.models import LeadRejection, RejectionKind, RejectionReason
from leadops.demo import catalog
from leadops.models import Lead, StageTransition
from leadops.rules import Stage

# The demo's typed reasons and the code a rep would have picked for each.
REASON_CODES = {
    "No budget this year": "no_budget",
    "No project in the next 12 months": "no_need",
    "Already under contract with a competitor": "bad_timing",
    "Could not reach after 6 attempts": "unresponsive",
    "Duplicate of an existing lead": "bad_data",
    catalog.WRONG_PERSONA: "no_authority",
    catalog.TOO_SMALL: "not_icp",
    "AE returned: no decision maker involved": "no_authority",
    "AE returned: not ready to buy": "bad_timing",
    "AE returned: budget not confirmed": "no_budget",
    "AE returned: no clear pain": "no_need",
}
# An AE takes an accepted lead on within hours; those accepted in the last day still wait in the AE's inbox.
SAL_AFTER = timedelta(hours=3)
STILL_WAITING = timedelta(days=1)


def demo_handoff_seeded(sender=None, *, anchor: date, seed: int, **kwargs) -> dict[str, int]:
    """Receiver of demo_world_seeded: rejections with codes, SDRs of handed-over leads, SAL reviews."""
    codes = {reason.code: reason for reason in RejectionReason.objects.all()}
    rejections = []
    moves = (
        StageTransition.objects.filter(to_stage=Stage.REJECTED)
        .select_related("lead")
        .order_by("pk")
        .only("lead_id", "from_stage", "by_user_id", "reason", "at", "lead__score_total", "lead__score_tier")
    )
    for move in moves.iterator(chunk_size=2000):
        code = REASON_CODES.get(move.reason)
        if code is None or code not in codes:
            continue
        returned = move.from_stage == Stage.ACCEPTED
        rejections.append(
            LeadRejection(
                lead_id=move.lead_id,
                kind=RejectionKind.AE_RETURN if returned else RejectionKind.SDR_REJECT,
                reason=codes[code],
                note=move.reason,
                by_user_id=move.by_user_id,
                at=move.at,
                to_stage=Stage.REJECTED,
                # The generator does not keep a lead's score at each moment; its final score is the best there is.
                score_total=move.lead.score_total,
                score_tier=move.lead.score_tier,
                source=move.lead.source,
            )
        )
    LeadRejection.objects.bulk_create(rejections, batch_size=2000)

    accepted_by = StageTransition.objects.filter(lead=OuterRef("pk"), to_stage=Stage.ACCEPTED).order_by("-at", "-pk")
    handed = Lead.objects.filter(accepted_at__isnull=False, sdr__isnull=True)
    with_sdr = handed.update(sdr=Subquery(accepted_by.values("by_user")[:1]))
    # The AE took on every lead that went on to an opportunity, and the accepted ones older than a day.
    moved_on = Lead.objects.filter(accepted_at__isnull=False, opportunity_at__isnull=False, sal_at__isnull=True)
    reviewed = moved_on.update(sal_at=F("accepted_at") + SAL_AFTER)
    waiting = list(
        Lead.objects.filter(stage=Stage.ACCEPTED, sal_at__isnull=True).values_list("pk", "accepted_at").order_by("pk")
    )
    anchor_ts = max((at for _, at in waiting if at), default=None)
    older = [pk for pk, at in waiting if at and anchor_ts and at < anchor_ts - STILL_WAITING]
    reviewed += Lead.objects.filter(pk__in=older).update(sal_at=F("accepted_at") + SAL_AFTER)
    return {"rejections": len(rejections), "sdr": with_sdr, "sal": reviewed}
