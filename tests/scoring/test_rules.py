"""The pure scoring engine, table-driven, no database."""

import datetime as dt

import pytest

from scoring import rules as engine
from scoring.rules import (
    AttributeRule,
    BehaviourAggregate,
    BehaviourRule,
    Condition,
    DisqualifyRule,
    Facts,
    InactivityRule,
    IntentRule,
    Model,
    RuleError,
    Thresholds,
)

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
WEIGHTS = {"fit": 0.4, "engagement": 0.3, "intent": 0.2, "buying": 0.1}
EVENT_KINDS = frozenset({"page_view", "demo_request", "email_open"})


def score(rules, attributes=None, **facts):
    return engine.score_lead(Facts(attributes=attributes or {}, **facts), Model(WEIGHTS, Thresholds(), rules), now=NOW)


@pytest.mark.parametrize(
    ("condition", "attributes", "holds"),
    [
        (Condition("account.annual_revenue", "between", [1e7, 1e9]), {"account.annual_revenue": 1e7}, True),
        (Condition("account.annual_revenue", "between", [1e7, 1e9]), {"account.annual_revenue": 9.99e6}, False),
        (Condition("account.annual_revenue", "between", [1e7, 1e9]), {}, False),  # unknown never matches a range
        (Condition("account.employees", "at_least", 50), {"account.employees": 50}, True),
        (Condition("account.employees", "at_most", 50), {"account.employees": 51}, False),
        (Condition("account.employees", "is_empty"), {"account.employees": None}, True),
        (Condition("account.industry", "in", ["Software", "Healthcare"]), {"account.industry": "software"}, True),
        (Condition("account.industry", "not_in", ["Education"]), {"account.industry": None}, True),
        (Condition("lead.title", "contains", "vp"), {"lead.title": "SVP Sales"}, True),
        (Condition("lead.title", "equals", "CEO"), {"lead.title": "ceo"}, True),
        (Condition("lead.title", "is_empty"), {"lead.title": ""}, True),
        (Condition("lead.personal_email", "is_true"), {"lead.personal_email": True}, True),
        (Condition("lead.unsubscribed", "is_false"), {"lead.unsubscribed": True}, False),
    ],
)
def test_conditions(condition, attributes, holds):
    assert engine.condition_holds(condition, attributes) is holds


def test_pillar_is_capped_at_100_and_floored_at_0():
    rules = [AttributeRule(f"a{i}", "big", "fit", Condition("lead.title", "is_empty"), 60) for i in range(3)]
    rules.append(AttributeRule("neg", "neg", "engagement", Condition("lead.title", "is_empty"), -30))
    result = score(rules, {"lead.title": ""})
    assert result.pillars == {"fit": 100, "engagement": 0, "intent": 0, "buying": 0}
    assert result.total == 40


def test_behaviour_decays_by_half_life_and_is_capped():
    rule = BehaviourRule("opens", "Opens", "engagement", "email_open", points=4, cap=10, half_life_days=30)
    as_of = (NOW - dt.timedelta(days=30)).timestamp()
    one_month_old = BehaviourAggregate(count=2, decayed=2.0)
    result = score([rule], behaviour={rule.matcher: one_month_old}, aggregates_as_of=as_of)
    assert result.contributions[0].points == pytest.approx(4.0)  # 2 opens worth 1 each after a half-life
    many = BehaviourAggregate(count=20, decayed=20.0)
    assert score([rule], behaviour={rule.matcher: many}, aggregates_as_of=NOW.timestamp()).pillars["engagement"] == 10


def test_min_count_gates_a_behaviour_rule():
    rule = BehaviourRule("pricing", "Pricing 3+", "buying", "page_view", points=9, cap=25, min_count=3)
    assert score([rule], behaviour={rule.matcher: BehaviourAggregate(count=2)}).pillars["buying"] == 0
    assert score([rule], behaviour={rule.matcher: BehaviourAggregate(count=3)}).pillars["buying"] == 25


@pytest.mark.parametrize(("days_ago", "points"), [(29, 60), (31, 0)])
def test_intent_counts_only_within_its_window(days_ago, points):
    rule = IntentRule("surge", "Surge 70+", 60, min_surge=70, within_days=30)
    seen = (NOW - dt.timedelta(days=days_ago)).timestamp()
    assert score([rule], intent_last_seen={rule.matcher: seen}).pillars["intent"] == points


