"""The background paths of scoring, through their tasks and services: the nightly decay, resuming a full re-score,
the back-fill a new matcher needs before its version can be approved, and `manage.py recompute_scores`.

Scores are worked out by hand from the default model (fit, engagement, intent, buying weighted 0.4 / 0.3 / 0.2 /
0.1, pillars and total rounded half up). The leads below are Mid-Market (100+ employees: SQL cut-off 75):

- a "plain" lead: Software (+20), 250 employees (+20), no seniority or buying department: fit 40, worth 16 points;
  with no events the inactivity rule (-20) leaves engagement at 0, so it scores 16.
- a "hot" lead: revenue $200M (+25), 800 employees (+20), Software (+20), VP (+25), sales (+10): fit 100, worth 40.

Content downloads are worth 10 points each (cap 30), e-mail clicks 4 (cap 20), both with a 30-day half-life.
"""

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from leadops.models import AuditEntry, Lead, StageTransition
from leadops.rules import Stage
from scoring import tasks
from scoring.models import ImpactPreview, LeadAggregate, RescoreChunk, RescoreRun, ScoringRule, VersionStatus
from scoring.services import aggregates, governance, pending, runs
from scoring.services.governance import GovernanceError
from tests.factories import AccountFactory, LeadEventFactory, LeadFactory

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]
NIGHT = dt.datetime(2026, 11, 20, 2, 30, tzinfo=dt.UTC)  # when beat sends the nightly decay
DAY = dt.timedelta(days=1)
INTEGRATION_PAGES = {
    "key": "eng-integration-pages",
    "name": "Integration page views",
    "kind": "behaviour",
    "pillar": "engagement",
    "event_kind": "page_view",
    "property_name": "path",
    "property_value": "/integrations",
    "points": 10,
    "cap": 40,
    "half_life_days": 30,
}
MATCHER = ScoringRule(**INTEGRATION_PAGES).as_engine_rule().matcher  # the aggregate that rule reads


def _plain_lead(**kwargs):
    return LeadFactory(account=AccountFactory(industry="Software", employees=250), **kwargs)


def _hot_lead():
    account = AccountFactory(industry="Software", employees=800, annual_revenue=200_000_000)
    return LeadFactory(account=account, seniority="vp", department="sales", email=f"vp@{account.domain}")


def _record(lead, kind, at, count=1, **properties):
    aggregates.events_record(
        events=[{"lead_id": lead.pk, "kind": kind, "occurred_at": at, "properties": properties}] * count
    )


def _scores(lead):
    return Lead.objects.values_list(
        "score_fit", "score_engagement", "score_intent", "score_buying", "score_total", "score_tier", "stage"
    ).get(pk=lead.pk)


# --- nightly decay ------------------------------------------------------------------------------------------------


def test_the_nightly_decay_lowers_the_score_of_an_event_a_half_life_old(active_version):
    clicked = NIGHT - 30 * DAY
    plain, hot = _plain_lead(), _hot_lead()
    with time_machine.travel(clicked, tick=False):
        _record(plain, "content_download", clicked)
        _record(hot, "content_download", clicked, count=3)
        _record(hot, "email_click", clicked)
        pending.pending_rescore_drain()
    # Fresh: plain 16 + 0.3 x 10 = 19 (below MQL: new -> lead); hot 40 + 0.3 x (30 + 4) = 50.2 -> 50, an MQL.
    assert _scores(plain) == (40, 10, 0, 0, 19, "below_mql", Stage.LEAD)
    assert _scores(hot) == (100, 34, 0, 0, 50, "mql", Stage.MQL)

    with time_machine.travel(NIGHT, tick=False):
        assert tasks.nightly_decay() == 1  # one chunk
    # Thirty days is one half-life: plain 10 -> 5, 16 + 1.5 = 17.5 -> 18; hot (15 + 2) = 17, 40 + 5.1 = 45.1 -> 45,
    # below the MQL cut-off: back to nurture.
    assert _scores(plain) == (40, 5, 0, 0, 18, "below_mql", Stage.LEAD)
    assert _scores(hot) == (100, 17, 0, 0, 45, "below_mql", Stage.NURTURE)
    assert Lead.objects.get(pk=hot.pk).scored_at == NIGHT
    assert list(StageTransition.objects.filter(lead=hot).values_list("to_stage", flat=True).order_by("at")) == [
        Stage.MQL,
        Stage.NURTURE,
    ]


