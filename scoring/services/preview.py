"""Impact preview of a version: what would change on today's leads, and how its cut-offs do on past outcomes."""

from __future__ import annotations

from django.db import transaction
from django.db.models import (
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    Value,
    When,
)
from django.db.models.functions import Cast, Floor, Least
from django.utils import timezone

from leadops.models import Opportunity
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
    t = model.thresholds
    cutoff = Case(
        When(s_segment="enterprise", then=Value(t.sql_enterprise)),
        When(s_segment="mid_market", then=Value(t.sql_mid_market)),
        default=Value(t.sql_smb),
        output_field=IntegerField(),
    )
    leads = scored_queryset(model, now=now).annotate(
        new_bucket=_bucket(F("s_total")),
        old_bucket=_bucket(Cast("score_total", FloatField())),
        new_tier=_tier_expression(t),
        won=Exists(won),
        closed=Exists(closed),
        cutoff=cutoff,
    )
    new_hist = dict(leads.order_by().values_list("new_bucket").annotate(n=Count("pk")))
    old_hist = dict(
        leads.filter(score_total__isnull=False).order_by().values_list("old_bucket").annotate(n=Count("pk"))
    )
    tier_moves = leads.order_by().values("score_tier", "new_tier").annotate(n=Count("pk"))
    outcome = leads.filter(closed=True).aggregate(
        n_closed=Count("pk"),
        n_won=Count("pk", filter=Q(won=True)),
        predicted=Count("pk", filter=Q(s_total__gt=F("cutoff"), s_disqualified_by="")),
        true_positive=Count("pk", filter=Q(s_total__gt=F("cutoff"), s_disqualified_by="", won=True)),
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
        "stage_changes": _stage_changes(leads),
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


def _tier_expression(t: engine.Thresholds):
    cutoff = Case(
        When(s_segment="enterprise", then=Value(t.sql_enterprise)),
        When(s_segment="mid_market", then=Value(t.sql_mid_market)),
        default=Value(t.sql_smb),
    )
    return Case(
        When(~Q(s_disqualified_by=""), then=Value("disqualified")),
        When(
            Q(s_total__gte=cutoff - t.borderline_band, s_total__lte=cutoff + t.borderline_band),
            then=Value("borderline"),
        ),
        When(s_total__gt=cutoff, then=Value("sql")),
        When(s_total__gte=t.mql, then=Value("mql")),
        default=Value("below_mql"),
    )


def _stage_changes(leads) -> dict[str, int]:
    """How many leads the version would move, by the move apply_stage_moves would make."""
    early = ["new", "lead", "nurture"]
    return {
        "to_mql": leads.filter(new_tier__in=["mql", "sql", "borderline"], stage__in=early).count(),
        "to_sql": leads.filter(new_tier="sql", stage__in=["mql", *early]).count(),
        "to_review": leads.filter(new_tier="borderline", stage__in=["mql", *early]).count(),
        "to_disqualified": leads.filter(new_tier="disqualified", stage__in=["mql", *early]).count(),
        "to_nurture": leads.filter(new_tier="below_mql", stage="mql").count(),
    }


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
