"""Re-scoring: the set-based path stores what the engine computes, stages move, events re-score their lead."""

import datetime as dt

import pytest
import time_machine

from leadops.models import Lead, StageTransition
from leadops.rules import Stage
from scoring import rules as engine
from scoring.facts import engine_model, facts_for_leads
from scoring.models import BorderlineReview, RescoreChunk
from scoring.services import aggregates, runs, scores
from tests.factories import AccountFactory, LeadFactory

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]
NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def _hot_lead(**kwargs):
    account = AccountFactory(industry="Software", employees=800, annual_revenue=200_000_000)
    return LeadFactory(
        account=account,
        seniority="vp",
        department="sales",
        email=kwargs.pop("email", None) or f"{kwargs.pop('name', 'hot')}@{account.domain}",
        **kwargs,
    )


def _events(lead, *kinds, days_ago=1, **properties):
    return [
        {"lead_id": lead.pk, "kind": kind, "occurred_at": NOW - dt.timedelta(days=days_ago), "properties": properties}
        for kind in kinds
    ]


def test_full_rescore_stores_exactly_what_the_engine_computes(active_version):
    leads = [_hot_lead(name=f"h{i}") for i in range(3)] + [LeadFactory(email=f"c{i}@gmail.com") for i in range(3)]
    aggregates.events_record(
        events=_events(
            leads[0],
            "demo_request",
            "pricing_page_visit",
            "pricing_page_visit",
            "pricing_page_visit",
            "webinar_attended",
        )
        + _events(leads[3], "email_open", days_ago=40)
    )
    run = runs.rescore_run_start(version=active_version, reason="manual", chunk_size=2)
    for chunk_id in run.chunks.values_list("pk", flat=True):
        runs.rescore_chunk_process(chunk_id=chunk_id)
    run.refresh_from_db()
    assert run.finished_at is not None
    model = engine_model(active_version)
    facts = facts_for_leads([lead.pk for lead in leads])
    for lead in Lead.objects.filter(pk__in=[lead.pk for lead in leads]):
        expected = engine.score_lead(facts[lead.pk], model, now=run.as_of)
        assert (lead.score_fit, lead.score_engagement, lead.score_intent, lead.score_buying) == tuple(
            expected.pillars[p] for p in engine.PILLARS
        )
        assert (lead.score_total, lead.score_tier, lead.temperature) == (
            expected.total,
            expected.tier,
            expected.temperature,
        )
        assert lead.score_version == active_version and lead.scored_at == run.as_of


def test_a_chunk_runs_once_even_when_sent_twice(active_version):
    LeadFactory.create_batch(3)
    run = runs.rescore_run_start(version=active_version, reason="manual")
    chunk_id = run.chunks.get().pk
    assert runs.rescore_chunk_process(chunk_id=chunk_id).scored == 3
    assert runs.rescore_chunk_process(chunk_id=chunk_id) is None
    assert RescoreChunk.objects.get(pk=chunk_id).status == "done"


def test_a_crashed_chunk_is_handed_out_again_and_gives_the_same_scores(active_version):
    lead = _hot_lead()
    run = runs.rescore_run_start(version=active_version, reason="manual")
    chunk = run.chunks.get()
    RescoreChunk.objects.filter(pk=chunk.pk).update(status="running", claimed_at=NOW - dt.timedelta(hours=2))
    assert runs.rescore_run_resume(run=run) == [chunk.pk]
    runs.rescore_chunk_process(chunk_id=chunk.pk)
    first = Lead.objects.values("score_total", "scored_at").get(pk=lead.pk)
    RescoreChunk.objects.filter(pk=chunk.pk).update(status="pending")
    runs.rescore_chunk_process(chunk_id=chunk.pk)
    assert Lead.objects.values("score_total", "scored_at").get(pk=lead.pk) == first


