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
    fast_tracked: int = 0
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
    """Move the leads whose new tier calls for it (scoring.rules.STAGE_MOVES), through the lifecycle service, in bulk.

    - scored for the first time below MQL: new -> lead; an MQL that fell below the cut-off: -> nurture;
    - at or above the MQL cut-off: new / lead / nurture -> MQL;
    - SQL tier: MQL -> SQL (earlier stages go through MQL first), then the routing hook; a lead fast-tracked by a
      hand-raiser signal says so in the reason and is stamped `fast_tracked_at`;
    - within the borderline band: becomes or stays an MQL and a manager's review is opened;
    - disqualified by a rule: -> disqualified, with the rule as the reason.

    One query finds every lead that has a move to make (a full re-score chunk is read once, not once per move).
    """
    by = f"scoring {version.label}"
    t = model.thresholds
    result = RescoreResult()
    any_move = Q(pk__in=[])
    for stage_move in engine.STAGE_MOVES:
        any_move |= Q(score_tier=stage_move.tier, stage__in=sorted(stage_move.from_stages))
    candidates = [
        (pk, stage, tier, total, fast_track, engine.stage_move_for(tier=tier, stage=stage))
        for pk, stage, tier, total, fast_track in Lead.objects.filter(leads, score_version=version)
        .filter(any_move)
        .values_list("pk", "stage", "score_tier", "score_total", "score_fast_track")
    ]

    def move(ids: list[int], to: str, reason: str) -> set[int]:
        if not ids:
            return set()
        moved = lead_transition_bulk(lead_ids=ids, to=to, by=by, reason=reason, at=now)
        result.moved[to] = result.moved.get(to, 0) + moved.moved
        return set(moved.moved_ids)

    def landing_in(to: str, *, tier: str | None = None) -> list[int]:
        return [pk for pk, _, t_, _, _, m in candidates if m and m.to == to and (tier is None or t_ == tier)]

    _disqualify(landing_in(Stage.DISQUALIFIED), model, now, move)
    move(landing_in(Stage.LEAD), Stage.LEAD, f"Scored below the MQL cut-off ({t.mql})")
    move(landing_in(Stage.NURTURE), Stage.NURTURE, f"Score fell below the MQL cut-off ({t.mql})")
    to_mql = [(pk, m, fast_track) for pk, stage, _, _, fast_track, m in candidates if m and stage != Stage.MQL]
    became_mql = move(
        [pk for pk, m, _ in to_mql if m.to == Stage.MQL],
        Stage.MQL,
        f"Score reached the MQL cut-off ({t.mql})",
    )
    # The lifecycle has no shortcut to SQL: leads on their way there pass through MQL, and say why.
    became_mql |= move(
        [pk for pk, m, fast_track in to_mql if m.via_mql and not fast_track],
        Stage.MQL,
        "On the way to SQL: score above the segment's SQL cut-off",
    )
    became_mql |= move(
        [pk for pk, m, fast_track in to_mql if m.via_mql and fast_track],
        Stage.MQL,
        "On the way to SQL: fast-tracked by a hand-raiser signal",
    )
    ready_for_sql = [
        (pk, fast_track)
        for pk, stage, _, _, fast_track, m in candidates
        if m and m.to == Stage.SQL and (stage == Stage.MQL or pk in became_mql)
    ]
    new_sqls = move(
        [pk for pk, fast_track in ready_for_sql if not fast_track],
        Stage.SQL,
        f"Score above the segment's SQL cut-off (SMB {t.sql_smb}, Mid-Market {t.sql_mid_market}, "
        f"Enterprise {t.sql_enterprise})",
    )
    fast_tracked = _fast_track([pk for pk, fast_track in ready_for_sql if fast_track], model, now, move)
    new_sqls |= fast_tracked
    if fast_tracked:
        Lead.objects.filter(pk__any_of=sorted(fast_tracked)).update(fast_tracked_at=now)
    result.fast_tracked = len(fast_tracked)
    result.borderline_opened = _open_borderline_reviews(
        [
            (pk, total)
            for pk, stage, _, total, _, m in candidates
            if m and m.opens_review and (stage == Stage.MQL or pk in became_mql)
        ],
        version,
        now,
    )
    if new_sqls:
        sql_ids = sorted(new_sqls)
        transaction.on_commit(lambda: leads_became_sql.send(sender=ScoringModelVersion, lead_ids=sql_ids))
    return result


def _disqualify(candidates: list[int], model, now, move) -> None:
    # The set-based pass stores the tier only; the rule that disqualified a lead is recomputed per lead for the
    # reason, which is cheap because disqualifications are few.
    by_reason: dict[str, list[int]] = {}
    for lead_id, result in _rescored(candidates, model, now):
        by_reason.setdefault(f"Disqualified by rule: {result.disqualified_by or 'a disqualifying rule'}", []).append(
            lead_id
        )
    for reason, ids in by_reason.items():
        move(ids, Stage.DISQUALIFIED, reason)


def _fast_track(candidates: list[int], model, now, move) -> set[int]:
    # The reason names the signal and its day ("Fast-tracked: Demo request on 2026-11-29 ..."), recomputed per lead
    # from the same facts; hand-raisers are few.
    by_reason: dict[str, list[int]] = {}
    for lead_id, result in _rescored(candidates, model, now):
        by_reason.setdefault(result.fast_track_reason or "Fast-tracked by a hand-raiser signal", []).append(lead_id)
    moved: set[int] = set()
    for reason, ids in by_reason.items():
        moved |= move(ids, Stage.SQL, reason)
    return moved


def _rescored(lead_ids: list[int], model, now):
    for start in range(0, len(lead_ids), 2000):
        chunk = lead_ids[start : start + 2000]
        for lead_id, facts in facts_for_leads(chunk).items():
            yield lead_id, engine.score_lead(facts, model, now=now)


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
