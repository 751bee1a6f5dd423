"""The scoring engine for one lead: a pure function from facts and a model to a score with its reasons.

No ORM, no settings, no clock. The set-based evaluator (scoring/compiler.py) implements the same semantics as
database expressions; a property test proves both give the same numbers. Semantics, in order:

1. Each rule looks at the lead's facts and contributes points to one pillar (fit, engagement, intent, buying):
   - attribute: a condition on a lead / account field -> `points` when it holds;
   - behaviour: per-lead aggregate of matching events -> `points` x (decayed count, or plain count without a
     half-life), only once the count reaches `min_count`, bounded by `cap` (in absolute value);
   - intent: a matching intent signal seen within `within_days` -> `points`;
   - inactivity: no event at all for `days` days -> `points` (negative);
   - disqualify: a condition on a field -> the lead is disqualified with the rule's name as the reason.
2. A pillar is the sum of its contributions, clamped to 0..100 and rounded half up to a whole number.
3. The total is the weighted sum of the four whole-number pillars, rounded half up, so anyone can check it
   against the pillar bars a page shows.
4. Tier and temperature from the thresholds; within `borderline_band` of the segment's SQL cut-off the tier is
   "borderline": a manager reviews the lead instead of the score flipping it.
"""

from __future__ import annotations

import hashlib
import math
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cached_property

from leadops.rules import ScoreTier, Segment, Stage

PILLARS = ("fit", "engagement", "intent", "buying")
PILLAR_LABELS = {"fit": "Fit", "engagement": "Engagement", "intent": "Intent", "buying": "Buying signals"}

# Each weight must lie in its range (DESIGN.md section 2) and the four must sum to 1.
WEIGHT_RANGES = {"fit": (0.30, 0.50), "engagement": (0.20, 0.40), "intent": (0.10, 0.30), "buying": (0.10, 0.30)}

# Fields a rule may read, with their kind. Anything else is refused when the rule is saved.
ATTRIBUTE_FIELDS: dict[str, str] = {
    "lead.title": "text",
    "lead.seniority": "text",
    "lead.department": "text",
    "lead.country": "text",
    "lead.source": "text",
    "lead.email_domain": "text",
    "lead.personal_email": "bool",
    "lead.email_consent": "bool",
    "lead.unsubscribed": "bool",
    "account.name": "text",
    "account.domain": "text",
    "account.industry": "text",
    "account.country": "text",
    "account.region": "text",
    "account.segment": "text",
    "account.employees": "number",
    "account.annual_revenue": "number",
}

OPERATORS_BY_KIND = {
    "text": {"equals", "not_equals", "in", "not_in", "contains", "is_empty", "is_not_empty"},
    "number": {"equals", "not_equals", "between", "at_least", "at_most", "is_empty", "is_not_empty"},
    "bool": {"is_true", "is_false"},
}

SEGMENTS = ("smb", "mid_market", "enterprise")
SEGMENT_LABELS = Segment.LABELS
TIERS = tuple(ScoreTier.ALL)
TIER_LABELS = ScoreTier.LABELS


def round_half_up(value: float) -> int:
    # floor(x + 0.5) is what the database expression computes too (ROUND differs between PostgreSQL and SQLite).
    return math.floor(value + 0.5)


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: object = None  # str | float | list[str] | [low, high] depending on op

    def describe(self) -> str:
        name = self.field.split(".", 1)[1].replace("_", " ")
        if self.op in ("is_true", "is_false", "is_empty", "is_not_empty"):
            return f"{name} {self.op.replace('_', ' ')}"
        if self.op == "between":
            low, high = self.value
            return f"{name} between {_fmt(low)} and {_fmt(high)}"
        if self.op in ("in", "not_in"):
            return f"{name} {'in' if self.op == 'in' else 'not in'} [{', '.join(self.value)}]"
        return f"{name} {self.op.replace('_', ' ')} {_fmt(self.value)}"


def matcher_key(prefix: str, description: str) -> str:
    # A short hash: safe as a JSON key in every database's path syntax, whatever the property value holds.
    return prefix + hashlib.sha1(description.encode(), usedforsecurity=False).hexdigest()[:16]


