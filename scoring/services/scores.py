"""Writes of scores: set-based re-scoring of ranges, per-lead re-scoring after events, and the stage moves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone

from leadops.models import Lead
from leadops.rules import Stage
from leadops.services import lead_transition_bulk
from scoring import rules as engine
from scoring.compiler import ScoringStatement
from scoring.facts import engine_model, facts_for_leads
from scoring.models import BorderlineReview, ScoringModelVersion

# Sent with the ids of leads that just became SQLs; routing connects to it to assign them.
leads_became_sql = Signal()


@dataclass
class RescoreResult:
    scored: int = 0
    moved: dict[str, int] = field(default_factory=dict)
    borderline_opened: int = 0
    batches: int = 0  # transactions it took (the incremental path drains in batches)


def leads_rescore_range(
    *, version: ScoringModelVersion, lo: int, hi: int, now: datetime, model: engine.Model | None = None
) -> RescoreResult:
    """Re-score every lead with lo <= id < hi in one UPDATE, then move the stages that crossed a threshold.

    Runs in one transaction: a chunk killed half-way leaves nothing behind and can simply run again.
    """
    model = model or engine_model(version)
    with transaction.atomic():
        statement = ScoringStatement.for_model(model, by_ids=False)
        scored = statement.execute(now=now, version_id=version.pk, lo=lo, hi=hi)
        result = apply_stage_moves(version=version, model=model, leads=Q(pk__gte=lo, pk__lt=hi), now=now)
    result.scored = scored
    return result


def leads_rescore(
    *, lead_ids, version: ScoringModelVersion, now: datetime | None = None, model: engine.Model | None = None
) -> RescoreResult:
    """Re-score these leads (after their events arrived) set-based, then move the stages that crossed a threshold.

    The rows are locked in id order first, so batches that share leads wait for each other instead of
    deadlocking.
    """
    now = now or timezone.now()
    model = model or engine_model(version)
    ids = sorted(set(lead_ids))
    with transaction.atomic():
        locked = Lead.objects.select_for_update(no_key=True).filter(pk__any_of=ids).order_by("pk")
        if not list(locked.values_list("pk")):
            return RescoreResult()
        scored = ScoringStatement.for_model(model, by_ids=True).execute(now=now, version_id=version.pk, ids=ids)
        outcome = apply_stage_moves(version=version, model=model, leads=Q(pk__any_of=ids), now=now)
    outcome.scored = scored
    return outcome


def apply_stage_moves(*, version: ScoringModelVersion, model: engine.Model, leads: Q, now: datetime) -> RescoreResult:
    """Move the leads whose new tier crossed a threshold, through the lifecycle service, in bulk.

    - scored for the first time below MQL: new -> lead;
    - at or above the MQL cut-off: new / lead / nurture -> MQL;
    - above the segment's SQL cut-off (outside the borderline band): MQL -> SQL, then the routing hook; a lead
      that just became an MQL in this pass goes on to SQL;
    - within the borderline band: stays an MQL and a manager's review is opened;
    - disqualified by a rule: early stages -> disqualified, with the rule as the reason;
    - an MQL whose score fell below the MQL cut-off goes back to nurture.

    One query finds every lead that has a move to make (a full re-score chunk is read once, not once per move).
    """
    by = f"scoring {version.label}"
    t = model.thresholds
    result = RescoreResult()
    early = {Stage.NEW, Stage.LEAD, Stage.MQL, Stage.NURTURE}
    qualifying = {"mql", "sql", "borderline"}
    candidates = list(
        Lead.objects.filter(leads, score_version=version)
        .filter(
            Q(score_tier="disqualified", stage__in=early)
            | Q(score_tier="below_mql", stage__in=[Stage.NEW, Stage.MQL])
            | Q(score_tier__in=qualifying, stage__in=[Stage.NEW, Stage.LEAD, Stage.NURTURE, Stage.MQL])
        )
        .values_list("pk", "stage", "score_tier", "score_total")
    )

    def move(ids: list[int], to: str, reason: str) -> set[int]:
        if not ids:
            return set()
        moved = lead_transition_bulk(lead_ids=ids, to=to, by=by, reason=reason, at=now)
        result.moved[to] = result.moved.get(to, 0) + moved.moved
        return set(moved.moved_ids)

    disqualified = [pk for pk, stage, tier, _ in candidates if tier == "disqualified" and stage in early]
    _disqualify(disqualified, model, now, move)
    move(
        [pk for pk, stage, tier, _ in candidates if tier == "below_mql" and stage == Stage.NEW],
        Stage.LEAD,
        f"Scored below the MQL cut-off ({t.mql})",
    )
    became_mql = move(
        [pk for pk, stage, tier, _ in candidates if tier in qualifying and stage != Stage.MQL],
        Stage.MQL,
        f"Score reached the MQL cut-off ({t.mql})",
    )
    mqls = [(pk, tier, total) for pk, stage, tier, total in candidates if stage == Stage.MQL or pk in became_mql]
    new_sqls = move(
        [pk for pk, tier, _ in mqls if tier == "sql"],
        Stage.SQL,
        f"Score above the segment's SQL cut-off (SMB {t.sql_smb}, Mid-Market {t.sql_mid_market}, "
        f"Enterprise {t.sql_enterprise})",
    )
    move(
        [pk for pk, stage, tier, _ in candidates if tier == "below_mql" and stage == Stage.MQL],
        Stage.NURTURE,
        f"Score fell below the MQL cut-off ({t.mql})",
    )
    result.borderline_opened = _open_borderline_reviews(
        [(pk, total) for pk, tier, total in mqls if tier == "borderline"], version, now
    )
    if new_sqls:
        sql_ids = sorted(new_sqls)
        transaction.on_commit(lambda: leads_became_sql.send(sender=ScoringModelVersion, lead_ids=sql_ids))
    return result


def _disqualify(candidates: list[int], model, now, move) -> None:
    # The set-based pass stores the tier only; the rule that disqualified a lead is recomputed per lead for the
    # reason, which is cheap because disqualifications are few.
    by_rule: dict[str, list[int]] = {}
    for start in range(0, len(candidates), 2000):
        chunk = candidates[start : start + 2000]
        for lead_id, facts in facts_for_leads(chunk).items():
            result = engine.score_lead(facts, model, now=now)
            by_rule.setdefault(result.disqualified_by or "a disqualifying rule", []).append(lead_id)
    for rule_name, ids in by_rule.items():
        move(ids, Stage.DISQUALIFIED, f"Disqualified by rule: {rule_name}")


def _open_borderline_reviews(candidates: list[tuple[int, int]], version, now) -> int:
    """Open a review for each (lead, score) unless one is open already."""
    if not candidates:
        return 0
    already_open = set(
        BorderlineReview.objects.filter(
            lead_id__any_of=[pk for pk, _ in candidates], status=BorderlineReview.Status.OPEN
        ).values_list("lead_id", flat=True)
    )
    reviews = [
        BorderlineReview(lead_id=lead_id, version=version, score=score, opened_at=now)
        for lead_id, score in candidates
        if lead_id not in already_open
    ]
    BorderlineReview.objects.bulk_create(reviews, batch_size=1000, ignore_conflicts=True)
    return len(reviews)