def test_a_second_nightly_sweep_the_same_night_changes_nothing(active_version):
    hot = _hot_lead()
    with time_machine.travel(NIGHT - 30 * DAY, tick=False):
        _record(hot, "content_download", NIGHT - 30 * DAY, count=3)
        _record(hot, "email_click", NIGHT - 30 * DAY)
        pending.pending_rescore_drain()
    with time_machine.travel(NIGHT, tick=False):
        assert tasks.nightly_decay() == 1
    after_first = Lead.objects.values().get(pk=hot.pk)
    transitions, audit = StageTransition.objects.count(), AuditEntry.objects.count()
    assert after_first["stage"] == Stage.NURTURE and after_first["scored_at"] == NIGHT

    with time_machine.travel(NIGHT + dt.timedelta(minutes=15), tick=False):
        assert tasks.nightly_decay() == 0  # beat delivered the sweep twice
    assert Lead.objects.values().get(pk=hot.pk) == after_first  # same scores, same reference time
    assert (StageTransition.objects.count(), AuditEntry.objects.count()) == (transitions, audit)
    assert RescoreRun.objects.filter(reason=RescoreRun.Reason.NIGHTLY).count() == 1

    with time_machine.travel(NIGHT + DAY, tick=False):
        assert tasks.nightly_decay() == 1  # the next night decays again
    assert Lead.objects.get(pk=hot.pk).scored_at == NIGHT + DAY


def test_without_an_active_version_the_nightly_sweep_plans_nothing(active_version):
    _plain_lead()
    active_version.status = VersionStatus.RETIRED
    active_version.save(update_fields=["status"])
    with time_machine.travel(NIGHT, tick=False):
        assert tasks.nightly_decay() == 0
    assert not RescoreRun.objects.exists()


# --- resuming a full re-score -------------------------------------------------------------------------------------


def test_resuming_a_run_finishes_every_chunk_once_with_the_runs_reference_time(active_version):
    leads = [_plain_lead() for _ in range(8)]
    with time_machine.travel(NIGHT, tick=False):
        for lead in leads:
            _record(lead, "content_download", NIGHT, count=3)
        run = runs.rescore_run_start(version=active_version, reason=RescoreRun.Reason.MANUAL, chunk_size=2)
        first, dead, *waiting = list(run.chunks.order_by("lo"))
        assert runs.rescore_chunk_process(chunk_id=first.pk).scored == 2
        # A worker claimed the second chunk and died: its transaction never committed.
        RescoreChunk.objects.filter(pk=dead.pk).update(status=RescoreChunk.Status.RUNNING, claimed_at=NIGHT)
    assert len(waiting) == 2
    first.refresh_from_db()
    # An event that arrived after the first chunk was done is the queue's job; the resume must not re-score it.
    with time_machine.travel(NIGHT + dt.timedelta(hours=1), tick=False):
        _record(leads[0], "email_click", NIGHT + dt.timedelta(hours=1))

    with time_machine.travel(NIGHT + DAY, tick=False):
        assert tasks.rescore_runs_resume() == 3  # the dead worker's chunk and the two never started

    run.refresh_from_db()
    assert run.finished_at == NIGHT + DAY
    chunks = list(run.chunks.order_by("lo").values_list("status", "scored", "finished_at"))
    assert chunks[0] == ("done", 2, first.finished_at)  # not done again
    assert [c[:2] for c in chunks[1:]] == [("done", 2)] * 3
    # Scored as of the run: 3 downloads x 10 = 30 engagement (a day later they would be worth 29.3),
    # 16 + 0.3 x 30 = 25.
    for lead in leads:
        assert _scores(lead) == (40, 30, 0, 0, 25, "below_mql", Stage.LEAD)
    assert set(Lead.objects.filter(pk__in=[lead.pk for lead in leads]).values_list("scored_at", flat=True)) == {NIGHT}
    # Each lead moved once (new -> lead), in one bulk move (and one audit entry) per chunk.
    assert StageTransition.objects.filter(to_stage=Stage.LEAD).count() == 8
    assert AuditEntry.objects.filter(action="lead.transition_bulk").count() == 4

    with time_machine.travel(NIGHT + 2 * DAY, tick=False):
        assert tasks.rescore_runs_resume() == 0
    assert StageTransition.objects.count() == 8


