"""Text rules compare the same in the engine and in stored scores, on SQLite and PostgreSQL, whatever the locale.

A PostgreSQL cluster in the C locale and SQLite lower-case ASCII only; Python lower-cases every letter. A rule on
"énergie" must match an account in "ÉNERGIE" in both places, or the lead page would say "being refreshed" for ever.
"""

import datetime as dt

import pytest
from django.urls import reverse

from leadops.models import Lead
from scoring import rules as engine
from scoring.compiler import ScoringStatement
from scoring.facts import facts_for_leads
from tests.factories import AccountFactory, LeadFactory

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)

MODEL = engine.Model(
    weights={"fit": 0.4, "engagement": 0.3, "intent": 0.2, "buying": 0.1},
    thresholds=engine.Thresholds(),
    rules=[
        engine.AttributeRule("energy", "Energy", "fit", engine.Condition("account.industry", "equals", "énergie"), 50),
        engine.AttributeRule("zurich", "Zürich", "fit", engine.Condition("account.country", "in", ["ZÜRICH"]), 25),
        engine.AttributeRule("ae", "Æ title", "fit", engine.Condition("lead.title", "contains", "ÆRØ"), 25),
    ],
)


@pytest.mark.parametrize(
    ("industry", "country", "title", "fit"),
    [
        ("ÉNERGIE", "zürich", "Head of ærø operations", 100),  # 50 + 25 + 25
        ("Énergie", "Zürich", "", 75),
        ("energie", "Zurich", "Aero", 0),  # without the accents it is another word
    ],
)
def test_accented_text_matches_the_same_in_the_engine_and_in_stored_scores(
    active_version, industry, country, title, fit
):
    account = AccountFactory(industry=industry, country=country)
    lead = LeadFactory(account=account, title=title, email=f"x@{account.domain}")

    ScoringStatement.for_model(MODEL, by_ids=True).execute(now=NOW, version_id=active_version.pk, ids=[lead.pk])

    assert engine.score_lead(facts_for_leads([lead.pk])[lead.pk], MODEL, now=NOW).pillars["fit"] == fit
    assert Lead.objects.get(pk=lead.pk).score_fit == fit


def test_the_lead_page_agrees_with_a_stored_score_on_accented_text(client, active_version, marketer):
    from scoring.models import ScoringRule
    from scoring.services import scores

    ScoringRule.objects.create(
        version=active_version,
        position=99,
        key="fit-energy",
        name="Energy sector",
        kind="attribute",
        pillar="fit",
        points=30,
        field="account.industry",
        operator="equals",
        value="énergie",
    )
    account = AccountFactory(industry="ÉNERGIE", employees=None)
    lead = LeadFactory(account=account, title="", email=f"y@{account.domain}", seniority="unknown")
    scores.leads_rescore(lead_ids=[lead.pk], version=active_version, now=NOW)
    client.force_login(marketer)

    page = client.get(reverse("lead_detail", args=[lead.pk])).content.decode()

    assert Lead.objects.get(pk=lead.pk).score_fit == 30
    assert "Energy sector" in page
    assert 'data-testid="score-refreshing"' not in page
