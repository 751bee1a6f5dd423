"""Borderline reviews: a manager decides the leads whose score sits within the band around their SQL cut-off.

The score alone does not flip these leads (DESIGN.md section 2); a person promotes them to SQL or keeps them as
MQLs, and says why when keeping, so that marketing can later see whether the band and the cut-offs are right.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from leadops.permissions import has_role_perm
from leadops.rules import IllegalTransition, Stage
from leadops.services import Actor, audit_log, lead_transition
from scoring.models import BorderlineReview
from scoring.services.scores import leads_became_sql


class ReviewError(ValueError):
    """A decision the review's state or the person's role does not allow; the message says why."""


def borderline_review_decide(*, review: BorderlineReview, by, promote: bool, note: str = "") -> BorderlineReview:
    """Promote the lead to SQL (routing picks it up once committed) or keep it as an MQL; each decided once."""
    if not has_role_perm(by, "leadops.review_borderline"):
        raise ReviewError("Your role does not allow you to decide borderline leads.")
    note = note.strip()
    if not promote and not note:
        raise ReviewError("Say why the lead stays an MQL; the reasons show marketing whether the cut-off is right.")
    with transaction.atomic():
        review = BorderlineReview.objects.select_for_update().select_related("lead").get(pk=review.pk)
        if review.status != BorderlineReview.Status.OPEN:
            who = review.decided_by.get_username() if review.decided_by else "someone"
            when = timezone.localtime(review.decided_at).strftime("%Y-%m-%d %H:%M") if review.decided_at else ""
            raise ReviewError(f"This review was already decided: {review.get_status_display()} by {who} {when}.")
        lead = review.lead
        if promote:
            reason = f"Borderline review: promoted at score {review.score}" + (f" ({note})" if note else "")
            try:
                # expected_from: a lead a rep or a re-score moved meanwhile is not promoted behind their back.
                lead_transition(lead=lead, to=Stage.SQL, by=by, reason=reason, expected_from=Stage.MQL)
            except IllegalTransition as error:
                raise ReviewError(str(error)) from None
            lead_ids = [lead.pk]
            transaction.on_commit(lambda: leads_became_sql.send(sender=BorderlineReview, lead_ids=lead_ids))
        review.status = BorderlineReview.Status.PROMOTED if promote else BorderlineReview.Status.KEPT
        review.decided_by, review.decided_at, review.note = by, timezone.now(), note
        review.save(update_fields=["status", "decided_by", "decided_at", "note"])
        audit_log(
            actor=Actor(user=by),
            action="scoring.borderline_promote" if promote else "scoring.borderline_keep",
            obj=review,
            reason=note,
            changes={"lead": lead.pk, "score": review.score, "stage": lead.stage},
        )
    return review
