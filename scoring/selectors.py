"""Reads of the scoring app, scoped to the person asking."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from leadops.models import Lead
from leadops.permissions import has_any_role_perm, has_role_perm
from scoring import rules as engine
from scoring.facts import engine_model, facts_from
from scoring.models import BorderlineReview, LeadAggregate, ScoringModelVersion, VersionStatus


@dataclass(frozen=True)
class Explanation:
    result: engine.ScoreResult
    version: ScoringModelVersion
    # False when facts changed after the lead was scored (an event is being processed): the page says so rather
    # than showing factors that do not add up to the stored score.
    matches_stored: bool

    @property
    def pillar_rows(self) -> list[dict]:
        weights = engine_model(self.version).weights
        return [
            {
                "pillar": p,
                "label": engine.PILLAR_LABELS[p],
                "score": self.result.pillars[p],
                "weight": weights[p],
                "weighted": weights[p] * self.result.pillars[p],
                "contributions": [c for c in self.result.contributions if c.pillar == p],
            }
            for p in engine.PILLARS
        ]


def lead_score_explanation(*, lead: Lead) -> Explanation | None:
    """Recompute the stored score from the same facts, version and time, with every rule's contribution."""
    if lead.score_version_id is None or lead.scored_at is None:
        return None
    version = (
        ScoringModelVersion.objects.select_related("model").prefetch_related("rules").get(pk=lead.score_version_id)
    )
    aggregate = LeadAggregate.objects.filter(lead_id=lead.pk).first()
    result = engine.score_lead(facts_from(lead, aggregate), engine_model(version), now=lead.scored_at)
    stored = (lead.score_fit, lead.score_engagement, lead.score_intent, lead.score_buying, lead.score_total)
    recomputed = (*(result.pillars[p] for p in engine.PILLARS), result.total)
    return Explanation(result=result, version=version, matches_stored=stored == recomputed)


def version_list(*, user) -> QuerySet[ScoringModelVersion]:
    if not has_any_role_perm(user, ("leadops.edit_scoring_rules", "leadops.approve_scoring_rules")):
        return ScoringModelVersion.objects.none()
    return ScoringModelVersion.objects.select_related("model", "author", "decided_by").order_by("model", "-number")


def approval_inbox(*, user) -> QuerySet[ScoringModelVersion]:
    """Submitted versions this manager may decide on: everything submitted except what they changed.

    The same definition as the services' refusal (governance.decision_refusal), from governance.changed_by.
    """
    from scoring.services.governance import APPROVE_PERM, changed_by

    if not has_role_perm(user, APPROVE_PERM):
        return ScoringModelVersion.objects.none()
    return (
        ScoringModelVersion.objects.filter(status=VersionStatus.SUBMITTED)
        .exclude(changed_by(user))
        .select_related("model", "author", "preview")
        .order_by("submitted_at")
    )


def borderline_reviews_visible(*, user) -> QuerySet[BorderlineReview]:
    """Borderline reviews (any status) of the leads this manager can see, and of leads nobody owns yet.

    MQLs get an owner only when they are routed as SQLs, so most borderline leads have none; every manager sees
    those, otherwise they would wait for nobody. The queue lists the open ones and the decision looks reviews up
    here, so whoever sees a review can decide it.
    """
    from django.db.models import Q

    from leadops.selectors import lead_list

    if not has_role_perm(user, "leadops.review_borderline"):
        return BorderlineReview.objects.none()
    visible = Q(lead__in=lead_list(user=user)) | Q(lead__owner__isnull=True)
    return BorderlineReview.objects.filter(visible).select_related("lead__account", "lead__owner", "version")


def borderline_queue(*, user) -> QuerySet[BorderlineReview]:
    """Open borderline reviews this manager may decide, oldest first."""
    return borderline_reviews_visible(user=user).filter(status=BorderlineReview.Status.OPEN).order_by("opened_at")


def version_diff(*, old: ScoringModelVersion, new: ScoringModelVersion) -> dict:
    """Settings and rules that differ between two versions, by rule key."""
    from scoring.models import RULE_FIELDS
    from scoring.services.governance import VERSION_FIELDS

    settings = [
        {"setting": name, "old": getattr(old, name), "new": getattr(new, name)}
        for name in VERSION_FIELDS
        if getattr(old, name) != getattr(new, name)
    ]
    old_rules = {r.key: r for r in old.rules.all()}
    new_rules = {r.key: r for r in new.rules.all()}
    changed = []
    for key in sorted(old_rules.keys() & new_rules.keys()):
        fields = [
            {"field": f, "old": getattr(old_rules[key], f), "new": getattr(new_rules[key], f)}
            for f in RULE_FIELDS
            if getattr(old_rules[key], f) != getattr(new_rules[key], f)
        ]
        if fields:
            changed.append({"rule": new_rules[key], "fields": fields})
    return {
        "settings": settings,
        "added": [new_rules[k] for k in sorted(new_rules.keys() - old_rules.keys())],
        "removed": [old_rules[k] for k in sorted(old_rules.keys() - new_rules.keys())],
        "changed": changed,
    }