def test_stage_moves_follow_the_thresholds(active_version, django_capture_on_commit_callbacks):
    hot = _hot_lead(stage=Stage.LEAD)
    cold = LeadFactory(stage=Stage.NEW, title="Analyst", account=AccountFactory(industry="Retail", employees=10))
    student = LeadFactory(stage=Stage.NEW, title="MBA Student", seniority="student")
    aggregates.events_record(
        events=_events(
            hot,
            "demo_request",
            "rfp_submitted",
            "trial_started",
            "competitor_comparison_download",
            "webinar_attended",
            "webinar_attended",
            "content_download",
            "content_download",
            "content_download",
        )
    )
    from tests.factories import IntentSignalFactory

    IntentSignalFactory(account=hot.account)  # stored; folded below through the service
    aggregates.signals_record(
        signals=[
            {
                "account_id": hot.account_id,
                "topic": "lead scoring",
                "surge_score": 85,
                "source": "Bombora",
                "observed_at": NOW - dt.timedelta(days=2),
            }
        ]
    )
    received = []
    scores.leads_became_sql.connect(lambda sender, lead_ids, **kw: received.extend(lead_ids), weak=False)
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        result = scores.leads_rescore(lead_ids=[hot.pk, cold.pk, student.pk], version=active_version)
    hot.refresh_from_db(), cold.refresh_from_db(), student.refresh_from_db()
    expected = engine.score_lead(facts_for_leads([hot.pk])[hot.pk], engine_model(active_version), now=NOW)
    # Fit, intent and buying capped at 100; engagement 2 webinars (30) + 3 downloads (30), a day old: 59.
    # 0.4 x 100 + 0.3 x 59 + 0.2 x 100 + 0.1 x 100 = 87.7 -> 88, a Mid-Market SQL (cut-off 75, band to 80).
    assert dict(expected.pillars) == {"fit": 100, "engagement": 59, "intent": 100, "buying": 100}
    assert (hot.score_total, hot.score_tier) == (88, "sql")
    assert hot.stage == Stage.SQL
    assert cold.stage == Stage.LEAD and cold.score_tier == "below_mql"
    assert student.stage == Stage.DISQUALIFIED
    reason = StageTransition.objects.get(lead=student).reason
    assert reason == "Disqualified by rule: Student"
    assert received == [hot.pk]  # the routing hook heard of the new SQL
    assert not BorderlineReview.objects.filter(lead=hot).exists()
    assert result.scored == 3


def test_borderline_lead_goes_to_review_not_to_sql(active_version):
    lead = _hot_lead(stage=Stage.MQL)
    model = engine_model(active_version)
    cutoff = model.thresholds.sql_cutoff(lead.account.segment)
    Lead.objects.filter(pk=lead.pk).update(
        score_version=active_version, score_tier="borderline", score_total=cutoff + 2
    )
    from django.db.models import Q

    scores.apply_stage_moves(version=active_version, model=model, leads=Q(pk=lead.pk), now=NOW)
    scores.apply_stage_moves(version=active_version, model=model, leads=Q(pk=lead.pk), now=NOW)
    lead.refresh_from_db()
    assert lead.stage == Stage.MQL
    assert BorderlineReview.objects.filter(lead=lead, status="open").count() == 1


def test_events_fold_into_aggregates_with_decay(active_version):
    lead = _hot_lead()
    aggregates.events_record(events=_events(lead, "email_open", days_ago=30) + _events(lead, "email_open", days_ago=0))
    aggregate = lead.aggregate
    rule = next(r for r in engine_model(active_version).rules if getattr(r, "event_kind", "") == "email_open")
    count, decayed, _ = aggregate.behaviour[rule.matcher]
    assert count == 2
    assert decayed == pytest.approx(1.5, abs=1e-6)  # one fresh open + one 30 days old at a 30-day half-life
    assert aggregate.last_event_at == NOW


def test_rebuild_from_stored_events_gives_the_same_aggregates(active_version):
    lead = _hot_lead()
    aggregates.events_record(
        events=_events(lead, "email_open", "demo_request", days_ago=3)
        + _events(lead, "page_view", days_ago=10, path="/product/scoring")
    )
    before = lead.aggregate.behaviour
    behaviour_rules, intent_rules = aggregates.rules_in_play()
    aggregates.aggregates_rebuild(lead_ids=[lead.pk], behaviour_rules=behaviour_rules, intent_rules=intent_rules)
    lead.aggregate.refresh_from_db()
    assert lead.aggregate.behaviour == before


def test_rebuild_gives_the_same_intent_as_ingestion(active_version):
    lead = _hot_lead()
    colleague = LeadFactory(account=lead.account, email=f"colleague@{lead.account.domain}")
    outsider = LeadFactory()
    aggregates.signals_record(
        signals=[
            {
                "account_id": lead.account_id,
                "topic": "crm",
                "surge_score": 75,
                "source": "Bombora",
                "observed_at": NOW - dt.timedelta(days=5),
            },
            {
                "account_id": lead.account_id,
                "lead_id": lead.pk,
                "topic": "lead scoring",
                "surge_score": 90,
                "source": "G2",
                "observed_at": NOW - dt.timedelta(days=1),
            },
        ]
    )
    ids = [lead.pk, colleague.pk, outsider.pk]
    before = {a.lead_id: a.intent for a in aggregates.LeadAggregate.objects.filter(lead_id__in=ids)}
    assert before[lead.pk] != before[colleague.pk]  # the lead-level signal is the lead's alone
    behaviour_rules, intent_rules = aggregates.rules_in_play()
    aggregates.aggregates_rebuild(lead_ids=ids, behaviour_rules=behaviour_rules, intent_rules=intent_rules)
    after = {a.lead_id: a.intent for a in aggregates.LeadAggregate.objects.filter(lead_id__in=ids)}
    assert after[lead.pk] == before[lead.pk] and after[colleague.pk] == before[colleague.pk]
    assert after[outsider.pk] == {}
