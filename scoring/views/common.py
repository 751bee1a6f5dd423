"""What every scoring page module shares: the permissions, the errors a service may raise, version lookup."""

from __future__ import annotations

from django.shortcuts import get_object_or_404, redirect
from django_htmx.http import HttpResponseClientRedirect

from scoring import rules as engine
from scoring import selectors
from scoring.services.governance import GovernanceError

EDIT = "leadops.edit_scoring_rules"
APPROVE = "leadops.approve_scoring_rules"
REVIEW = "leadops.review_borderline"
SERVICE_ERRORS = (GovernanceError, engine.RuleError)

TIER_LABELS = {**engine.TIER_LABELS, "unscored": "Not scored yet"}
TIER_ORDER = ["unscored", "disqualified", "below_mql", "mql", "borderline", "sql"]


def _version_for(user, version_id):
    versions = selectors.version_list(user=user).select_related("preview", "based_on").prefetch_related("rules")
    return get_object_or_404(versions, pk=version_id)


def _redirect(request, url: str):
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
