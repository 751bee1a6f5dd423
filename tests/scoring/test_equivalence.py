"""Property: the set-based evaluator (database expressions) and the pure engine give the same scores."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadops.models import Account, Lead
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
    "lead.country": ["Germany", "germany", "United States", ""],
    "lead.source": ["web", "webinar", "referral"],
    "lead.email_domain": ["acme.example", "gmail.com", "rival.example"],
    "account.name": ["Acme", "Rival Inc", ""],
    "account.domain": ["acme.example", "rival.example"],
    "account.industry": ["Software", "Retail", "Education", ""],
    "account.country": ["Germany", "France", ""],
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


@st.composite
def models(draw):
    rules = draw(
        st.lists(
            st.one_of(attribute_rules, behaviour_rules, intent_rules, inactivity_rules, disqualify_rules),
            min_size=1,
            max_size=12,
        )
    )
    weights = draw(
        st.sampled_from(
            [
                {"fit": 0.4, "engagement": 0.3, "intent": 0.2, "buying": 0.1},
                {"fit": 0.3, "engagement": 0.3, "intent": 0.2, "buying": 0.2},
                {"fit": 0.45, "engagement": 0.25, "intent": 0.15, "buying": 0.15},
            ]
        )
    )
    return engine.Model(weights=weights, thresholds=engine.Thresholds(), rules=rules)


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
            "age_days": st.floats(0, 400, allow_nan=False),
            "idle_days": st.one_of(st.none(), st.floats(0, 365, allow_nan=False)),
            "seen_days": st.lists(st.one_of(st.none(), st.floats(0, 120, allow_nan=False)), min_size=6, max_size=6),
        }
    ),
    min_size=1,
    max_size=10,
)


def _store(rows, model):
    matchers = sorted({r.matcher for r in model.rules if isinstance(r, engine.BehaviourRule)})
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


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(model=models(), rows=lead_rows)
def test_set_based_and_per_lead_evaluators_agree(model, rows):
    with transaction.atomic():
        ids = _store(rows, model)
        facts = facts_for_leads(ids)
        compiled = {
            row["pk"]: row
            for row in scored_queryset(model, now=NOW, leads=Lead.objects.filter(pk__in=ids)).values(
                "pk", "s_fit", "s_engagement", "s_intent", "s_buying", "s_total", "s_disqualified_by", "s_segment"
            )
        }
        for lead_id in ids:
            expected = engine.score_lead(facts[lead_id], model, now=NOW)
            got = compiled[lead_id]
            assert {p: int(got[f"s_{p}"]) for p in engine.PILLARS} == dict(expected.pillars), (lead_id, model)
            assert int(got["s_total"]) == expected.total
            assert got["s_disqualified_by"] == expected.disqualified_by
            assert got["s_segment"] == facts[lead_id].attributes["account.segment"]
        transaction.set_rollback(True)


STORED = ["score_fit", "score_engagement", "score_intent", "score_buying", "score_total", "score_tier", "temperature"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(model=models(), rows=lead_rows, by_ids=st.booleans())
def test_the_stored_scores_of_both_rescore_paths_match_the_engine(model, rows, by_ids):
    """The statement that writes scores (compiled once per model, reference time and leads filled in per run) stores
    what the engine computes, for a list of ids (events arrived) and an id range (full re-score)."""
    version_id = ScoringModelVersion.objects.get(status=VersionStatus.ACTIVE).pk
    with transaction.atomic():
        ids = _store(rows, model)
        facts = facts_for_leads(ids)
        statement = ScoringStatement.for_model(model, by_ids=by_ids)
        if by_ids:
            written = statement.execute(now=NOW, version_id=version_id, ids=ids[::2])
            scored = ids[::2]
        else:
            written = statement.execute(now=NOW, version_id=version_id, lo=min(ids), hi=max(ids) + 1)
            scored = ids
        assert written == len(scored)
        stored = {row[0]: row[1:] for row in Lead.objects.filter(pk__in=ids).values_list("pk", *STORED)}
        for lead_id in ids:
            if lead_id not in scored:
                assert stored[lead_id][4] is None  # the statement wrote only the leads it was given
                continue
            expected = engine.score_lead(facts[lead_id], model, now=NOW)
            pillars = [expected.pillars[p] for p in engine.PILLARS]
            assert stored[lead_id] == (*pillars, expected.total, expected.tier, expected.temperature), lead_id
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
