"""Property: the set-based evaluator (database expressions) and the pure engine give the same scores.

Rules take their values from the same pools as the leads (so equals / in / between really match), weights sit
near their bounds, and the thresholds are drawn around the totals the leads actually score, so that scores land
exactly on a cut-off, on the edges of the borderline band and on the temperature boundaries. The last tests break
the compiler on purpose and check that the comparison notices.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadops.models import Account, Lead
from scoring import compiler
from scoring import rules as engine
from scoring.compiler import ScoringStatement, scored_queryset
from scoring.facts import facts_for_leads
from scoring.models import LeadAggregate, ScoringModelVersion, VersionStatus

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
NOW_TS = NOW.timestamp()
EVENT_KINDS = ["page_view", "pricing_page_visit", "demo_request", "email_click", "webinar_attended"]
TEXT_VALUES = {
    "lead.title": ["VP Sales", "CEO", "Student", "engineer", ""],
    "lead.seniority": ["vp", "c_level", "student", "individual", "unknown"],
    "lead.department": ["sales", "it", "other"],
    "lead.country": ["Germany", "germany", "United States", "Zürich", "ZÜRICH", ""],
    "lead.source": ["web", "webinar", "referral"],
    "lead.email_domain": ["acme.example", "gmail.com", "rival.example"],
    "account.name": ["Acme", "Rival Inc", ""],
    "account.domain": ["acme.example", "rival.example"],
    "account.industry": ["Software", "Retail", "Education", "énergie", "ÉNERGIE", "Énergie", ""],
    "account.country": ["Germany", "France", "Österreich", ""],
    "account.region": ["EMEA", "APAC", ""],
    "account.segment": ["smb", "mid_market", "enterprise"],
}
NUMBER_VALUES = [0, 49, 50, 100, 999, 1000, 10000, 1e7, 5e7, 1e9]

keys = iter(range(10**9))


def _condition():
    text = st.sampled_from(sorted(TEXT_VALUES)).flatmap(
        lambda field: st.one_of(
            st.tuples(
                st.just(field),
                st.sampled_from(["equals", "not_equals", "contains"]),
                st.sampled_from(TEXT_VALUES[field] or ["x"]).filter(bool),
            ),
            st.tuples(
                st.just(field),
                st.sampled_from(["in", "not_in"]),
                st.lists(st.sampled_from([v for v in TEXT_VALUES[field] if v]), min_size=1, max_size=3),
            ),
            st.tuples(st.just(field), st.sampled_from(["is_empty", "is_not_empty"]), st.none()),
        )
    )
    number = st.sampled_from(["account.employees", "account.annual_revenue"]).flatmap(
        lambda field: st.one_of(
            st.tuples(
                st.just(field),
                st.sampled_from(["equals", "not_equals", "at_least", "at_most"]),
                st.sampled_from(NUMBER_VALUES),
            ),
            st.tuples(
                st.just(field),
                st.just("between"),
                st.lists(st.sampled_from(NUMBER_VALUES), min_size=2, max_size=2).map(sorted),
            ),
            st.tuples(st.just(field), st.sampled_from(["is_empty", "is_not_empty"]), st.none()),
        )
    )
    boolean = st.tuples(
        st.sampled_from(["lead.personal_email", "lead.email_consent", "lead.unsubscribed"]),
        st.sampled_from(["is_true", "is_false"]),
        st.none(),
    )
    return st.one_of(text, number, boolean).map(lambda t: engine.Condition(*t))


pillars = st.sampled_from(engine.PILLARS)
points = st.integers(-40, 60).map(float) | st.sampled_from([12.5, 7.25, -3.5])

attribute_rules = st.builds(
    lambda c, p, pts: engine.AttributeRule(f"r{next(keys)}", "attr", p, c, pts), _condition(), pillars, points
)
behaviour_rules = st.builds(
    lambda kind, p, pts, cap, half, minc, prop: engine.BehaviourRule(
        f"r{next(keys)}", "beh", p, kind, pts, cap, half, minc, *(("path", "/pricing") if prop else ("", ""))
    ),
    st.sampled_from(EVENT_KINDS),
    pillars,
    points,
    st.sampled_from([10.0, 25.0, 50.0, 100.0]),
    st.sampled_from([None, 7.0, 30.0, 90.5]),
    st.integers(1, 4),
    st.booleans(),
)
intent_rules = st.builds(
    lambda pts, surge, within, topics: engine.IntentRule(f"r{next(keys)}", "int", pts, surge, within, topics),
    points,
    st.sampled_from([0, 50, 70, 90]),
    st.sampled_from([7, 30, 90]),
    st.sampled_from([(), ("crm",), ("crm", "Sales Automation")]),
)
inactivity_rules = st.builds(
    lambda p, days, pts: engine.InactivityRule(f"r{next(keys)}", "idle", p, days, pts),
    pillars,
    st.sampled_from([14, 60, 180]),
    st.integers(-30, 0).map(float),
)
disqualify_rules = st.builds(lambda c: engine.DisqualifyRule(f"r{next(keys)}", "dq", c), _condition())
fast_track_rules = st.builds(
    lambda kind, within, prop: engine.FastTrackRule(
        f"r{next(keys)}", f"ft {kind}", kind, within, *(("path", "/pricing") if prop else ("", ""))
    ),
    st.sampled_from(EVENT_KINDS),
    st.sampled_from([7, 30, 90]),
    st.booleans(),
)


@st.composite
def weights_near_bounds(draw):
    """Four weights within their ranges summing to 1, often on the ends of a range."""
    while True:
        fit = draw(st.sampled_from([0.30, 0.35, 0.40, 0.45, 0.50]))
        engagement = draw(st.sampled_from([0.20, 0.25, 0.30, 0.35, 0.40]))
        intent = draw(st.sampled_from([0.10, 0.15, 0.20, 0.25, 0.30]))
        buying = round(1 - fit - engagement - intent, 2)
        if 0.10 <= buying <= 0.30:
            return {"fit": fit, "engagement": engagement, "intent": intent, "buying": buying}


@st.composite
def models(draw):
    rules = draw(
        st.lists(
            st.one_of(
                attribute_rules, behaviour_rules, intent_rules, inactivity_rules, disqualify_rules, fast_track_rules
            ),
            min_size=1,
            max_size=12,
        )
    )
    return engine.Model(weights=draw(weights_near_bounds()), thresholds=engine.Thresholds(), rules=rules)


def thresholds_around(data, results) -> engine.Thresholds:
    """Valid thresholds drawn around the totals and fits these leads score (which thresholds do not change)."""
    band = data.draw(st.integers(0, 8), label="band")
    totals = [r.total for r in results]
    pool = sorted(
        {v for t in totals for v in (t, t - band, t + band, t - band - 1, t + band + 1) if 0 <= v <= 100} | {0, 100}
    )
    cut_offs = sorted(data.draw(st.lists(st.sampled_from(pool), min_size=4, max_size=4), label="cut-offs"))
    sql = data.draw(st.permutations(cut_offs[1:]), label="sql by segment")
    warm, hot = sorted(data.draw(st.lists(st.sampled_from(pool), min_size=2, max_size=2), label="temperature"))
    fits = sorted({r.pillars["fit"] for r in results} | {0, 40, 100})
    floor = data.draw(st.sampled_from(fits), label="fast-track floor")
    thresholds = engine.Thresholds(
        mql=cut_offs[0],
        sql_smb=sql[0],
        sql_mid_market=sql[1],
        sql_enterprise=sql[2],
        hot_above=hot,
        warm_from=warm,
        borderline_band=band,
        fast_track_fit_floor=floor,
    )
    engine.validate_thresholds(thresholds)
    return thresholds


lead_rows = st.lists(
    st.fixed_dictionaries(
        {
            "title": st.sampled_from(TEXT_VALUES["lead.title"]),
            "seniority": st.sampled_from(TEXT_VALUES["lead.seniority"]),
            "country": st.sampled_from(TEXT_VALUES["lead.country"]),
            "domain": st.sampled_from(TEXT_VALUES["lead.email_domain"]),
            "consent": st.booleans(),
            "unsubscribed": st.booleans(),
            "account": st.one_of(
                st.none(),
                st.fixed_dictionaries(
                    {
                        "industry": st.sampled_from(TEXT_VALUES["account.industry"]),
                        "country": st.sampled_from(TEXT_VALUES["account.country"]),
                        "region": st.sampled_from(TEXT_VALUES["account.region"]),
                        "employees": st.sampled_from([None, 10, 50, 250, 999, 1000, 20000]),
                        "revenue": st.sampled_from([None, 0, 10_000_000, 50_000_000, 999_999_999.99, 2_000_000_000]),
                    }
                ),
            ),
            "counts": st.lists(st.integers(0, 6), min_size=8, max_size=8),
            "decayed": st.lists(st.floats(0, 8, allow_nan=False).map(lambda x: round(x, 6)), min_size=8, max_size=8),
            "age_days": st.floats(0, 400, allow_nan=False) | st.sampled_from([7.0, 30.0, 90.0]),
            "idle_days": st.one_of(st.none(), st.floats(0, 365, allow_nan=False)),
            "seen_days": st.lists(st.one_of(st.none(), st.floats(0, 120, allow_nan=False)), min_size=6, max_size=6),
        }
    ),
    min_size=1,
    max_size=10,
)


def _store(rows, model):
    matchers = sorted({r.matcher for r in model.rules if isinstance(r, engine.BehaviourRule | engine.FastTrackRule)})
    intents = sorted({r.matcher for r in model.rules if isinstance(r, engine.IntentRule)})
    ids = []
    for i, row in enumerate(rows):
        account = None
        if row["account"] is not None:
            a = row["account"]
            account = Account.objects.create(
                name=f"Co {i}",
                domain=f"co{i}.example",
                industry=a["industry"],
                country=a["country"],
                region=a["region"],
                employees=a["employees"],
                annual_revenue=None if a["revenue"] is None else Decimal(str(a["revenue"])),
            )
        lead = Lead.objects.create(
            email=f"p{i}@{row['domain']}",
            title=row["title"],
            seniority=row["seniority"],
            country=row["country"],
            email_consent=row["consent"],
            unsubscribed_at=NOW if row["unsubscribed"] else None,
            account=account,
            created_at=NOW,
            stage_changed_at=NOW,
        )
        as_of = NOW_TS - row["age_days"] * 86400
        LeadAggregate.objects.create(
            lead=lead,
            as_of=as_of,
            behaviour={m: [row["counts"][j % 8], row["decayed"][j % 8], as_of] for j, m in enumerate(matchers)},
            intent={
                m: NOW_TS - row["seen_days"][j % 6] * 86400
                for j, m in enumerate(intents)
                if row["seen_days"][j % 6] is not None
            },
            last_event_at=None if row["idle_days"] is None else NOW - dt.timedelta(days=row["idle_days"]),
        )
        ids.append(lead.pk)
    return ids


ORM_COLUMNS = ["s_fit", "s_engagement", "s_intent", "s_buying", "s_total", "s_tier", "s_temperature", "s_fast_track"]


def _expected_row(result: engine.ScoreResult) -> tuple:
    pillars = [result.pillars[p] for p in engine.PILLARS]
    return (*pillars, result.total, result.tier, result.temperature, result.fast_track)


def orm_mismatches(model, ids, facts) -> list:
    """Leads whose scored_queryset values (the impact preview's evaluator) differ from the engine's."""
    got = {
        row[0]: (*(int(v) for v in row[1:6]), *row[6:9], row[9])
        for row in scored_queryset(model, now=NOW, leads=Lead.objects.filter(pk__in=ids)).values_list(
            "pk", *ORM_COLUMNS, "s_disqualified_by"
        )
    }
    mismatches = []
    for lead_id in ids:
        result = engine.score_lead(facts[lead_id], model, now=NOW)
        expected = (*_expected_row(result), result.disqualified_by)
        if got[lead_id] != expected:
            mismatches.append((lead_id, got[lead_id], expected))
    return mismatches


STORED = [
    "score_fit",
    "score_engagement",
    "score_intent",
    "score_buying",
    "score_total",
    "score_tier",
    "temperature",
    "score_fast_track",
]


def stored_mismatches(model, ids, facts, *, by_ids: bool) -> list:
    """Leads whose scores written by the re-scoring statement differ from the engine's."""
    version_id = ScoringModelVersion.objects.get(status=VersionStatus.ACTIVE).pk
    statement = ScoringStatement.for_model(model, by_ids=by_ids)
    if by_ids:
        scored = ids[::2]
        written = statement.execute(now=NOW, version_id=version_id, ids=scored)
    else:
        scored = ids
        written = statement.execute(now=NOW, version_id=version_id, lo=min(ids), hi=max(ids) + 1)
    assert written == len(scored)
    stored = {row[0]: row[1:] for row in Lead.objects.filter(pk__in=ids).values_list("pk", *STORED)}
    mismatches = []
    for lead_id in ids:
        if lead_id not in scored:
            assert stored[lead_id][4] is None  # the statement wrote only the leads it was given
            continue
        expected = _expected_row(engine.score_lead(facts[lead_id], model, now=NOW))
        if stored[lead_id] != expected:
            mismatches.append((lead_id, stored[lead_id], expected))
    return mismatches


def _with_thresholds_around_the_scores(data, model, facts, ids) -> engine.Model:
    results = [engine.score_lead(facts[i], model, now=NOW) for i in ids]
    return engine.Model(weights=model.weights, thresholds=thresholds_around(data, results), rules=model.rules)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.large_base_example],
)
@given(model=models(), rows=lead_rows, data=st.data())
def test_set_based_and_per_lead_evaluators_agree(model, rows, data):
    with transaction.atomic():
        ids = _store(rows, model)
        facts = facts_for_leads(ids)
        model = _with_thresholds_around_the_scores(data, model, facts, ids)
        assert orm_mismatches(model, ids, facts) == [], model
        transaction.set_rollback(True)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.large_base_example],
)
@given(model=models(), rows=lead_rows, by_ids=st.booleans(), data=st.data())
def test_the_stored_scores_of_both_rescore_paths_match_the_engine(model, rows, by_ids, data):
    """The statement that writes scores (compiled once per model, reference time and leads filled in per run) stores
    what the engine computes, for a list of ids (events arrived) and an id range (full re-score)."""
    with transaction.atomic():
        ids = _store(rows, model)
        facts = facts_for_leads(ids)
        model = _with_thresholds_around_the_scores(data, model, facts, ids)
        assert stored_mismatches(model, ids, facts, by_ids=by_ids) == [], model
        transaction.set_rollback(True)