def test_a_chunk_claimed_recently_is_left_to_its_worker(active_version):
    _plain_lead()
    with time_machine.travel(NIGHT, tick=False):
        run = runs.rescore_run_start(version=active_version, reason=RescoreRun.Reason.MANUAL)
        RescoreChunk.objects.filter(run=run).update(status=RescoreChunk.Status.RUNNING, claimed_at=NIGHT)
    with time_machine.travel(NIGHT + dt.timedelta(minutes=5), tick=False):
        assert tasks.rescore_runs_resume() == 0
    assert run.chunks.get().status == RescoreChunk.Status.RUNNING


# --- the back-fill a new matcher needs ----------------------------------------------------------------------------


def _submit(default_model, marketer, django_capture_on_commit_callbacks, rules=(INTEGRATION_PAGES,)):
    """Submit a draft of the active version with these rules added; its preparation (back-fill and preview) is
    returned to run when the test wants, as the worker would after the commit."""
    draft = governance.version_draft_create(model=default_model, by=marketer)
    for rule in rules:
        governance.rule_save(version=draft, by=marketer, data=rule)
    with django_capture_on_commit_callbacks() as callbacks:
        version = governance.version_submit(version=draft, by=marketer)
    return version, callbacks


def test_a_new_matcher_is_back_filled_from_stored_events_before_the_version_can_be_approved(
    active_version, default_model, marketer, manager, django_capture_on_commit_callbacks
):
    hot = _hot_lead()
    with time_machine.travel(NIGHT, tick=False):
        _record(hot, "page_view", NIGHT, count=4, path="/integrations/salesforce")
        pending.pending_rescore_drain()
        # Four page views: under the 5 of "repeat visits", not product pages: 40, below MQL.
        assert _scores(hot) == (100, 0, 0, 0, 40, "below_mql", Stage.LEAD)
        version, prepare = _submit(default_model, marketer, django_capture_on_commit_callbacks)
        assert version.aggregates_ready is False
        assert MATCHER not in LeadAggregate.objects.get(lead=hot).behaviour

        # Even with a preview on the page, approval waits for the back-fill (the preview would miss the views).
        ImpactPreview.objects.filter(version=version).update(status=ImpactPreview.Status.DONE)
        with pytest.raises(GovernanceError, match="impact preview"):
            governance.version_approve(version=version, by=manager)

        for callback in prepare:  # the worker: back-fill, then the preview
            callback()

    version.refresh_from_db()
    assert version.aggregates_ready is True
    assert LeadAggregate.objects.get(lead=hot).behaviour[MATCHER] == [4, 4.0, NIGHT.timestamp()]
    # 4 views x 10 = 40 engagement: 40 + 0.3 x 40 = 52, an MQL.
    results = ImpactPreview.objects.get(version=version).results
    assert results["tier_changes"] == [{"from": "below_mql", "to": "mql", "leads": 1}]
    assert results["stage_changes"]["to_mql"] == 1

    with time_machine.travel(NIGHT, tick=False), django_capture_on_commit_callbacks(execute=True):
        governance.version_approve(version=version, by=manager)
    assert _scores(hot) == (100, 40, 0, 0, 52, "mql", Stage.MQL)


def test_a_version_relying_on_a_matcher_still_being_back_filled_waits_for_its_own_back_fill(
    active_version, default_model, marketer, django_capture_on_commit_callbacks
):
    hot = _hot_lead()
    _record(hot, "page_view", NIGHT, path="/integrations")
    first, prepare_first = _submit(default_model, marketer, django_capture_on_commit_callbacks)
    # A second draft with the same rule, submitted while the first one's back-fill has not run: the aggregate is
    # kept by ingestion from now on, but the stored page view is not in it yet.
    second, prepare_second = _submit(default_model, marketer, django_capture_on_commit_callbacks)
    assert (first.aggregates_ready, second.aggregates_ready) == (False, False)
    # A draft that reads nothing new is ready at once.
    third, _ = _submit(default_model, marketer, django_capture_on_commit_callbacks, rules=())
    assert third.aggregates_ready is True

    assert len(prepare_first) == len(prepare_second) == 1  # their preparation, which starts with the back-fill
    assert aggregates.version_aggregates_backfill(version_id=first.pk) is True
    assert aggregates.version_aggregates_backfill(version_id=second.pk) is True
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.aggregates_ready, second.aggregates_ready) == (True, True)
    assert LeadAggregate.objects.get(lead=hot).behaviour[MATCHER][0] == 1


