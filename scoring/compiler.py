"""The set-based evaluator: a scoring model compiled into database expressions over leads and their aggregates.

Same semantics as scoring.rules.score_lead (see its docstring), the same floating-point operations in the same
order, so both give the same numbers; tests/scoring/test_equivalence.py proves it on random rules and leads.
Rules are data: every value reaches the database as a query parameter, never as SQL text.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    DateTimeField,
    F,
    FloatField,
    Q,
    Value,
    When,
)
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast, Coalesce, Floor, Greatest, Least, Power, StrIndex, Substr

from leadops.db import Deferred, DeferredValue, Fold
from leadops.models import Lead
from leadops.rules import PERSONAL_EMAIL_DOMAINS
from scoring import rules as engine


def _at_time(now: datetime | None, compute, output_field):
    """`compute(reference time)` as an expression: its value when the time is known, a DeferredValue when not."""
    if now is None:
        return DeferredValue(lambda context: compute(context["now"]), output_field)
    return Value(compute(now), output_field=output_field)


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

    Fold lower-cases as Python does on every database, so 'ÉNERGIE', 'énergie' and a rule on either compare the
    same in the engine and in the stored scores.
    """
    if field == "lead.email_domain":
        return Fold(_email_domain())
    if field == "account.segment":
        return Coalesce(F("account__segment"), Value("smb"))
    return Fold(Coalesce(_TEXT_SOURCES[field], Value("")))


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


def _fast_track_signal(rule: engine.FastTrackRule, aliases: dict, now: datetime | None) -> Q:
    """Holds when engine.fast_track_signal_seen finds the rule's signal within its window."""
    count_alias, seen_alias = "_count_" + rule.matcher, "_seen_" + rule.matcher
    aliases[count_alias] = Coalesce(_agg_number("behaviour", rule.matcher, 0), Value(0.0))
    aliases[seen_alias] = _agg_number("behaviour", rule.matcher, 2)
    window_start = _at_time(now, lambda at: engine.fast_track_window_start(rule, at.timestamp()), FloatField())
    return Q(**{f"{count_alias}__gte": 1.0, f"{seen_alias}__gte": window_start})


def _rule_expression(rule: engine.Rule, aliases: dict, now: datetime | None):
    if isinstance(rule, engine.AttributeRule):
        return Case(When(condition_q(rule.condition, aliases), then=Value(float(rule.points))), default=Value(0.0))
    if isinstance(rule, engine.BehaviourRule):
        count = Coalesce(_agg_number("behaviour", rule.matcher, 0), Value(0.0))
        if rule.half_life_days:
            decayed = Coalesce(_agg_number("behaviour", rule.matcher, 1), Value(0.0))
            # 2 ** (-(((now - as_of) / 86400) / half_life)), exactly as engine.decay_factor computes it.
            as_of = Coalesce(F("aggregate__as_of"), Value(0.0))
            now_ts = _at_time(now, lambda at: at.timestamp(), FloatField())
            exponent = -(((now_ts - as_of) / Value(86400.0)) / Value(float(rule.half_life_days)))
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
        window_start = _at_time(now, lambda at: engine.intent_window_start(rule, at.timestamp()), FloatField())
        return Case(When(Q(**{f"{alias}__gte": window_start}), then=Value(float(rule.points))), default=Value(0.0))
    if isinstance(rule, engine.InactivityRule):
        cutoff = _at_time(now, lambda at: engine.inactivity_cutoff(rule, at), DateTimeField())
        inactive = Q(aggregate__last_event_at__isnull=True) | Q(aggregate__last_event_at__lt=cutoff)
        return Case(When(inactive, then=Value(float(rule.points))), default=Value(0.0))
    raise TypeError(rule)


def scored_queryset(model: engine.Model, *, now: datetime | None, leads=None, with_total: bool = True):
    """Leads annotated with what score_lead would compute at `now`.

    Columns: `s_fit`, `s_engagement`, `s_intent`, `s_buying` (whole numbers 0..100), `s_disqualified_by` (the
    first disqualifying rule's name, '' if none), `s_segment`, and with `with_total` `s_total`. The full re-score
    computes the total one level up instead, so the pillar expressions are not repeated inside it. With `now`
    None the reference time is a deferred parameter (see `ScoringStatement`).
    """
    aliases: dict[str, object] = {"_email_domain_lower": Fold(_email_domain())}
    sums: dict[str, object] = {p: Value(0.0) for p in engine.PILLARS}
    disqualifiers: list[When] = []
    signals: list[When] = []
    for rule in model.rules:
        if isinstance(rule, engine.DisqualifyRule):
            disqualifiers.append(When(condition_q(rule.condition, aliases), then=Value(rule.name)))
            continue
        if isinstance(rule, engine.FastTrackRule):
            signals.append(When(_fast_track_signal(rule, aliases, now), then=Value(rule.name)))
            continue
        sums[rule.pillar] = sums[rule.pillar] + _rule_expression(rule, aliases, now)
    leads = (leads if leads is not None else Lead.objects.all()).alias(**aliases)
    leads = leads.annotate(
        **{f"s_{p}": Floor(Least(Value(100.0), Greatest(Value(0.0), sums[p])) + Value(0.5)) for p in engine.PILLARS},
        s_disqualified_by=_first_name(disqualifiers),
        s_fast_track_signal=_first_name(signals),
        s_segment=Coalesce(F("account__segment"), Value("smb")),
    )
    if with_total:
        leads = leads.annotate(s_total=Floor(weighted_total(model, lambda p: F(f"s_{p}")) + Value(0.5)))
        fast_track_q = Q(s_disqualified_by="") & ~Q(s_fast_track_signal="")
        for comparison in engine.fast_track_tests(model.thresholds):
            fast_track_q &= comparison_q(comparison, ORM_QUANTITIES)
        leads = leads.annotate(
            s_fast_track=Case(When(fast_track_q, then=F("s_fast_track_signal")), default=Value(""))
        ).annotate(
            s_tier=tier_expression(model.thresholds, segment="s_segment"),
            s_temperature=steps_expression(engine.temperature_steps(model.thresholds)),
        )
    return leads


