"""The impact preview's figures on a small world whose answers are worked out by hand.

Version under review (weights 0.4 / 0.3 / 0.2 / 0.1): "VP" gives fit 100, "Software" gives engagement 100, a
demo request within 30 days fast-tracks a lead whose fit is at least 40. Thresholds: MQL 35, SMB SQL cut-off 50
with a band of 5 (so 45-55 is borderline), hot above 60, warm from 35. Every account has 10 employees: SMB.

lead   seniority  industry  total              new tier    stored (old)     stage  outcome  stage move
ann    vp         Software  40 + 30 = 70       sql         52, mql          mql    won      mql -> sql
ben    vp         Retail    40                 mql         20, below_mql    lead   lost     lead -> mql
cal    manager    Software  30                 below_mql   20, below_mql    new    won      new -> lead
dee    manager    Retail    0                  below_mql   unscored         new    lost     new -> lead
eve    vp         Retail    40, demo today     sql (fast)  unscored         new    -        new -> mql -> sql

Histogram (10-point bands): new 0-9: dee; 30-39: cal; 40-49: ben, eve; 70-79: ann.
                            old 20-29: ben, cal; 50-59: ann (unscored leads are not drawn).
Tier changes: mql -> sql (ann), below_mql -> mql (ben), unscored -> below_mql (dee), unscored -> sql (eve).
Outcomes: closed 4 (ann, ben, cal, dee), won 2 (ann, cal); SQL by this version among them: ann -> true positive 1.
precision 1/1 = 100%, recall 1/2 = 50%, base rate 2/4 = 50%, lift 1.0 / 0.5 = 2.0.
"""

import datetime as dt

import pytest

from leadops.models import Opportunity
from scoring.models import LeadAggregate, ScoringModelVersion, ScoringRule
from scoring.services.preview import impact_preview_compute
from tests.factories import AccountFactory, LeadFactory, OpportunityFactory

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def version(default_model, marketer):
    version = ScoringModelVersion.objects.create(
        model=default_model,
        number=99,
        author=marketer,
        mql_cutoff=35,
        sql_cutoff_smb=50,
        borderline_band=5,
        hot_above=60,
        warm_from=35,
        fast_track_fit_floor=40,
    )
    rules = [
        dict(kind="attribute", pillar="fit", points=100, field="lead.seniority", operator="equals", value="vp"),
        dict(
            kind="attribute",
            pillar="engagement",
            points=100,
            field="account.industry",
            operator="equals",
            value="Software",
        ),
        dict(kind="fast_track", name="Demo request", event_kind="demo_request", within_days=30),
    ]
    for i, rule in enumerate(rules):
        ScoringRule.objects.create(version=version, position=i, key=f"r{i}", name=rule.pop("name", f"rule {i}"), **rule)
    return version


def _lead(name, seniority, industry, *, stage, stored=None, outcome=None):
    account = AccountFactory(industry=industry, employees=10, name=name.title())
    score_total, tier = stored or (None, "")
    lead = LeadFactory(
        email=f"{name}@{account.domain}",
        account=account,
        seniority=seniority,
        stage=stage,
        score_total=score_total,
        score_tier=tier,
    )
    if outcome:
        OpportunityFactory(lead=lead, account=account, stage=outcome, closed_at=NOW)
    return lead


@pytest.fixture
def world(version):
    won, lost = Opportunity.Stage.WON, Opportunity.Stage.LOST
    _lead("ann", "vp", "Software", stage="mql", stored=(52, "mql"), outcome=won)
    _lead("ben", "vp", "Retail", stage="lead", stored=(20, "below_mql"), outcome=lost)
    _lead("cal", "manager", "Software", stage="new", stored=(20, "below_mql"), outcome=won)
    _lead("dee", "manager", "Retail", stage="new", outcome=lost)
    eve = _lead("eve", "vp", "Retail", stage="new")
    demo = ScoringRule.objects.get(version=version, kind="fast_track").as_engine_rule()
    LeadAggregate.objects.create(lead=eve, as_of=NOW.timestamp(), behaviour={demo.matcher: [1, 0.0, NOW.timestamp()]})


def test_the_preview_counts_what_was_worked_out_by_hand(version, world):
    results = impact_preview_compute(version=version, now=NOW).results

    assert results["leads"] == 5
    assert results["histogram"]["new"] == [1, 0, 0, 1, 2, 0, 0, 1, 0, 0]
    assert results["histogram"]["old"] == [0, 0, 2, 0, 0, 1, 0, 0, 0, 0]
    assert sorted((row["from"], row["to"], row["leads"]) for row in results["tier_changes"]) == [
        ("below_mql", "mql", 1),
        ("mql", "sql", 1),
        ("unscored", "below_mql", 1),
        ("unscored", "sql", 1),
    ]
    assert results["tier_changed"] == 4
    assert results["stage_changes"] == {
        "to_lead": 2,
        "to_mql": 2,
        "to_sql": 2,
        "to_review": 0,
        "to_disqualified": 0,
        "to_nurture": 0,
    }
    assert (results["fast_tracked"], results["fast_tracked_to_sql"]) == (1, 1)
    assert results["outcomes"] == {
        "closed_leads": 4,
        "won": 2,
        "predicted_sql": 1,
        "true_positive": 1,
        "base_rate": 0.5,
        "precision": 1.0,
        "recall": 0.5,
        "lift": 2.0,
    }


def test_a_lead_on_the_edge_of_the_band_is_a_review_not_an_sql(version, world):
    # Lowering the SMB cut-off to 65 puts ann (70) exactly on the upper edge of the band (65 + 5).
    version.sql_cutoff_smb = 65
    version.save()

    results = impact_preview_compute(version=version, now=NOW).results

    # ann (70 = 65 + 5) is borderline now, not an SQL: the one SQL left is eve, fast-tracked, with no outcome.
    assert results["stage_changes"]["to_review"] == 1
    assert results["stage_changes"]["to_sql"] == 1
    assert results["outcomes"]["predicted_sql"] == 0
    assert results["outcomes"]["precision"] is None
