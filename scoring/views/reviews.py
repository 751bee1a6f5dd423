"""The managers' borderline queue: leads scored near their SQL cut-off, promoted to SQL or kept as MQLs."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from leadops.permissions import require_perm
from scoring import rules as engine
from scoring import selectors
from scoring.facts import engine_model_thresholds
from scoring.forms.decisions import BorderlineDecisionForm
from scoring.models import BorderlineReview
from scoring.services import reviews
from scoring.views.common import REVIEW


@require_perm(REVIEW)
@require_GET
def borderline_queue(request):
    page = Paginator(selectors.borderline_queue(user=request.user), 50).get_page(request.GET.get("page"))
    for review in page.object_list:
        _review_row(review)
    return render(request, "scoring/borderline_queue.html", {"page": page})


@require_perm(REVIEW)
@require_POST
def borderline_decide(request, review_id: int):
    scoped = selectors.borderline_reviews_visible(user=request.user).select_related("decided_by")
    review = get_object_or_404(scoped, pk=review_id)
    form = BorderlineDecisionForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            review = reviews.borderline_review_decide(
                review=review,
                by=request.user,
                promote=form.cleaned_data["decision"] == "promote",
                note=form.cleaned_data["note"],
            )
        except reviews.ReviewError as exc:
            error = str(exc)
    else:
        error = "Choose to promote the lead to SQL or to keep it as an MQL."
    if request.htmx:
        review = scoped.get(pk=review.pk)
        _review_row(review)
        return render(
            request,
            "scoring/partials/_borderline_row.html",
            {"review": review, "error": error, "note": request.POST.get("note", "")},
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"{review.lead}: {review.get_status_display().lower()}.")
    return redirect("scoring:borderline_queue")


def _review_row(review: BorderlineReview) -> None:
    thresholds = engine_model_thresholds(review.version)
    segment = (review.lead.account.segment if review.lead.account else None) or "smb"
    review.cutoff = thresholds.sql_cutoff(segment)
    review.delta = review.score - review.cutoff
    review.segment_label = engine.SEGMENT_LABELS.get(segment, engine.SEGMENT_LABELS["smb"])