def _first_name(whens: list[When]):
    if not whens:
        return Value("", output_field=CharField())
    return Case(*whens, default=Value(""), output_field=CharField())


# --- the engine's threshold steps (scoring.rules.tier_steps, ...) as SQL and as ORM expressions --------------------

# How each comparison of a step reads in SQL and as an ORM lookup; kept as tables so the mutation check in
# tests/scoring/test_equivalence.py can break one on purpose and see the equivalence test fail.
SQL_OPERATORS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
ORM_LOOKUPS = {"gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte"}
# The annotations of scored_queryset each quantity of a step reads, and how a flag reads.
ORM_QUANTITIES = {
    "total": "s_total",
    "fit": "s_fit",
    "disqualified": ~Q(s_disqualified_by=""),
    "fast_tracked": ~Q(s_fast_track=""),
}


def comparison_q(comparison: engine.Comparison, quantities: dict) -> Q:
    source = quantities[comparison.quantity]
    if comparison.op == "is_true":
        return source
    return Q(**{f"{source}__{ORM_LOOKUPS[comparison.op]}": comparison.value})


def comparison_sql(comparison: engine.Comparison, columns: dict) -> tuple[str, list]:
    source = columns[comparison.quantity]
    if comparison.op == "is_true":
        return source, []
    return f"{source} {SQL_OPERATORS[comparison.op]} %s", [comparison.value]


def tier_steps_for(thresholds: engine.Thresholds, segment: str):
    return engine.tier_steps(thresholds, segment)


def _segments_with_fallback() -> list[str | None]:
    # Each known segment has its steps; anything else (None) takes the steps of an unknown segment, as the engine.
    return [*engine.SEGMENTS, None]


def steps_expression(steps):
    whens = []
    for outcome, comparisons in steps:
        if not comparisons:
            return Case(*whens, default=Value(outcome), output_field=CharField()) if whens else Value(outcome)
        q = Q()
        for comparison in comparisons:
            q &= comparison_q(comparison, ORM_QUANTITIES)
        whens.append(When(q, then=Value(outcome)))
    raise ValueError("the last step must have no comparisons")


def tier_expression(thresholds: engine.Thresholds, *, segment: str):
    """engine.tier_for as an ORM expression over scored_queryset's annotations (the impact preview reads it)."""
    whens = []
    for name in _segments_with_fallback():
        steps = steps_expression(tier_steps_for(thresholds, name or ""))
        if name is None:
            return Case(*whens, default=steps, output_field=CharField())
        whens.append(When(Q(**{segment: name}), then=steps))
    raise AssertionError("unreachable")


def steps_sql(steps, columns: dict) -> tuple[str, list]:
    parts, params = ["CASE"], []
    for outcome, comparisons in steps:
        if not comparisons:
            parts.append("ELSE %s END")
            params.append(outcome)
            return "(" + " ".join(parts) + ")", params
        tests = []
        for comparison in comparisons:
            sql, test_params = comparison_sql(comparison, columns)
            tests.append(sql)
            params.extend(test_params)
        parts.append(f"WHEN {' AND '.join(tests)} THEN %s")
        params.append(outcome)
    raise ValueError("the last step must have no comparisons")


def tier_sql(thresholds: engine.Thresholds, *, columns: dict, segment: str) -> tuple[str, list]:
    """engine.tier_for as SQL over already computed columns, with its parameters."""
    parts, params = ["(CASE"], []
    for name in _segments_with_fallback():
        sql, step_params = steps_sql(tier_steps_for(thresholds, name or ""), columns)
        if name is None:
            parts.append(f"ELSE {sql} END)")
            params.extend(step_params)
            return " ".join(parts), params
        parts.append(f"WHEN {segment} = %s THEN {sql}")
        params.extend([name, *step_params])
    raise AssertionError("unreachable")


