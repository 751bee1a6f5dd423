"""Fold events and intent signals into the per-lead aggregates the rules read.

Which aggregates exist is decided by the rules of the versions in play (active, submitted, approved): each
behaviour rule names a matcher (event kind, optional property prefix, half-life). A version that brings a new
matcher has it back-filled from the stored events once, when it is submitted or activated.
"""

from __future__ import annotations

from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from leadops.db import bulk_update_rows, rows_insert
from leadops.models import IntentSignal, Lead, LeadEvent
from scoring import rules as engine
from scoring.models import RULE_FIELDS, LeadAggregate, RuleKind, ScoringModelVersion, ScoringRule, VersionStatus
from scoring.services.pending import leads_queue_for_rescore

# Decayed sums are stored rounded: every database parses six decimals back to the same double.
DECIMALS = 6
IN_PLAY = [VersionStatus.ACTIVE, VersionStatus.SUBMITTED, VersionStatus.APPROVED]
REBUILD_CHUNK = 2000  # leads per transaction of a rebuild; their aggregates stay locked while it runs


# Rules of versions in play never change (only drafts are edited), so the engine rules built from them are kept
# until the stored rows differ; ingestion asks for them on every batch.
_in_play_cache: tuple[tuple, tuple[list, list]] | None = None


def rules_in_play() -> tuple[list[engine.BehaviourRule], list[engine.IntentRule]]:
    """Behaviour and intent rules of every version whose aggregates must be kept, one per matcher."""
    global _in_play_cache
    rows = tuple(
        ScoringRule.objects.filter(
            version__status__in=IN_PLAY, kind__in=[RuleKind.BEHAVIOUR, RuleKind.INTENT, RuleKind.FAST_TRACK]
        )
        .order_by("version_id", "position", "pk")
        .values_list(*RULE_FIELDS)
    )
    cached = _in_play_cache
    if cached is not None and cached[0] == rows:
        return cached[1]
    behaviour: dict[str, engine.BehaviourRule] = {}
    intent: dict[str, engine.IntentRule] = {}
    for row in rows:
        rule = ScoringRule(**dict(zip(RULE_FIELDS, row, strict=True))).as_engine_rule()
        if isinstance(rule, engine.FastTrackRule):  # reads a behaviour aggregate: its count and last seen
            behaviour.setdefault(rule.matcher, rule.aggregate_rule)
        elif isinstance(rule, engine.BehaviourRule):
            behaviour.setdefault(rule.matcher, rule)
        else:
            intent.setdefault(rule.matcher, rule)
    result = (list(behaviour.values()), list(intent.values()))
    _in_play_cache = (rows, result)
    return result


def fold_events(aggregate: LeadAggregate, events, behaviour_rules) -> None:
    """Add (kind, properties, occurred_at) events to one lead's aggregate, in place."""
    for kind, properties, occurred_at in sorted(events, key=lambda e: e[2]):
        event_ts = occurred_at.timestamp()
        if aggregate.last_event_at is None or occurred_at > aggregate.last_event_at:
            aggregate.last_event_at = occurred_at
        new_as_of = max(aggregate.as_of, event_ts)
        for rule in behaviour_rules:
            if not engine.event_matches(rule, kind=kind, properties=properties):
                continue
            count, decayed, last_seen = aggregate.behaviour.get(rule.matcher, [0, 0.0, None])
            if rule.half_life_days:
                decayed, _ = engine.decay_add_event(
                    decayed=decayed, as_of=aggregate.as_of, event_at=event_ts, half_life_days=rule.half_life_days
                )
            aggregate.behaviour[rule.matcher] = [count + 1, decayed, max(last_seen or 0.0, event_ts)]
        if new_as_of != aggregate.as_of:
            # Every decayed sum refers to the same as_of: carry the untouched ones forward too.
            for rule in behaviour_rules:
                entry = aggregate.behaviour.get(rule.matcher)
                if (
                    entry is None
                    or not rule.half_life_days
                    or engine.event_matches(rule, kind=kind, properties=properties)
                ):
                    continue
                factor = engine.decay_factor(half_life_days=rule.half_life_days, as_of=aggregate.as_of, now=new_as_of)
                entry[1] = entry[1] * factor
            aggregate.as_of = new_as_of
    for entry in aggregate.behaviour.values():
        entry[1] = round(entry[1], DECIMALS)