def _fmt(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and abs(value) >= 1_000_000:
        return f"{value:,}"
    return str(value)


@dataclass(frozen=True)
class AttributeRule:
    key: str
    name: str
    pillar: str
    condition: Condition
    points: float
    kind: str = "attribute"


@dataclass(frozen=True)
class BehaviourRule:
    key: str
    name: str
    pillar: str
    event_kind: str
    points: float  # per occurrence
    cap: float
    half_life_days: float | None = None
    min_count: int = 1
    property_name: str = ""  # e.g. "path"
    property_value: str = ""  # matched as a prefix, case-insensitive: "/pricing" matches "/pricing/enterprise"
    kind: str = "behaviour"

    @cached_property  # hashed once per rule: ingestion asks for it for every event
    def matcher(self) -> str:
        """Identifies the per-lead aggregate this rule reads; rules with the same matcher share one aggregate."""
        prop = f"{self.property_name}^{self.property_value.lower()}" if self.property_name else ""
        decay = f"h{self.half_life_days:g}" if self.half_life_days else "h0"
        return matcher_key("b", f"{self.event_kind}|{prop}|{decay}")


@dataclass(frozen=True)
class IntentRule:
    key: str
    name: str
    points: float
    min_surge: int
    within_days: int
    topics: tuple[str, ...] = ()  # empty: any topic
    pillar: str = "intent"
    kind: str = "intent"

    @cached_property
    def matcher(self) -> str:
        return matcher_key("i", f"surge{self.min_surge}|{','.join(sorted(t.lower() for t in self.topics))}")


@dataclass(frozen=True)
class InactivityRule:
    key: str
    name: str
    pillar: str
    days: int
    points: float
    kind: str = "inactivity"


@dataclass(frozen=True)
class DisqualifyRule:
    key: str
    name: str
    condition: Condition
    pillar: str = ""
    kind: str = "disqualify"


@dataclass(frozen=True)
class FastTrackRule:
    """A hand-raiser signal: a matching event within `within_days` makes a fitting lead an SQL at once.

    The playbook: "Demo Request: MQL none, SQL yes". It applies only when the lead is not disqualified and its fit
    pillar reaches the model's fast-track floor, so a student's demo request does not reach sales.
    """

    key: str
    name: str
    event_kind: str
    within_days: int = 30
    property_name: str = ""
    property_value: str = ""  # matched as a prefix, case-insensitive, like a behaviour rule's
    pillar: str = ""
    kind: str = "fast_track"

    @cached_property
    def aggregate_rule(self) -> BehaviourRule:
        """The behaviour aggregate (count and last seen) this rule reads; ingestion keeps it like any other."""
        return BehaviourRule(
            key=self.key,
            name=self.name,
            pillar="buying",
            event_kind=self.event_kind,
            points=0.0,
            cap=100.0,
            property_name=self.property_name,
            property_value=self.property_value,
        )

    @property
    def matcher(self) -> str:
        return self.aggregate_rule.matcher

    def describe(self) -> str:
        what = self.event_kind.replace("_", " ")
        if self.property_name:
            what += f" ({self.property_name} {self.property_value}*)"
        return f"{what} within {self.within_days} days"


Rule = AttributeRule | BehaviourRule | IntentRule | InactivityRule | DisqualifyRule | FastTrackRule


@dataclass(frozen=True)
class Thresholds:
    mql: int = 50
    sql_smb: int = 60
    sql_mid_market: int = 75
    sql_enterprise: int = 90
    hot_above: int = 80
    warm_from: int = 50
    borderline_band: int = 5
    fast_track_fit_floor: int = 40

    @property
    def sql_cutoffs(self) -> dict[str, int]:
        """The SQL cut-off of each segment: the one lookup the engine, the SQL, the preview and the pages use."""
        return {"smb": self.sql_smb, "mid_market": self.sql_mid_market, "enterprise": self.sql_enterprise}

    def sql_cutoff(self, segment: str) -> int:
        # An unknown segment counts as SMB, as a company of unknown size does.
        return self.sql_cutoffs.get(segment, self.sql_smb)


@dataclass(frozen=True)
class Model:
    """One version of a scoring model, as plain data."""

    weights: Mapping[str, float]
    thresholds: Thresholds
    rules: Sequence[Rule]
    label: str = "model"


@dataclass(frozen=True)
class BehaviourAggregate:
    count: int = 0
    decayed: float = 0.0  # sum of 2^(-(as_of - t) / half-life) over the events, as of Facts.aggregates_as_of
    last_seen: float | None = None  # epoch seconds


@dataclass(frozen=True)
class Facts:
    """Everything the engine knows about one lead."""

    attributes: Mapping[str, object]
    behaviour: Mapping[str, BehaviourAggregate] = field(default_factory=dict)  # by BehaviourRule.matcher
    intent_last_seen: Mapping[str, float] = field(default_factory=dict)  # epoch seconds, by IntentRule.matcher
    last_event_at: datetime | None = None
    # Epoch seconds the decayed sums refer to. Times that enter arithmetic are epoch floats, so that this engine
    # and the database expressions do the very same floating-point operations.
    aggregates_as_of: float = 0.0


@dataclass(frozen=True)
class Contribution:
    rule_key: str
    rule_name: str
    pillar: str
    points: float
    matched: str  # the fact that matched, in words


@dataclass(frozen=True)
class ScoreResult:
    pillars: Mapping[str, int]
    total: int
    tier: str
    temperature: str
    disqualified_by: str
    contributions: tuple[Contribution, ...]
    fast_track: str = ""  # the fast-track rule that made the lead an SQL, '' when none did
    fast_track_reason: str = ""  # in words, also when a signal was seen but did not fast-track (fit too low, ...)

    @property
    def top_positive(self) -> list[Contribution]:
        return sorted((c for c in self.contributions if c.points > 0), key=lambda c: -c.points)[:5]

    @property
    def top_negative(self) -> list[Contribution]:
        return sorted((c for c in self.contributions if c.points < 0), key=lambda c: c.points)[:5]


# --- evaluation -----------------------------------------------------------------------------------------------


def condition_holds(condition: Condition, attributes: Mapping[str, object]) -> bool:
    kind = ATTRIBUTE_FIELDS[condition.field]
    value = attributes.get(condition.field)
    op = condition.op
    if kind == "bool":
        return bool(value) if op == "is_true" else not value
    if op == "is_empty":
        return value is None or value == ""
    if op == "is_not_empty":
        return not (value is None or value == "")
    if kind == "number":
        if value is None:
            return False
        number = float(value)
        if op == "equals":
            return number == float(condition.value)
        if op == "not_equals":
            return number != float(condition.value)
        if op == "at_least":
            return number >= float(condition.value)
        if op == "at_most":
            return number <= float(condition.value)
        if op == "between":
            low, high = condition.value
            return float(low) <= number <= float(high)
        raise ValueError(f"operator {op} on a number")
    text = (value or "").lower()
    if op == "equals":
        return text == str(condition.value).lower()
    if op == "not_equals":
        return text != str(condition.value).lower()
    if op == "in":
        return text in {str(v).lower() for v in condition.value}
    if op == "not_in":
        return text not in {str(v).lower() for v in condition.value}
    if op == "contains":
        return str(condition.value).lower() in text
    raise ValueError(f"operator {op} on text")


def decay_factor(*, half_life_days: float, as_of: float, now: float) -> float:
    """How much a decayed sum kept at `as_of` has shrunk by `now` (epoch seconds); same formula as the SQL."""
    return 2.0 ** (-(((now - as_of) / 86400.0) / half_life_days))


def decay_add_event(*, decayed: float, as_of: float, event_at: float, half_life_days: float) -> tuple[float, float]:
    """Fold one event into a decayed sum; returns the new sum and its reference time (the later of the two)."""
    new_as_of = max(as_of, event_at)
    carried = decayed * decay_factor(half_life_days=half_life_days, as_of=as_of, now=new_as_of) if decayed else 0.0
    return carried + decay_factor(half_life_days=half_life_days, as_of=event_at, now=new_as_of), new_as_of


def behaviour_points(rule: BehaviourRule, aggregate: BehaviourAggregate, factor: float) -> float:
    if aggregate.count < rule.min_count:
        return 0.0
    amount = aggregate.decayed * factor if rule.half_life_days else float(aggregate.count)
    return max(-rule.cap, min(rule.cap, rule.points * amount))


def score_lead(facts: Facts, model: Model, *, now: datetime) -> ScoreResult:
    """Score one lead. `now` must be timezone-aware."""
    sums = dict.fromkeys(PILLARS, 0.0)
    contributions: list[Contribution] = []
    disqualified_by = ""
    now_ts = now.timestamp()
    signal: tuple[FastTrackRule, float] | None = None  # the first fast-track rule with a recent signal
    for rule in model.rules:
        if isinstance(rule, DisqualifyRule):
            if not disqualified_by and condition_holds(rule.condition, facts.attributes):
                disqualified_by = rule.name
                contributions.append(Contribution(rule.key, rule.name, "", 0.0, rule.condition.describe()))
            continue
        if isinstance(rule, FastTrackRule):
            seen = fast_track_signal_seen(rule, facts, now_ts)
            if signal is None and seen is not None:
                signal = (rule, seen)
            continue
        points, matched = _rule_points(rule, facts, now, now_ts)
        if points != 0.0:
            sums[rule.pillar] += points
            contributions.append(Contribution(rule.key, rule.name, rule.pillar, points, matched))
    pillars = {p: round_half_up(min(100.0, max(0.0, sums[p]))) for p in PILLARS}
    total = weighted_total(model.weights, pillars)
    segment = str(facts.attributes.get("account.segment") or "smb")
    fast_track, fast_track_reason = "", ""
    if signal is not None:
        rule, seen = signal
        applies = fast_track_applies(
            fit=pillars["fit"], disqualified=bool(disqualified_by), thresholds=model.thresholds
        )
        fast_track = rule.name if applies else ""
        fast_track_reason = _fast_track_words(
            rule, seen, now, applies, pillars["fit"], disqualified_by, model.thresholds
        )
    return ScoreResult(
        pillars=pillars,
        total=total,
        tier=tier_for(
            total=total,
            segment=segment,
            disqualified=bool(disqualified_by),
            thresholds=model.thresholds,
            fast_tracked=bool(fast_track),
        ),
        temperature=temperature_for(total, model.thresholds),
        disqualified_by=disqualified_by,
        contributions=tuple(contributions),
        fast_track=fast_track,
        fast_track_reason=fast_track_reason,
    )


def weighted_total(weights: Mapping[str, float], pillars: Mapping[str, int]) -> int:
    """The weighted sum of the whole-number pillars in PILLARS order, rounded half up (the SQL adds in that order)."""
    total = 0.0
    for p in PILLARS:
        total = total + weights[p] * pillars[p]
    return round_half_up(total)


def fast_track_signal_seen(rule: FastTrackRule, facts: Facts, now_ts: float) -> float | None:
    """When the rule's signal was last seen (epoch seconds), if it was seen within its window; else None."""
    aggregate = facts.behaviour.get(rule.matcher)
    if aggregate is None or aggregate.count < 1 or aggregate.last_seen is None:
        return None
    last_seen = float(aggregate.last_seen)
    return last_seen if last_seen >= fast_track_window_start(rule, now_ts) else None


def fast_track_window_start(rule: FastTrackRule, now_ts: float) -> float:
    return now_ts - rule.within_days * 86400.0


def _fast_track_words(rule, seen, now, applies, fit, disqualified_by, thresholds) -> str:
    day = datetime.fromtimestamp(seen, tz=now.tzinfo)
    signal = f"{rule.name} on {day:%Y-%m-%d}"
    if applies:
        return f"Fast-tracked: {signal} (fit {fit}, at least the floor of {thresholds.fast_track_fit_floor})"
    if disqualified_by:
        return f"{signal}, not fast-tracked: disqualified by {disqualified_by}"
    return f"{signal}, not fast-tracked: fit {fit} is below the floor of {thresholds.fast_track_fit_floor}"


# --- the threshold decisions, as data -----------------------------------------------------------------------------
#
# Tier, temperature and fast-track are ordered steps of comparisons against the model's thresholds. The engine
# evaluates them here; the compiler turns the very same steps into SQL (scoring.compiler), so the thresholds, their
# order and the comparisons are written once. tests/scoring/test_equivalence.py proves the two evaluations agree
# and shows that it notices when the translation drifts.


@dataclass(frozen=True)
class Comparison:
    """One comparison: `quantity op value`, or a flag that must be true (op "is_true", value None)."""

    quantity: str  # "total", "fit", "disqualified", "fast_tracked"
    op: str  # "gt", "gte", "lt", "lte", "is_true"
    value: int | None = None


COMPARISONS = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}