@pytest.mark.parametrize(
    ("last", "points"), [(None, -20), (NOW - dt.timedelta(days=91), -20), (NOW - dt.timedelta(days=10), 0)]
)
def test_inactivity(last, points):
    rule = InactivityRule("idle", "Idle 90d", "engagement", 90, -20)
    result = score(
        [rule, AttributeRule("b", "base", "engagement", Condition("lead.title", "is_empty"), 50)],
        {"lead.title": ""},
        last_event_at=last,
    )
    assert result.pillars["engagement"] == 50 + points


def test_first_disqualifying_rule_is_the_reason():
    rules = [
        DisqualifyRule("student", "Student", Condition("lead.seniority", "equals", "student")),
        DisqualifyRule("mail", "Personal e-mail", Condition("lead.personal_email", "is_true")),
    ]
    result = score(rules, {"lead.seniority": "student", "lead.personal_email": True})
    assert result.tier == "disqualified" and result.disqualified_by == "Student"


@pytest.mark.parametrize(
    ("total", "segment", "tier"),
    [
        (49, "smb", "below_mql"),
        (50, "smb", "mql"),
        (54, "smb", "mql"),
        (55, "smb", "borderline"),
        (65, "smb", "borderline"),
        (66, "smb", "sql"),
        (69, "mid_market", "mql"),
        (70, "mid_market", "borderline"),
        (81, "mid_market", "sql"),
        (84, "enterprise", "mql"),
        (95, "enterprise", "borderline"),
        (96, "enterprise", "sql"),
    ],
)
def test_tiers_follow_the_segment_cut_offs_and_the_borderline_band(total, segment, tier):
    assert engine.tier_for(total=total, segment=segment, disqualified=False, thresholds=Thresholds()) == tier


@pytest.mark.parametrize(("total", "temperature"), [(81, "hot"), (80, "warm"), (50, "warm"), (49, "cold")])
def test_temperature(total, temperature):
    assert engine.temperature_for(total, Thresholds()) == temperature


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (AttributeRule("x", "", "fit", Condition("lead.title", "equals", "CEO"), 5), "needs a name"),
        (AttributeRule("x", "X", "luck", Condition("lead.title", "equals", "CEO"), 5), "not a pillar"),
        (AttributeRule("x", "X", "fit", Condition("lead.title", "between", [1, 2]), 5), "cannot be used"),
        (AttributeRule("x", "X", "fit", Condition("account.employees", "between", [10, 1]), 5), "minimum"),
        (AttributeRule("x", "X", "fit", Condition("account.employees", "at_least", "many"), 5), "not a number"),
        (AttributeRule("x", "X", "fit", Condition("lead.title", "in", []), 5), "non-empty list"),
        (AttributeRule("x", "X", "fit", Condition("lead.title", "equals", "CEO"), 500), "between -100 and 100"),
        (BehaviourRule("x", "X", "engagement", "telepathy", 5, 10), "Unknown event kind"),
        (BehaviourRule("x", "X", "engagement", "page_view", 5, 10, half_life_days=0), "positive"),
        (BehaviourRule("x", "X", "engagement", "page_view", 5, 0), "cap"),
        (BehaviourRule("x", "X", "engagement", "page_view", 5, 10, property_name="path"), "both"),
        (IntentRule("x", "X", 10, min_surge=120, within_days=30), "surge"),
        (InactivityRule("x", "X", "engagement", 0, -5), "at least 1 day"),
    ],
)
def test_invalid_rules_are_refused_with_a_reason(rule, message):
    with pytest.raises(RuleError, match=message):
        engine.validate_rule(rule, event_kinds=EVENT_KINDS)


def test_weights_must_sum_to_one_and_stay_in_their_ranges():
    engine.validate_weights(WEIGHTS)
    with pytest.raises(RuleError, match="add up to 100%"):
        engine.validate_weights({**WEIGHTS, "buying": 0.2})
    with pytest.raises(RuleError, match="Intent weight"):
        engine.validate_weights({"fit": 0.5, "engagement": 0.4, "intent": 0.0, "buying": 0.1})


def test_decay_folded_event_by_event_equals_the_closed_form():
    events = [NOW - dt.timedelta(days=d) for d in (40, 12, 3)]
    decayed, as_of = 0.0, 0.0
    for at in events:
        decayed, as_of = engine.decay_add_event(
            decayed=decayed, as_of=as_of, event_at=at.timestamp(), half_life_days=30
        )
    closed_form = sum(2 ** (-((events[-1] - at).total_seconds() / 86400) / 30) for at in events)
    assert decayed == pytest.approx(closed_form, rel=1e-12)
    assert as_of == events[-1].timestamp()