def fold_signals(aggregate: LeadAggregate, signals, intent_rules) -> None:
    """Add (topic, surge_score, observed_at) signals to one lead's aggregate, in place."""
    for topic, surge, observed_at in signals:
        seen = observed_at.timestamp()
        for rule in intent_rules:
            if engine.signal_matches(rule, topic=topic, surge_score=surge):
                aggregate.intent[rule.matcher] = max(aggregate.intent.get(rule.matcher, 0.0), seen)


def aggregates_locked(lead_ids) -> dict[int, LeadAggregate]:
    """The aggregates of these leads, created when missing, locked for update until the transaction ends.

    Locked in id order, so two batches touching the same leads wait for each other instead of deadlocking.
    """
    ids = sorted(set(lead_ids))
    now = timezone.now()
    rows_insert(
        LeadAggregate,
        ["lead", "behaviour", "intent", "as_of", "updated_at"],
        [(i, {}, {}, 0.0, now) for i in ids],
        ignore_conflicts=True,
    )
    return {
        a.lead_id: a for a in LeadAggregate.objects.select_for_update(no_key=True).filter(pk__any_of=ids).order_by("pk")
    }


def events_record(*, events: list[dict]) -> list[int]:
    """Store events ({lead_id, kind, occurred_at, properties}), fold them into the aggregates and queue the leads
    for re-scoring.

    Returns the ids of the leads touched. One transaction: stored events, aggregates and the queue never disagree.
    A lead's events are only ever stored while its aggregate is locked, which is what lets aggregates_rebuild
    (which takes the same locks before it reads) see exactly the events folded so far.
    """
    by_lead: dict[int, list] = defaultdict(list)
    for event in events:
        by_lead[event["lead_id"]].append((event["kind"], event.get("properties") or {}, event["occurred_at"]))
    with transaction.atomic():
        aggregates = aggregates_locked(by_lead)
        # Read under the locks: a version submitted since is in play now, or its back-fill of these leads has not
        # run yet and will wait for this batch and read its events.
        behaviour_rules, _ = rules_in_play()
        rows_insert(
            LeadEvent,
            ["lead", "kind", "occurred_at", "properties"],
            [(e["lead_id"], e["kind"], e["occurred_at"], e.get("properties") or {}) for e in events],
        )
        for lead_id, lead_events in by_lead.items():
            fold_events(aggregates[lead_id], lead_events, behaviour_rules)
        bulk_update_rows(LeadAggregate, aggregates.values(), ["behaviour", "as_of", "last_event_at", "updated_at"])
        leads_queue_for_rescore(aggregates)
    return sorted(by_lead)


def signals_record(*, signals: list[dict]) -> list[int]:
    """Store intent signals ({account_id, lead_id?, topic, surge_score, source, observed_at}); fold them into the
    aggregates of the leads they concern (the lead, or every lead of the account) and queue those leads for
    re-scoring. Returns their ids."""
    with transaction.atomic():
        IntentSignal.objects.bulk_create([IntentSignal(**s) for s in signals], batch_size=1000)
        by_lead: dict[int, list] = defaultdict(list)
        account_ids = {s["account_id"] for s in signals if not s.get("lead_id")}
        leads_of_account: dict[int, list[int]] = defaultdict(list)
        for lead_id, account_id in Lead.objects.filter(account_id__in=account_ids).values_list("pk", "account_id"):
            leads_of_account[account_id].append(lead_id)
        for s in signals:
            targets = [s["lead_id"]] if s.get("lead_id") else leads_of_account[s["account_id"]]
            for lead_id in targets:
                by_lead[lead_id].append((s["topic"], s["surge_score"], s["observed_at"]))
        aggregates = aggregates_locked(by_lead)
        _, intent_rules = rules_in_play()  # under the locks, as in events_record
        for lead_id, lead_signals in by_lead.items():
            fold_signals(aggregates[lead_id], lead_signals, intent_rules)
        bulk_update_rows(LeadAggregate, aggregates.values(), ["intent", "updated_at"])
        leads_queue_for_rescore(aggregates)
    return sorted(by_lead)