# --- the mutation check: a broken compiler must be noticed ------------------------------------------------------
#
# A small world with scores exactly on the boundaries, computed by hand:
#   ann: fit 50 (VP) + engagement 60 (3 demo requests x 20) -> 0.4 x 50 + 0.3 x 60 = 38, SMB
#   ben: fit 50 (VP)                                          -> 0.4 x 50 = 20, Enterprise, demo request today
#   cat: fit 25                                               -> 0.4 x 25 = 10, Mid-Market
#   dan: like ann                                             -> 38, Mid-Market: an MQL under the Mid-Market
#        cut-off 60, an SQL under the Enterprise cut-off 30 (so swapping the two shows)
# Thresholds: MQL 20 (ben exactly on it), SMB SQL 33 with band 5 (ann exactly on its upper edge 38), hot above
# 37 (ann at 38 is hot; at 37 she would not be), warm from 10 (cat exactly on it), fast-track floor 50 (ben's fit
# exactly on it).

BOUNDARY_MODEL = engine.Model(
    weights={"fit": 0.4, "engagement": 0.3, "intent": 0.2, "buying": 0.1},
    thresholds=engine.Thresholds(
        mql=20,
        sql_smb=33,
        sql_mid_market=60,
        sql_enterprise=30,
        hot_above=37,
        warm_from=10,
        borderline_band=5,
        fast_track_fit_floor=50,
    ),
    rules=[
        engine.AttributeRule("vp", "VP", "fit", engine.Condition("lead.seniority", "equals", "vp"), 50),
        engine.AttributeRule("mgr", "Manager", "fit", engine.Condition("lead.seniority", "equals", "manager"), 25),
        engine.BehaviourRule("demo", "Demo requests", "engagement", "email_click", 20, 60),
        engine.FastTrackRule("ft", "Demo request", "demo_request", 30),
    ],
)