def fast_track_sql(thresholds: engine.Thresholds, *, columns: dict, signal: str) -> tuple[str, list]:
    """The fast-track rule that applies ('' when none), as engine.score_lead decides it."""
    tests, params = [f"{columns['disqualified_by']} = ''", f"{signal} <> ''"], []
    for comparison in engine.fast_track_tests(thresholds):
        sql, test_params = comparison_sql(comparison, columns)
        tests.append(sql)
        params.extend(test_params)
    return f"(CASE WHEN {' AND '.join(tests)} THEN {signal} ELSE '' END)", params


class ScoringStatement:
    """The UPDATE that computes and writes the scores of a set of leads, compiled once per scoring model.

    The leads are an id range (`lo` <= id < `hi`, the full re-score's chunks) or a list of ids (the incremental
    path). Compiling a model's expressions costs tens of milliseconds, more than the database takes to score a few
    hundred leads, and the incremental path scores small batches many times a second; so the SQL is built once,
    with the run's values (reference time, leads, version) as deferred parameters, and kept per model.
    """

    _cache: dict[tuple, ScoringStatement] = {}
    CACHE_SIZE = 32

    def __init__(self, model: engine.Model, *, by_ids: bool):
        if by_ids:
            leads = Lead.objects.filter(pk__any_of=Deferred(lambda context: context["ids"]))
        else:
            leads = Lead.objects.filter(
                pk__gte=DeferredValue(lambda context: context["lo"], BigIntegerField()),
                pk__lt=DeferredValue(lambda context: context["hi"], BigIntegerField()),
            )
        inner = scored_queryset(model, now=None, leads=leads, with_total=False)
        columns = [
            "s_id",
            "s_fit",
            "s_engagement",
            "s_intent",
            "s_buying",
            "s_disqualified_by",
            "s_fast_track_signal",
            "s_segment",
        ]
        inner = inner.annotate(s_id=F("pk")).values_list(*columns)
        inner_sql, inner_params = inner.query.get_compiler(connection=connection).as_sql()
        weights = [float(model.weights[p]) for p in engine.PILLARS]
        # The weighted sum in engine.weighted_total's order: 0.0 + w1 * p1 + w2 * p2 ..., rounded half up.
        total = "0.0"
        for p in engine.PILLARS:
            total = f"({total} + %s * i.s_{p})"
        total = f"FLOOR({total} + 0.5)"
        fast_track, fast_track_params = fast_track_sql(
            model.thresholds,
            columns={"disqualified_by": "i.s_disqualified_by", "fit": "i.s_fit"},
            signal="i.s_fast_track_signal",
        )
        outer = {
            "total": "s.total",
            "fit": "s.s_fit",
            "disqualified": "s.s_disqualified_by <> ''",
            "fast_tracked": "s.fast_track <> ''",
        }
        tier, tier_params = tier_sql(model.thresholds, columns=outer, segment="s.s_segment")
        temperature, temperature_params = steps_sql(engine.temperature_steps(model.thresholds), outer)
        table = Lead._meta.db_table
        self.sql = (
            f"UPDATE {table} SET score_fit = s.s_fit, score_engagement = s.s_engagement, "
            f"score_intent = s.s_intent, score_buying = s.s_buying, score_total = s.total, score_tier = {tier}, "
            f"temperature = {temperature}, score_fast_track = s.fast_track, scored_at = %s, score_version_id = %s "
            f"FROM (SELECT i.*, {total} AS total, {fast_track} AS fast_track FROM ({inner_sql}) i) s "
            f"WHERE {table}.id = s.s_id"
        )
        self.params = [
            *tier_params,
            *temperature_params,
            Deferred(lambda context: context["now"]),
            Deferred(lambda context: context["version_id"]),
            *weights,
            *fast_track_params,
            *inner_params,
        ]

    @classmethod
    def for_model(cls, model: engine.Model, *, by_ids: bool) -> ScoringStatement:
        # The model's repr spells out every weight, threshold and rule: equal reprs compile to the same SQL.
        key = (connection.alias, connection.vendor, by_ids, repr(model))
        statement = cls._cache.get(key)
        if statement is None:
            if len(cls._cache) >= cls.CACHE_SIZE:
                cls._cache.clear()
            statement = cls._cache[key] = cls(model, by_ids=by_ids)
        return statement

    def execute(self, *, now: datetime, version_id: int, ids=None, lo: int | None = None, hi: int | None = None):
        """Score and write the leads; returns how many rows were written."""
        context = {"now": now, "version_id": version_id, "ids": ids, "lo": lo, "hi": hi}
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql" and connection.in_atomic_block:
                # JIT-compiling the statement's few dozen expressions costs more than it saves: a 50,000-lead chunk
                # ran about 15% faster without it (EXPLAIN ANALYZE on the benchmark's data).
                cursor.execute("SET LOCAL jit = off")
            cursor.execute(self.sql, Deferred.with_context(self.params, context))
            return cursor.rowcount


def weighted_total(model: engine.Model, pillar):
    total = Value(0.0)
    for p in engine.PILLARS:
        total = total + Value(float(model.weights[p])) * pillar(p)
    return total


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"