def comparison_holds(test: Comparison, quantities: Mapping[str, object]) -> bool:
    value = quantities[test.quantity]
    if test.op == "is_true":
        return bool(value)
    return COMPARISONS[test.op](value, test.value)


def tier_steps(thresholds: Thresholds, segment: str) -> tuple[tuple[str, tuple[Comparison, ...]], ...]:
    """The tier decision for a segment: the first step all of whose tests hold gives the tier."""
    cutoff = thresholds.sql_cutoff(segment)
    band = thresholds.borderline_band
    return (
        (ScoreTier.DISQUALIFIED, (Comparison("disqualified", "is_true"),)),
        (ScoreTier.SQL, (Comparison("fast_tracked", "is_true"),)),
        # Within the band around the cut-off a manager decides, instead of the score flipping the lead.
        (ScoreTier.BORDERLINE, (Comparison("total", "gte", cutoff - band), Comparison("total", "lte", cutoff + band))),
        (ScoreTier.SQL, (Comparison("total", "gt", cutoff),)),
        (ScoreTier.MQL, (Comparison("total", "gte", thresholds.mql),)),
        (ScoreTier.BELOW_MQL, ()),
    )


def temperature_steps(thresholds: Thresholds) -> tuple[tuple[str, tuple[Comparison, ...]], ...]:
    return (
        ("hot", (Comparison("total", "gt", thresholds.hot_above),)),
        ("warm", (Comparison("total", "gte", thresholds.warm_from),)),
        ("cold", ()),
    )


