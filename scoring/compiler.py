"""The set-based evaluator: a scoring model compiled into database expressions over leads and their aggregates.

Same semantics as scoring.rules.score_lead (see its docstring), the same floating-point operations in the same
order, so both give the same numbers; tests/scoring/test_equivalence.py proves it on random rules and leads.
Rules are data: every value reaches the database as a query parameter, never as SQL text.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    F,
    FloatField,
    Q,
    Value,
    When,
)
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast, Coalesce, Floor, Greatest, Least, Lower, Power, StrIndex, Substr

from leadops.models import Lead
from leadops.rules import PERSONAL_EMAIL_DOMAINS
from scoring import rules as engine

# Where each attribute a rule may read lives, as an expression over Lead.
_TEXT_SOURCES = {
    "lead.title": F("title"),
    "lead.seniority": F("seniority"),
    "lead.department": F("department"),
    "lead.country": F("country"),
    "lead.source": F("source"),
    "account.name": F("account__name"),
    "account.domain": F("account__domain"),
    "account.industry": F("account__industry"),
    "account.country": F("account__country"),
    "account.region": F("account__region"),
}
_NUMBER_SOURCES = {"account.employees": F("account__employees"), "account.annual_revenue": F("account__annual_revenue")}


def _email_domain():
    return Substr("email", StrIndex("email", Value("@")) + 1)


def _text(field: str):
    """Lower-cased text of an attribute, '' when missing (the engine treats missing text as empty).

    LOWER follows the database: SQLite and a PostgreSQL cluster in the C locale lower-case ASCII only, while Python
    lower-cases every letter. Rule values and lead data in ASCII compare the same everywhere; for accented
    capitals run PostgreSQL with a UTF-8 locale (the property test uses ASCII).
    """
    if field == "lead.email_domain":
        return Lower(_email_domain())
    if field == "account.segment":
        return Coalesce(F("account__segment"), Value("smb"))
    return Lower(Coalesce(_TEXT_SOURCES[field], Value("")))


def _bool_q(field: str) -> Q:
    if field == "lead.personal_email":
        return Q(_email_domain_lower__in=sorted(PERSONAL_EMAIL_DOMAINS))
    if field == "lead.email_consent":
        return Q(email_consent=True)
    if field == "lead.unsubscribed":
        return Q(unsubscribed_at__isnull=False)
    raise ValueError(field)


def condition_q(condition: engine.Condition, aliases: dict[str, object]) -> Q:
    """A Q over aliased attribute expressions that holds exactly when engine.condition_holds does."""
    kind = engine.ATTRIBUTE_FIELDS[condition.field]
    op, value = condition.op, condition.value
    if kind == "bool":
        q = _bool_q(condition.field)
        return q if op == "is_true" else ~q
    alias = _alias_name(condition.field)
    if alias not in aliases:
        aliases[alias] = (
            _text(condition.field) if kind == "text" else Cast(_NUMBER_SOURCES[condition.field], FloatField())
        )
    if kind == "number":
        if op == "is_empty":
            return Q(**{f"{alias}__isnull": True})
        if op == "is_not_empty":
            return Q(**{f"{alias}__isnull": False})
        present = Q(**{f"{alias}__isnull": False})
        if op == "equals":
            return present & Q(**{alias: float(value)})
        if op == "not_equals":
            return present & ~Q(**{alias: float(value)})
        if op == "at_least":
            return present & Q(**{f"{alias}__gte": float(value)})
        if op == "at_most":
            return present & Q(**{f"{alias}__lte": float(value)})
        if op == "between":
            low, high = value
            return present & Q(**{f"{alias}__gte": float(low), f"{alias}__lte": float(high)})
        raise ValueError(op)
    if op == "is_empty":
        return Q(**{alias: ""})
    if op == "is_not_empty":
        return ~Q(**{alias: ""})
    if op == "equals":
        return Q(**{alias: str(value).lower()})
    if op == "not_equals":
        return ~Q(**{alias: str(value).lower()})
    if op == "in":
        return Q(**{f"{alias}__in": sorted({str(v).lower() for v in value})})
    if op == "not_in":
        return ~Q(**{f"{alias}__in": sorted({str(v).lower() for v in value})})
    if op == "contains":
        return Q(**{f"{alias}__contains": str(value).lower()})
    raise ValueError(op)


def _alias_name(field: str) -> str:
    return "attr_" + field.replace(".", "_")


def _agg_number(json_field: str, key: str, index: int | None = None):
    """A number kept in a LeadAggregate JSON column: intent[key], or behaviour[key][index]."""
    source = f"aggregate__{json_field}"
    if index is None:
        return Cast(KeyTextTransform(key, source), FloatField())
    return Cast(KeyTextTransform(str(index), KeyTransform(key, source)), FloatField())


def _rule_expression(rule: engine.Rule, aliases: dict, now: datetime, now_ts: float):
    if isinstance(rule, engine.AttributeRule):
        return Case(When(condition_q(rule.condition, aliases), then=Value(float(rule.points))), default=Value(0.0))
    if isinstance(rule, engine.BehaviourRule):
        count = Coalesce(_agg_number("behaviour", rule.matcher, 0), Value(0.0))
        if rule.half_life_days:
            decayed = Coalesce(_agg_number("behaviour", rule.matcher, 1), Value(0.0))
            # 2 ** (-(((now - as_of) / 86400) / half_life)), exactly as engine.decay_factor computes it.
            as_of = Coalesce(F("aggregate__as_of"), Value(0.0))
            exponent = -(((Value(now_ts) - as_of) / Value(86400.0)) / Value(float(rule.half_life_days)))
            amount = decayed * Power(Value(2.0), exponent)
        else:
            amount = count
        raw = Value(float(rule.points)) * amount
        capped = Greatest(Value(-float(rule.cap)), Least(Value(float(rule.cap)), raw))
        count_alias = "_count_" + rule.matcher
        aliases[count_alias] = count
        return Case(When(Q(**{f"{count_alias}__gte": float(rule.min_count)}), then=capped), default=Value(0.0))
    if isinstance(rule, engine.IntentRule):
        seen = _agg_number("intent", rule.matcher)
        alias = "_seen_" + rule.matcher
        aliases[alias] = seen
        window_start = engine.intent_window_start(rule, now_ts)
        return Case(When(Q(**{f"{alias}__gte": window_start}), then=Value(float(rule.points))), default=Value(0.0))
    if isinstance(rule, engine.InactivityRule):
        cutoff = engine.inactivity_cutoff(rule, now)
        inactive = Q(aggregate__last_event_at__isnull=True) | Q(aggregate__last_event_at__lt=cutoff)
        return Case(When(inactive, then=Value(float(rule.points))), default=Value(0.0))
    raise TypeError(rule)


def scored_queryset(model: engine.Model, *, now: datetime, leads=None, with_total: bool = True):
    """Leads annotated with what score_lead would compute.

    Columns: `s_fit`, `s_engagement`, `s_intent`, `s_buying` (whole numbers 0..100), `s_disqualified_by` (the
    first disqualifying rule's name, '' if none), `s_segment`, and with `with_total` `s_total`. The full re-score
    computes the total one level up instead, so the pillar expressions are not repeated inside it.
    """
    now_ts = now.timestamp()
    aliases: dict[str, object] = {"_email_domain_lower": Lower(_email_domain())}
    sums: dict[str, object] = {p: Value(0.0) for p in engine.PILLARS}
    disqualifiers: list[When] = []
    for rule in model.rules:
        if isinstance(rule, engine.DisqualifyRule):
            disqualifiers.append(When(condition_q(rule.condition, aliases), then=Value(rule.name)))
            continue
        sums[rule.pillar] = sums[rule.pillar] + _rule_expression(rule, aliases, now, now_ts)
    leads = (leads if leads is not None else Lead.objects.all()).alias(**aliases)
    leads = leads.annotate(
        **{f"s_{p}": Floor(Least(Value(100.0), Greatest(Value(0.0), sums[p])) + Value(0.5)) for p in engine.PILLARS},
        s_disqualified_by=Case(*disqualifiers, default=Value(""), output_field=CharField())
        if disqualifiers
        else Value("", output_field=CharField()),
        s_segment=Coalesce(F("account__segment"), Value("smb")),
    )
    if with_total:
        leads = leads.annotate(s_total=Floor(weighted_total(model, lambda p: F(f"s_{p}")) + Value(0.5)))
    return leads


def weighted_total(model: engine.Model, pillar):
    total = Value(0.0)
    for p in engine.PILLARS:
        total = total + Value(float(model.weights[p])) * pillar(p)
    return total


def tier_sql(thresholds: engine.Thresholds, *, total: str, segment: str, disqualified: str) -> tuple[str, list]:
    """SQL CASE for engine.tier_for over already computed columns, with its parameters."""
    cutoff = f"(CASE {segment} WHEN 'enterprise' THEN %s WHEN 'mid_market' THEN %s ELSE %s END)"
    cutoff_params = [thresholds.sql_enterprise, thresholds.sql_mid_market, thresholds.sql_smb]
    sql = (
        f"(CASE WHEN {disqualified} THEN 'disqualified' "
        f"WHEN ABS({total} - {cutoff}) <= %s THEN 'borderline' "
        f"WHEN {total} > {cutoff} THEN 'sql' "
        f"WHEN {total} >= %s THEN 'mql' ELSE 'below_mql' END)"
    )
    params = [*cutoff_params, thresholds.borderline_band, *cutoff_params, thresholds.mql]
    return sql, params


def temperature_sql(thresholds: engine.Thresholds, *, total: str) -> tuple[str, list]:
    sql = f"(CASE WHEN {total} > %s THEN 'hot' WHEN {total} >= %s THEN 'warm' ELSE 'cold' END)"
    return sql, [thresholds.hot_above, thresholds.warm_from]


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"
