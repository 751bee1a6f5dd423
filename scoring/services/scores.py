"""Writes of scores: set-based re-scoring of ranges, per-lead re-scoring after events, and the stage moves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.db.models import F, Q
from django.dispatch import Signal
from django.utils import timezone

from leadops.db import bulk_update_rows
from leadops.models import Lead
from leadops.rules import Stage
from leadops.services import lead_transition_bulk
from scoring import rules as engine
from scoring.compiler import scored_queryset, temperature_sql, tier_sql
from scoring.facts import engine_model, facts_for_leads
from scoring.models import BorderlineReview, ScoringModelVersion

# Sent with the ids of leads that just became SQLs; routing connects to it to assign them.
leads_became_sql = Signal()

SCORE_FIELDS = [
    "score_fit",
    "score_engagement",
    "score_intent",
    "score_buying",
    "score_total",
    "score_tier",
    "temperature",
    "scored_at",
    "score_version",
]


@dataclass
class RescoreResult:
    scored: int = 0
    moved: dict[str, int] = field(default_factory=dict)
    borderline_opened: int = 0


def leads_rescore_range(
    *, version: ScoringModelVersion, lo: int, hi: int, now: datetime, model: engine.Model | None = None
) -> RescoreResult:
    """Re-score every lead with lo <= id < hi in one UPDATE, then move the stages that crossed a threshold.

    Runs in one transaction: a chunk killed half-way leaves nothing behind and can simply run again.
    """
    model = model or engine_model(version)
    with transaction.atomic():
        scored = _update_scores_set_based(version=version, model=model, lo=lo, hi=hi, now=now)
        result = apply_stage_moves(version=version, model=model, leads=Q(pk__gte=lo, pk__lt=hi), now=now)
    result.scored = scored
    return result


def _update_scores_set_based(*, version, model, lo: int, hi: int, now: datetime) -> int:
    inner = scored_queryset(model, now=now, leads=Lead.objects.filter(pk__gte=lo, pk__lt=hi), with_total=False)
    columns = ["s_id", "s_fit", "s_engagement", "s_intent", "s_buying", "s_disqualified_by", "s_segment"]
    inner = inner.annotate(s_id=F("pk")).values_list(*columns)
    inner_sql, inner_params = inner.query.get_compiler(connection=connection).as_sql()
    weights = [float(model.weights[p]) for p in engine.PILLARS]
    total = "FLOOR(((((0.0 + %s * i.s_fit) + %s * i.s_engagement) + %s * i.s_intent) + %s * i.s_buying) + 0.5)"
    tier, tier_params = tier_sql(
        model.thresholds, total="s.total", segment="s.s_segment", disqualified="s.s_disqualified_by <> ''"
    )
    temperature, temperature_params = temperature_sql(model.thresholds, total="s.total")
    table = Lead._meta.db_table
    sql = (
        f"UPDATE {table} SET score_fit = s.s_fit, score_engagement = s.s_engagement, score_intent = s.s_intent, "
        f"score_buying = s.s_buying, score_total = s.total, score_tier = {tier}, temperature = {temperature}, "
        f"scored_at = %s, score_version_id = %s "
        f"FROM (SELECT i.*, {total} AS total FROM ({inner_sql}) i) s "
        f"WHERE {table}.id = s.s_id"
    )
    params = [*tier_params, *temperature_params, now, version.pk, *weights, *inner_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def leads_rescore(
    *, lead_ids, version: ScoringModelVersion, now: datetime | None = None, model: engine.Model | None = None
) -> RescoreResult:
    """Re-score a small set of leads (after events arrived) with the per-lead engine, then move stages."""
    now = now or timezone.now()
    model = model or engine_model(version)
    ids = sorted(set(lead_ids))
    with transaction.atomic():
        leads = list(Lead.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk"))
        facts = facts_for_leads(ids)
        for lead in leads:
            result = engine.score_lead(facts[lead.pk], model, now=now)
            lead.score_fit = result.pillars["fit"]
            lead.score_engagement = result.pillars["engagement"]
            lead.score_intent = result.pillars["intent"]
            lead.score_buying = result.pillars["buying"]
            lead.score_total = result.total
            lead.score_tier = result.tier
            lead.temperature = result.temperature
            lead.scored_at = now
            lead.score_version = version
        bulk_update_rows(Lead, leads, SCORE_FIELDS)
        outcome = apply_stage_moves(version=version, model=model, leads=Q(pk__in=ids), now=now)
    outcome.scored = len(leads)
    return outcome


def apply_stage_moves(*, version: ScoringModelVersion, model: engine.Model, leads: Q, now: datetime) -> RescoreResult:
    """Move the leads whose new tier crossed a threshold, through the lifecycle service, in bulk.

    - scored for the first time below MQL: new -> lead;
    - at or above the MQL cut-off: new / lead / nurture -> MQL;
    - above the segment's SQL cut-off (outside the borderline band): MQL -> SQL, then the routing hook;
    - within the borderline band: stays where it is and a manager's review is opened;
    - disqualified by a rule: early stages -> disqualified, with the rule as the reason;
    - an MQL whose score fell below the MQL cut-off goes back to nurture.
    """
    by = f"scoring {version.label}"
    t = model.thresholds
    result = RescoreResult()
    scope = Lead.objects.filter(leads, score_version=version)

    def move(queryset, to: str, reason: str) -> list[int]:
        ids = list(queryset.values_list("pk", flat=True))
        if ids:
            moved = lead_transition_bulk(lead_ids=ids, to=to, by=by, reason=reason, at=now)
            result.moved[to] = result.moved.get(to, 0) + moved.moved
        return ids

    _disqualify(scope, model, now, move)
    move(scope.filter(score_tier="below_mql", stage=Stage.NEW), Stage.LEAD, f"Scored below the MQL cut-off ({t.mql})")
    qualifying = ["mql", "sql", "borderline"]
    move(
        scope.filter(score_tier__in=qualifying, stage__in=[Stage.NEW, Stage.LEAD, Stage.NURTURE]),
        Stage.MQL,
        f"Score reached the MQL cut-off ({t.mql})",
    )
    new_sqls = move(
        scope.filter(score_tier="sql", stage=Stage.MQL),
        Stage.SQL,
        f"Score above the segment's SQL cut-off (SMB {t.sql_smb}, Mid-Market {t.sql_mid_market}, "
        f"Enterprise {t.sql_enterprise})",
    )
    move(
        scope.filter(score_tier="below_mql", stage=Stage.MQL),
        Stage.NURTURE,
        f"Score fell below the MQL cut-off ({t.mql})",
    )
    result.borderline_opened = _open_borderline_reviews(scope, version, now)
    if new_sqls:
        transaction.on_commit(lambda: leads_became_sql.send(sender=ScoringModelVersion, lead_ids=new_sqls))
    return result


def _disqualify(scope, model, now, move) -> None:
    # The set-based pass stores the tier only; the rule that disqualified a lead is recomputed per lead for the
    # reason, which is cheap because disqualifications are few.
    candidates = list(
        scope.filter(
            score_tier="disqualified", stage__in=[Stage.NEW, Stage.LEAD, Stage.MQL, Stage.NURTURE]
        ).values_list("pk", flat=True)
    )
    by_rule: dict[str, list[int]] = {}
    for start in range(0, len(candidates), 2000):
        chunk = candidates[start : start + 2000]
        for lead_id, facts in facts_for_leads(chunk).items():
            result = engine.score_lead(facts, model, now=now)
            by_rule.setdefault(result.disqualified_by or "a disqualifying rule", []).append(lead_id)
    for rule_name, ids in by_rule.items():
        move(Lead.objects.filter(pk__in=ids), Stage.DISQUALIFIED, f"Disqualified by rule: {rule_name}")


def _open_borderline_reviews(scope, version, now) -> int:
    candidates = scope.filter(score_tier="borderline", stage=Stage.MQL).exclude(
        borderline_reviews__status=BorderlineReview.Status.OPEN
    )
    reviews = [
        BorderlineReview(lead_id=lead_id, version=version, score=score, opened_at=now)
        for lead_id, score in candidates.values_list("pk", "score_total")
    ]
    BorderlineReview.objects.bulk_create(reviews, batch_size=1000, ignore_conflicts=True)
    return len(reviews)