def fast_track_tests(thresholds: Thresholds) -> tuple[Comparison, ...]:
    """What a lead with a recent hand-raiser signal must also meet to be fast-tracked."""
    return (Comparison("fit", "gte", thresholds.fast_track_fit_floor),)


def first_step(steps, quantities: Mapping[str, object]) -> str:
    for outcome, tests in steps:
        if all(comparison_holds(test, quantities) for test in tests):
            return outcome
    raise ValueError("the last step must have no tests")


def fast_track_applies(*, fit: int, disqualified: bool, thresholds: Thresholds) -> bool:
    return not disqualified and all(comparison_holds(t, {"fit": fit}) for t in fast_track_tests(thresholds))


def _rule_points(rule: Rule, facts: Facts, now: datetime, now_ts: float) -> tuple[float, str]:
    if isinstance(rule, AttributeRule):
        if condition_holds(rule.condition, facts.attributes):
            return float(rule.points), rule.condition.describe()
        return 0.0, ""
    if isinstance(rule, BehaviourRule):
        aggregate = facts.behaviour.get(rule.matcher, BehaviourAggregate())
        factor = (
            decay_factor(half_life_days=rule.half_life_days, as_of=facts.aggregates_as_of, now=now_ts)
            if rule.half_life_days
            else 1.0
        )
        points = behaviour_points(rule, aggregate, factor)
        what = rule.event_kind.replace("_", " ")
        if rule.property_name:
            what += f" ({rule.property_name} {rule.property_value}*)"
        if rule.half_life_days:
            return points, f"{aggregate.count} x {what}, worth {aggregate.decayed * factor:.2f} after decay"
        return points, f"{aggregate.count} x {what}"
    if isinstance(rule, IntentRule):
        seen = facts.intent_last_seen.get(rule.matcher)
        if seen is not None and seen >= intent_window_start(rule, now_ts):
            topics = ", ".join(rule.topics) or "any topic"
            day = datetime.fromtimestamp(seen, tz=now.tzinfo)
            return float(rule.points), f"surge >= {rule.min_surge} on {topics}, last seen {day:%Y-%m-%d}"
        return 0.0, ""
    if isinstance(rule, InactivityRule):
        last = facts.last_event_at
        if last is None or last < inactivity_cutoff(rule, now):
            since = "never active" if last is None else f"last active {last:%Y-%m-%d}"
            return float(rule.points), f"{since} (more than {rule.days} days)"
        return 0.0, ""
    raise TypeError(f"unknown rule {rule!r}")