def _boundary_world():
    def lead(name, seniority, employees, behaviour):
        account = Account.objects.create(name=name, domain=f"{name}.example", employees=employees)
        lead = Lead.objects.create(
            email=f"{name}@{name}.example",
            seniority=seniority,
            account=account,
            created_at=NOW,
            stage_changed_at=NOW,
        )
        LeadAggregate.objects.create(lead=lead, as_of=NOW_TS, behaviour=behaviour)
        return lead.pk

    clicks, demo = BOUNDARY_MODEL.rules[2].matcher, BOUNDARY_MODEL.rules[3].matcher
    ids = [
        lead("ann", "vp", 20, {clicks: [3, 0.0, NOW_TS]}),
        lead("ben", "vp", 5000, {demo: [1, 0.0, NOW_TS]}),
        lead("cat", "manager", 300, {}),
        lead("dan", "vp", 300, {clicks: [3, 0.0, NOW_TS]}),
    ]
    return ids, facts_for_leads(ids)


def test_the_boundary_world_scores_what_was_computed_by_hand():
    with transaction.atomic():
        ids, facts = _boundary_world()
        results = [engine.score_lead(facts[i], BOUNDARY_MODEL, now=NOW) for i in ids]
        assert [(r.total, r.tier, r.temperature, r.fast_track) for r in results] == [
            (38, "borderline", "hot", ""),
            (20, "sql", "warm", "Demo request"),
            (10, "below_mql", "warm", ""),
            (38, "mql", "hot", ""),
        ]
        assert orm_mismatches(BOUNDARY_MODEL, ids, facts) == []
        assert stored_mismatches(BOUNDARY_MODEL, ids, facts, by_ids=False) == []
        transaction.set_rollback(True)


