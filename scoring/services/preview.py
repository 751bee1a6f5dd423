"""Impact preview of a version: what would change on today's leads, and how its cut-offs do on past outcomes."""

from __future__ import annotations

from django.db import transaction
from django.db.models import (
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    Value,
)
from django.db.models.functions import Cast, Floor, Least
from django.utils import timezone

from leadops.models import Opportunity
from leadops.rules import ScoreTier, Stage
from scoring import rules as engine
from scoring.compiler import scored_queryset
from scoring.facts import engine_model
from scoring.models import ImpactPreview, ScoringModelVersion, VersionStatus

BUCKETS = list(range(0, 100, 10))  # 0-9, 10-19, ... 90-100


def impact_preview_request(*, version: ScoringModelVersion) -> ImpactPreview:
    preview, _ = ImpactPreview.objects.update_or_create(
        version=version,
        defaults={"status": ImpactPreview.Status.PENDING, "requested_at": timezone.now(), "results": {}, "error": ""},
    )
    return preview


def impact_preview_compute(*, version: ScoringModelVersion, now=None) -> ImpactPreview:
    """Score every lead with the version (read only) and compare with the stored scores and real outcomes."""
    now = now or timezone.now()
    model = engine_model(version)
    active = version.model.versions.filter(status=VersionStatus.ACTIVE).first()
    won = Opportunity.objects.filter(lead=OuterRef("pk"), stage=Opportunity.Stage.WON)
    closed = Opportunity.objects.filter(lead=OuterRef("pk"), stage__in=[Opportunity.Stage.WON, Opportunity.Stage.LOST])
    leads = scored_queryset(model, now=now).annotate(
        new_bucket=_bucket(F("s_total")),
        old_bucket=_bucket(Cast("score_total", FloatField())),
        new_tier=F("s_tier"),
        won=Exists(won),
        closed=Exists(closed),
    )
    new_hist = dict(leads.order_by().values_list("new_bucket").annotate(n=Count("pk")))
    old_hist = dict(
        leads.filter(score_total__isnull=False).order_by().values_list("old_bucket").annotate(n=Count("pk"))
    )
    tier_moves = leads.order_by().values("score_tier", "new_tier").annotate(n=Count("pk"))
    outcome = leads.filter(closed=True).aggregate(
        n_closed=Count("pk"),
        n_won=Count("pk", filter=Q(won=True)),
        predicted=Count("pk", filter=Q(s_tier=ScoreTier.SQL)),
        true_positive=Count("pk", filter=Q(s_tier=ScoreTier.SQL, won=True)),
    )
    # Every stage move and the fast-track counts from one pass over the leads, grouped by (stage, new tier): each
    # pass evaluates the version's scoring expressions for every lead, so one query per count would rescan them all.
    by_stage = list(
        leads.order_by()
        .values("stage", "new_tier")
        .annotate(n=Count("pk"), fast_tracked=Count("pk", filter=~Q(s_fast_track="")))
    )
    results = {
        "leads": sum(new_hist.values()),
        "compared_with": active.label if active else None,
        "histogram": {
            "buckets": [f"{b}-{b + 9 if b < 90 else 100}" for b in BUCKETS],
            "new": [int(new_hist.get(i, 0)) for i in range(10)],
            "old": [int(old_hist.get(i, 0)) for i in range(10)],
        },
        "tier_changes": sorted(
            (
                {"from": row["score_tier"] or "unscored", "to": row["new_tier"], "leads": row["n"]}
                for row in tier_moves
                if (row["score_tier"] or "unscored") != row["new_tier"]
            ),
            key=lambda row: -row["leads"],
        ),
        "tier_changed": sum(row["n"] for row in tier_moves if (row["score_tier"] or "unscored") != row["new_tier"]),
        "stage_changes": {
            key: sum(row["n"] for row in by_stage if _moved(row, moves)) for key, moves in _MOVE_GROUPS.items()
        },
        "fast_tracked": sum(row["fast_tracked"] for row in by_stage),
        "fast_tracked_to_sql": sum(
            row["fast_tracked"] for row in by_stage if row["stage"] in engine.SCORE_OWNED_STAGES
        ),
        "outcomes": _outcome_metrics(outcome),
    }
    with transaction.atomic():
        preview = impact_preview_request(version=version) if not hasattr(version, "preview") else version.preview
        preview.status, preview.computed_at, preview.as_of, preview.results = (
            ImpactPreview.Status.DONE,
            timezone.now(),
            now,
            results,
        )
        preview.save()
    return preview


def _bucket(score):
    # 10-point buckets; 100 joins the 90-99 bucket.
    return Least(Floor(ExpressionWrapper(score / Value(10.0), output_field=FloatField())), Value(9.0))


def _group_moves() -> dict[str, list[engine.StageMove]]:
    groups: dict[str, list[engine.StageMove]] = {
        "to_mql": [],
        "to_sql": [],
        "to_review": [],
        "to_disqualified": [],
        "to_nurture": [],
        "to_lead": [],
    }
    for move in engine.STAGE_MOVES:
        if move.opens_review:
            groups["to_review"].append(move)
            # Borderline leads from before MQL also become MQLs.
            groups["to_mql"].append(engine.StageMove(move.tier, move.from_stages - {Stage.MQL}, Stage.MQL))
        elif move.to == Stage.SQL:
            groups["to_sql"].append(move)
            if move.via_mql:
                groups["to_mql"].append(move)
        else:
            groups[f"to_{move.to}"].append(move)
    return groups


def _moved(row: dict, moves: list[engine.StageMove]) -> bool:
    return any(row["new_tier"] == move.tier and row["stage"] in move.from_stages for move in moves)


_MOVE_GROUPS = _group_moves()


def _outcome_metrics(outcome: dict) -> dict:
    closed, won = outcome["n_closed"], outcome["n_won"]
    predicted, tp = outcome["predicted"], outcome["true_positive"]
    base_rate = won / closed if closed else None
    precision = tp / predicted if predicted else None
    recall = tp / won if won else None
    return {
        "closed_leads": closed,
        "won": won,
        "predicted_sql": predicted,
        "true_positive": tp,
        "base_rate": base_rate,
        "precision": precision,
        "recall": recall,
        "lift": precision / base_rate if precision is not None and base_rate else None,
    }