def intent_window_start(rule: IntentRule, now_ts: float) -> float:
    return now_ts - rule.within_days * 86400.0


def inactivity_cutoff(rule: InactivityRule, now: datetime) -> datetime:
    return now - timedelta(days=rule.days)


def tier_for(
    *, total: int, segment: str, disqualified: bool, thresholds: Thresholds, fast_tracked: bool = False
) -> str:
    quantities = {"total": total, "disqualified": disqualified, "fast_tracked": fast_tracked}
    return first_step(tier_steps(thresholds, segment), quantities)


def temperature_for(total: int, thresholds: Thresholds) -> str:
    return first_step(temperature_steps(thresholds), {"total": total})


# --- stage moves: what a new tier does to a lead's lifecycle stage --------------------------------------------------

# Stages a score may still move a lead out of; from SQL on, sales owns the lead and the score only informs.
SCORE_OWNED_STAGES = frozenset({Stage.NEW, Stage.LEAD, Stage.MQL, Stage.NURTURE})


@dataclass(frozen=True)
class StageMove:
    tier: str
    from_stages: frozenset[str]
    to: str  # the stage the lead lands in
    via_mql: bool = False  # goes through MQL first (the lifecycle has no shortcut from new to SQL)
    opens_review: bool = False  # lands in MQL and a manager's borderline review is opened