def _swap_enterprise_and_mid_market(thresholds, segment):
    swapped = {"enterprise": "mid_market", "mid_market": "enterprise"}.get(segment, segment)
    return engine.tier_steps(thresholds, swapped)


MUTATIONS = {
    # ">=" read as ">": the MQL cut-off, warm and the fast-track floor no longer include their boundary.
    "gte becomes gt": lambda mp: (
        mp.setitem(compiler.SQL_OPERATORS, "gte", ">"),
        mp.setitem(compiler.ORM_LOOKUPS, "gte", "gt"),
    ),
    # "<=" read as "<" on the upper edge of the borderline band.
    "lte becomes lt": lambda mp: (
        mp.setitem(compiler.SQL_OPERATORS, "lte", "<"),
        mp.setitem(compiler.ORM_LOOKUPS, "lte", "lt"),
    ),
    # The Enterprise and Mid-Market cut-offs swapped.
    "swapped cut-offs": lambda mp: mp.setattr(compiler, "tier_steps_for", _swap_enterprise_and_mid_market),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_the_equivalence_check_notices_a_broken_compiler(monkeypatch, mutation):
    MUTATIONS[mutation](monkeypatch)
    monkeypatch.setattr(ScoringStatement, "_cache", {})  # compile afresh with the broken translation
    with transaction.atomic():
        ids, facts = _boundary_world()
        assert orm_mismatches(BOUNDARY_MODEL, ids, facts) != []
        assert stored_mismatches(BOUNDARY_MODEL, ids, facts, by_ids=False) != []
        transaction.set_rollback(True)


def test_contributions_add_up_to_the_pillars():
    model = engine.Model(
        weights={"fit": 0.4, "engagement": 0.3, "intent": 0.2, "buying": 0.1},
        thresholds=engine.Thresholds(),
        rules=[
            engine.AttributeRule(
                "rev", "Revenue $10M-$1B", "fit", engine.Condition("account.annual_revenue", "between", [1e7, 1e9]), 25
            ),
            engine.AttributeRule(
                "vp", "VP or above", "fit", engine.Condition("lead.seniority", "in", ["vp", "c_level"]), 20
            ),
            engine.BehaviourRule("demo", "Demo request", "buying", "demo_request", 50, 50),
        ],
    )
    facts = engine.Facts(
        attributes={"account.annual_revenue": 5e7, "lead.seniority": "vp", "account.segment": "mid_market"},
        behaviour={model.rules[2].matcher: engine.BehaviourAggregate(count=1, decayed=1.0)},
    )
    result = engine.score_lead(facts, model, now=NOW)
    assert result.pillars == {"fit": 45, "engagement": 0, "intent": 0, "buying": 50}
    assert result.total == round(0.4 * 45 + 0.1 * 50)
    assert sum(c.points for c in result.contributions if c.pillar == "fit") == 45
