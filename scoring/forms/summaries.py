"""A rule in words, as marketing and the approving manager read it on the pages and in the API."""

from __future__ import annotations

from scoring.forms.common import OPERATOR_LABELS, plain_number
from scoring.models import RuleKind, ScoringRule


def rule_summary(rule: ScoringRule) -> str:
    """A rule in words, as marketing and the approving manager read it."""
    if rule.kind in (RuleKind.ATTRIBUTE, RuleKind.DISQUALIFY):
        condition = rule.as_engine_rule().condition
        source = condition.field.split(".")[0]
        try:
            return f"{source}'s {condition.describe()}"
        except (TypeError, ValueError):  # a value that does not fit its operator: still show what is stored
            return f"{source}'s {condition.field} {OPERATOR_LABELS.get(condition.op, condition.op)} {condition.value}"
    if rule.kind == RuleKind.BEHAVIOUR:
        text = f"each {rule.event_kind.replace('_', ' ')}"
        if rule.property_name:
            text += f" with {rule.property_name} starting “{rule.property_value}”"
        if rule.min_count > 1:
            text += f", counted from the {_ordinal(rule.min_count)}"
        text += f"; at most {plain_number(rule.cap if rule.cap is not None else 100.0)} points"
        if rule.half_life_days:
            text += f"; half-life {plain_number(rule.half_life_days)} days"
        else:
            text += "; no decay"
        return text
    if rule.kind == RuleKind.INTENT:
        topics = ", ".join(rule.topics) if rule.topics else "any topic"
        return f"intent surge of {rule.min_surge}+ on {topics}, seen within {rule.within_days} days"
    if rule.kind == RuleKind.INACTIVITY:
        return f"no activity at all for {rule.days} days"
    if rule.kind == RuleKind.FAST_TRACK:
        text = f"a {rule.event_kind.replace('_', ' ')}"
        if rule.property_name:
            text += f" with {rule.property_name} starting “{rule.property_value}”"
        return (
            f"{text} in the last {rule.within_days} days makes the lead an SQL at once, "
            "unless it is disqualified or its fit is below the fast-track floor"
        )
    return rule.kind


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