# Each (tier, stage) pair has at most one move. apply_stage_moves (scoring.services.scores) makes them and the
# impact preview counts them, both from this table.
STAGE_MOVES: tuple[StageMove, ...] = (
    StageMove(ScoreTier.DISQUALIFIED, SCORE_OWNED_STAGES, Stage.DISQUALIFIED),
    StageMove(ScoreTier.BELOW_MQL, frozenset({Stage.NEW}), Stage.LEAD),
    StageMove(ScoreTier.BELOW_MQL, frozenset({Stage.MQL}), Stage.NURTURE),
    StageMove(ScoreTier.MQL, frozenset({Stage.NEW, Stage.LEAD, Stage.NURTURE}), Stage.MQL),
    StageMove(
        ScoreTier.BORDERLINE, frozenset({Stage.NEW, Stage.LEAD, Stage.NURTURE, Stage.MQL}), Stage.MQL, opens_review=True
    ),
    StageMove(ScoreTier.SQL, frozenset({Stage.MQL}), Stage.SQL),
    StageMove(ScoreTier.SQL, frozenset({Stage.NEW, Stage.LEAD, Stage.NURTURE}), Stage.SQL, via_mql=True),
)


def stage_move_for(*, tier: str, stage: str) -> StageMove | None:
    """The move a lead in `stage` makes when it is scored into `tier`, or None when it stays."""
    for move in STAGE_MOVES:
        if move.tier == tier and stage in move.from_stages:
            return move
    return None


# --- validation: rules arrive as data from a form or the API and are checked before they are stored ------------