def aggregates_rebuild(*, lead_ids, behaviour_rules=(), intent_rules=()) -> None:
    """Recompute the aggregates of these leads from their stored events and signals (back-fill for new matchers,
    and repair). Idempotent: the result depends only on what is stored.

    Keeps every aggregate the versions in play read when it runs (plus those of the rules given): a rebuild planned
    before a version was submitted must not drop what that version's back-fill has filled in meanwhile.
    """
    ids = sorted(set(lead_ids))
    with transaction.atomic():
        # Lock first, then read, in the order ingestion locks: a batch for these leads either committed before the
        # read (its events are read here) or waits for this rebuild (and folds its events into the result).
        # Reading first would let a batch commit in between and be overwritten by the older snapshot.
        aggregates = aggregates_locked(ids)
        in_play_behaviour, in_play_intent = rules_in_play()
        behaviour_rules = list({r.matcher: r for r in [*behaviour_rules, *in_play_behaviour]}.values())
        intent_rules = list({r.matcher: r for r in [*intent_rules, *in_play_intent]}.values())
        events: dict[int, list] = defaultdict(list)
        for lead_id, kind, properties, occurred_at in LeadEvent.objects.filter(lead_id__in=ids).values_list(
            "lead_id", "kind", "properties", "occurred_at"
        ):
            events[lead_id].append((kind, properties or {}, occurred_at))
        leads_of_account: dict[int, list[int]] = defaultdict(list)
        for lead_id, account_id in Lead.objects.filter(pk__in=ids, account__isnull=False).values_list(
            "pk", "account_id"
        ):
            leads_of_account[account_id].append(lead_id)
        signals: dict[int, list] = defaultdict(list)
        for lead_id, account_id, topic, surge, observed_at in IntentSignal.objects.filter(
            account_id__in=list(leads_of_account)
        ).values_list("lead_id", "account_id", "topic", "surge_score", "observed_at"):
            # A signal about one lead counts for that lead; an account-level signal for every lead of the account.
            targets = [lead_id] if lead_id is not None else leads_of_account[account_id]
            for target in targets:
                if target in leads_of_account[account_id]:
                    signals[target].append((topic, surge, observed_at))
        for lead_id, aggregate in aggregates.items():
            aggregate.behaviour, aggregate.intent, aggregate.as_of, aggregate.last_event_at = {}, {}, 0.0, None
            fold_events(aggregate, events.get(lead_id, []), behaviour_rules)
            fold_signals(aggregate, signals.get(lead_id, []), intent_rules)
        bulk_update_rows(
            LeadAggregate, aggregates.values(), ["behaviour", "intent", "as_of", "last_event_at", "updated_at"]
        )


def aggregates_rebuild_all(*, chunk_size: int = REBUILD_CHUNK, progress=None) -> int:
    """Rebuild every lead's aggregates, one transaction per chunk of leads; returns the number of leads.

    `progress` wraps the list of chunks (the command's progress bar). Leads created meanwhile get their aggregates
    from ingestion, with the rules in play then.
    """
    ids = list(Lead.objects.order_by("pk").values_list("pk", flat=True))
    chunks = [ids[start : start + chunk_size] for start in range(0, len(ids), chunk_size)]
    for chunk in progress(chunks) if progress else chunks:
        aggregates_rebuild(lead_ids=chunk)
    return len(ids)


def version_aggregates_backfill(*, version_id: int) -> bool:
    """Fill in the aggregates a submitted version reads from the stored events, once; then it may be approved.

    Returns whether a back-fill ran. Safe to run twice: a version whose aggregates are ready is left alone.
    """
    if not ScoringModelVersion.objects.filter(pk=version_id, aggregates_ready=False).exists():
        return False
    aggregates_rebuild_all()  # the version is in play (submitted): its rules are among those rebuilt
    ScoringModelVersion.objects.filter(pk=version_id).update(aggregates_ready=True)
    return True


def missing_matchers(version: ScoringModelVersion) -> bool:
    """Whether this version reads an aggregate that the versions in play so far did not keep."""
    from scoring.facts import engine_model

    kept_behaviour, kept_intent = rules_in_play()
    kept = {r.matcher for r in kept_behaviour} | {r.matcher for r in kept_intent}
    kept -= _matchers_being_back_filled()
    needed = {
        r.matcher
        for r in engine_model(version).rules
        if isinstance(r, engine.BehaviourRule | engine.IntentRule | engine.FastTrackRule)
    }
    return bool(needed - kept)


def _matchers_being_back_filled() -> set[str]:
    """Matchers that only versions whose back-fill has not finished read: ingestion keeps them from now on, but
    the events stored before are not all counted yet."""
    matchers: dict[bool, set[str]] = {True: set(), False: set()}
    for ready, *row in ScoringRule.objects.filter(version__status__in=IN_PLAY).values_list(
        "version__aggregates_ready", *RULE_FIELDS
    ):
        rule = ScoringRule(**dict(zip(RULE_FIELDS, row, strict=True))).as_engine_rule()
        if hasattr(rule, "matcher"):
            matchers[ready].add(rule.matcher)
    return matchers[False] - matchers[True]