def test_a_back_fill_sent_twice_runs_once(active_version, default_model, marketer, django_capture_on_commit_callbacks):
    version, _ = _submit(default_model, marketer, django_capture_on_commit_callbacks)
    assert aggregates.version_aggregates_backfill(version_id=version.pk) is True
    assert aggregates.version_aggregates_backfill(version_id=version.pk) is False


# --- manage.py recompute_scores -----------------------------------------------------------------------------------


def _command(*args) -> str:
    out = StringIO()
    call_command("recompute_scores", "--quiet", *args, stdout=out)
    return out.getvalue().strip()


def test_the_command_rescores_every_lead_with_the_active_version(active_version):
    engaged, idle = _plain_lead(), _plain_lead()
    _record(engaged, "content_download", NIGHT, count=3)
    with time_machine.travel(NIGHT, tick=False):
        output = _command()
    assert output == "Scored 2 leads with Default v1 as of 2026-11-20 02:30:00 UTC (1 chunks)."
    assert _scores(engaged) == (40, 30, 0, 0, 25, "below_mql", Stage.LEAD)  # 16 + 0.3 x 30
    assert _scores(idle) == (40, 0, 0, 0, 16, "below_mql", Stage.LEAD)


def test_the_command_resumes_an_interrupted_run_with_its_reference_time(active_version):
    leads = [_plain_lead() for _ in range(6)]
    for lead in leads:
        _record(lead, "content_download", NIGHT, count=3)
    with pytest.raises(CommandError, match="No unfinished run of Default v1 to resume"):
        _command("--resume")
    with time_machine.travel(NIGHT, tick=False):
        run = runs.rescore_run_start(version=active_version, reason=RescoreRun.Reason.MANUAL, chunk_size=2)
        first, interrupted, _ = list(run.chunks.order_by("lo"))
        runs.rescore_chunk_process(chunk_id=first.pk)
        RescoreChunk.objects.filter(pk=interrupted.pk).update(status=RescoreChunk.Status.RUNNING, claimed_at=NIGHT)

    with time_machine.travel(NIGHT + DAY, tick=False):
        output = _command("--resume")
    assert output == "Scored 4 leads with Default v1 as of 2026-11-20 02:30:00 UTC (3 chunks)."
    for lead in leads:  # engagement 30 as of the run, not 29 (a day later)
        assert _scores(lead) == (40, 30, 0, 0, 25, "below_mql", Stage.LEAD)
    assert StageTransition.objects.count() == 6
    run.refresh_from_db()
    assert run.finished_at is not None
    assert RescoreRun.objects.count() == 1


def test_the_command_rebuilds_aggregates_of_events_loaded_around_the_api(active_version):
    lead = _plain_lead()
    LeadEventFactory.create_batch(3, lead=lead, kind="content_download", occurred_at=NIGHT)  # a bulk load
    with time_machine.travel(NIGHT, tick=False):
        _command()
        assert _scores(lead)[:5] == (40, 0, 0, 0, 16)  # the downloads are not in any aggregate
        output = _command("--rebuild-aggregates")
    assert output == "Scored 1 leads with Default v1 as of 2026-11-20 02:30:00 UTC (1 chunks)."
    assert LeadAggregate.objects.get(lead=lead).last_event_at == NIGHT
    assert _scores(lead)[:5] == (40, 30, 0, 0, 25)


def test_the_command_with_if_unscored_only_runs_when_a_lead_was_never_scored(active_version):
    scored = _plain_lead()
    with time_machine.travel(NIGHT, tick=False):
        _command()
        assert _command("--if-unscored") == "Every lead is scored (Default v1 is active); nothing to do."
    assert RescoreRun.objects.count() == 1

    newcomer = _plain_lead()
    with time_machine.travel(NIGHT + DAY, tick=False):
        output = _command("--if-unscored")
    assert output == "Scored 2 leads with Default v1 as of 2026-11-21 02:30:00 UTC (1 chunks)."
    assert _scores(newcomer) == (40, 0, 0, 0, 16, "below_mql", Stage.LEAD)
    assert Lead.objects.get(pk=scored.pk).scored_at == NIGHT + DAY
    assert RescoreRun.objects.count() == 2