class RuleError(ValueError):
    """A rule or model that cannot be stored; the message says what to change.

    `field` names what the message is about, so a form puts it next to that input without reading the words:
    a rule's field ("points", "value", ...; `index` 1 is the upper end of a range), "weights.<pillar>" or
    "thresholds.<name>".
    """

    def __init__(self, message: str, *, field: str = "", index: int | None = None):
        super().__init__(message)
        self.field = field
        self.index = index


THRESHOLD_LABELS = {
    "mql": "MQL cut-off",
    "sql_smb": "SMB SQL cut-off",
    "sql_mid_market": "Mid-Market SQL cut-off",
    "sql_enterprise": "Enterprise SQL cut-off",
    "hot_above": "hot threshold",
    "warm_from": "warm threshold",
    "borderline_band": "borderline band",
    "fast_track_fit_floor": "fast-track fit floor",
}


def validate_weights(weights: Mapping[str, float]) -> None:
    missing = [p for p in PILLARS if p not in weights]
    if missing:
        raise RuleError(f"Weights are missing for: {', '.join(missing)}.", field=f"weights.{missing[0]}")
    for pillar, (low, high) in WEIGHT_RANGES.items():
        value = float(weights[pillar])
        if not low - 1e-9 <= value <= high + 1e-9:
            raise RuleError(
                f"The {PILLAR_LABELS[pillar]} weight must be between {low:.0%} and {high:.0%}, got {value:.0%}.",
                field=f"weights.{pillar}",
            )
    total = sum(Decimal(str(weights[p])) for p in PILLARS)
    if total != Decimal(1):
        # About all four; shown on the last weight, next to where the sum is read.
        raise RuleError(
            f"The four weights must add up to 100%, they add up to {float(total):.0%}.", field="weights.buying"
        )


def validate_thresholds(t: Thresholds) -> None:
    for name in (
        "mql",
        "sql_smb",
        "sql_mid_market",
        "sql_enterprise",
        "hot_above",
        "warm_from",
        "fast_track_fit_floor",
    ):
        value = getattr(t, name)
        if not 0 <= value <= 100:
            raise RuleError(
                f"The {THRESHOLD_LABELS[name]} must be between 0 and 100, got {value}.", field=f"thresholds.{name}"
            )
    if not 0 <= t.borderline_band <= 20:
        raise RuleError(
            f"The borderline band must be between 0 and 20 points, got {t.borderline_band}.",
            field="thresholds.borderline_band",
        )
    for name in ("sql_smb", "sql_mid_market", "sql_enterprise"):
        if getattr(t, name) < t.mql:
            raise RuleError(
                f"The {THRESHOLD_LABELS[name]} ({getattr(t, name)}) is below the MQL cut-off ({t.mql}).",
                field=f"thresholds.{name}",
            )
    if t.warm_from > t.hot_above:
        raise RuleError("Warm must start at or below the hot threshold.", field="thresholds.warm_from")


def validate_condition(condition: Condition) -> None:
    if condition.field not in ATTRIBUTE_FIELDS:
        known = ", ".join(sorted(ATTRIBUTE_FIELDS))
        raise RuleError(f"Unknown field '{condition.field}'. Rules can use: {known}.", field="field")
    kind = ATTRIBUTE_FIELDS[condition.field]
    if condition.op not in OPERATORS_BY_KIND[kind]:
        allowed = ", ".join(sorted(OPERATORS_BY_KIND[kind]))
        raise RuleError(
            f"'{condition.op}' cannot be used on {condition.field}; use one of: {allowed}.", field="operator"
        )
    value = condition.value
    if condition.op in ("is_empty", "is_not_empty", "is_true", "is_false"):
        return
    if condition.op in ("in", "not_in"):
        if not isinstance(value, list | tuple) or not value or not all(isinstance(v, str) and v for v in value):
            raise RuleError(f"'{condition.op}' needs a non-empty list of values.", field="value")
        return
    if condition.op == "between":
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise RuleError("'between' needs a minimum and a maximum.", field="value", index=len(value or ()))
        low, high = (_number(v, condition.field, index) for index, v in enumerate(value))
        if low > high:
            raise RuleError(
                f"The range for {condition.field} has its minimum ({_fmt(low)}) above its maximum ({_fmt(high)}).",
                field="value",
            )
        return
    if kind == "number":
        _number(value, condition.field, None)
    elif not isinstance(value, str) or not value:
        raise RuleError(f"'{condition.op}' on {condition.field} needs a value.", field="value")


def _number(value, field_name: str, index: int | None) -> float:
    message = f"{field_name} is compared with numbers; '{value}' is not a number."
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RuleError(message, field="value", index=index) from None
    if math.isnan(number) or math.isinf(number):
        raise RuleError(message, field="value", index=index)
    return number


RULE_NAME_MAX_LENGTH = 120


def validate_rule(rule: Rule, *, event_kinds: frozenset[str]) -> None:
    if not rule.name.strip():
        raise RuleError("Every rule needs a name.", field="name")
    if len(rule.name) > RULE_NAME_MAX_LENGTH:
        raise RuleError(
            f"A rule name can be at most {RULE_NAME_MAX_LENGTH} characters; this one has {len(rule.name)}.",
            field="name",
        )
    if not isinstance(rule, DisqualifyRule | FastTrackRule) and rule.pillar not in PILLARS:
        raise RuleError(f"'{rule.pillar}' is not a pillar; use one of: {', '.join(PILLARS)}.", field="pillar")
    if isinstance(rule, AttributeRule | DisqualifyRule):
        validate_condition(rule.condition)
    if isinstance(rule, AttributeRule | IntentRule | InactivityRule | BehaviourRule) and not -100 <= rule.points <= 100:
        raise RuleError(f"{rule.name}: points must be between -100 and 100.", field="points")
    if isinstance(rule, BehaviourRule | FastTrackRule):
        if rule.event_kind not in event_kinds:
            raise RuleError(
                f"Unknown event kind '{rule.event_kind}'. Known kinds: {', '.join(sorted(event_kinds))}.",
                field="event_kind",
            )
        if bool(rule.property_name) != bool(rule.property_value):
            raise RuleError(
                f"{rule.name}: an event property filter needs both the property and its value.",
                field="property_value" if rule.property_name else "property_name",
            )
    if isinstance(rule, BehaviourRule):
        if rule.half_life_days is not None and rule.half_life_days <= 0:
            raise RuleError(
                f"{rule.name}: the half-life must be a positive number of days, got {rule.half_life_days}.",
                field="half_life_days",
            )
        if not 0 < rule.cap <= 100:
            raise RuleError(f"{rule.name}: the cap must be between 1 and 100 points.", field="cap")
        if rule.min_count < 1:
            raise RuleError(f"{rule.name}: the minimum count must be at least 1.", field="min_count")
    if isinstance(rule, FastTrackRule) and not 1 <= rule.within_days <= 365:
        raise RuleError(
            f"{rule.name}: a hand-raiser signal counts for 1 to 365 days, got {rule.within_days}.",
            field="within_days",
        )
    if isinstance(rule, IntentRule):
        if not 0 <= rule.min_surge <= 100:
            raise RuleError(f"{rule.name}: the surge score must be between 0 and 100.", field="min_surge")
        if rule.within_days < 1:
            raise RuleError(f"{rule.name}: 'seen within' must be at least 1 day.", field="within_days")
    if isinstance(rule, InactivityRule) and rule.days < 1:
        raise RuleError(f"{rule.name}: inactivity needs at least 1 day.", field="days")


# --- aggregates: how one event or signal changes what the rules read -------------------------------------------


def event_matches(rule: BehaviourRule, *, kind: str, properties: Mapping[str, object]) -> bool:
    if kind != rule.event_kind:
        return False
    if not rule.property_name:
        return True
    return str(properties.get(rule.property_name, "")).lower().startswith(rule.property_value.lower())


def signal_matches(rule: IntentRule, *, topic: str, surge_score: int) -> bool:
    if surge_score < rule.min_surge:
        return False
    return not rule.topics or topic.lower() in {t.lower() for t in rule.topics}
