"""Background work and ingestion on the same leads at the same time, with real transactions (PostgreSQL).

Each worker is a thread with its own connection. A worker can be paused right after a given statement (inside
whatever transaction it is in), so every interleaving below happens the same way on every run: the test lets one
side read, makes the other side commit or block on a lock, and only then lets the first side go on.
"""

import datetime as dt
import threading
import time

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.test import Client

from leadops.models import LeadEvent
from scoring import rules as engine
from scoring import tasks
from scoring.models import LeadAggregate, RescoreRun, ScoringModelVersion
from scoring.services import aggregates, governance, preview
from tests.factories import AccountFactory, LeadFactory

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
# The default model's "E-mail opens" rule (1 point per open, 30-day half-life) and the rule a draft adds below.
EMAIL_OPENS = engine.BehaviourRule(
    key="eng-email-open", name="E-mail opens", pillar="engagement", event_kind="email_open", points=1, cap=10,
    half_life_days=30,
)  # fmt: skip
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
INTEGRATION_MATCHER = engine.BehaviourRule(
    key="x", name="x", pillar="engagement", event_kind="page_view", points=10, cap=40, half_life_days=30,
    property_name="path", property_value="/integrations",
).matcher  # fmt: skip

needs_postgresql = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="SQLite serialises writers for the whole database"
)


class Worker(threading.Thread):
    """Runs `work` on its own connection. With `pause_after`, it stops right after the first statement whose SQL
    contains that text, holding whatever locks its transaction has, until `go_on()`."""

    def __init__(self, work, *, pause_after: str | None = None):
        super().__init__(daemon=True)
        self.work, self.pause_after = work, pause_after
        self.pid = None
        self.result = self.error = None
        self.has_pid, self.paused, self.finished = threading.Event(), threading.Event(), threading.Event()
        self._go_on = threading.Event()

    def run(self):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.pid = cursor.fetchone()[0]
            self.has_pid.set()
            with connection.execute_wrapper(self._pause):
                self.result = self.work()
        except Exception as exc:  # noqa: BLE001 - reported to the test thread
            self.error = exc
        finally:
            self.has_pid.set()
            self.paused.set()
            self.finished.set()
            connections.close_all()

    def _pause(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if self.pause_after and self.pause_after in sql and not self.paused.is_set():
            self.paused.set()
            if not self._go_on.wait(20):
                raise RuntimeError("the test never let this worker go on")
        return result

    def wait_until_paused(self):
        assert self.paused.wait(20) and self.error is None, self.error
        assert not self.finished.is_set(), f"never ran a statement with {self.pause_after!r}"

    def go_on(self):
        self._go_on.set()

    def outcome(self):
        self.join(20)
        assert not self.is_alive(), "worker still running"
        if self.error is not None:
            raise self.error
        return self.result


def _finished_or_waiting_for_a_lock(worker: Worker) -> str:
    """Wait until the worker has committed, or is blocked on a row another transaction holds."""
    assert worker.has_pid.wait(20)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if worker.finished.is_set():
            return "finished"
        with connection.cursor() as cursor:
            cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [worker.pid])
            row = cursor.fetchone()
        if row is not None and row[0] == "Lock":
            return "waiting for a lock"
        time.sleep(0.02)
    raise AssertionError("the worker neither finished nor waited for a lock")


def _lead():
    return LeadFactory(account=AccountFactory(industry="Software", employees=250))


def _post_events(client, lead, kind, **properties):
    response = client.post(
        "/api/events/",
        [{"lead_id": lead.pk, "kind": kind, "occurred_at": NOW.isoformat(), "properties": properties}],
        content_type="application/json",
    )
    assert response.status_code == 202, response.content
    return response.json()


def _rebuild(lead):
    behaviour_rules, intent_rules = aggregates.rules_in_play()
    aggregates.aggregates_rebuild(lead_ids=[lead.pk], behaviour_rules=behaviour_rules, intent_rules=intent_rules)


def _behaviour(lead, matcher):
    return LeadAggregate.objects.get(lead=lead).behaviour.get(matcher)


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_an_event_committed_while_a_rebuild_has_read_the_events_is_not_lost(active_version, marketer):
    lead = _lead()
    aggregates.events_record(events=[{"lead_id": lead.pk, "kind": "email_open", "occurred_at": NOW}])
    client = Client()
    client.force_login(marketer)

    rebuild = Worker(lambda: _rebuild(lead), pause_after='FROM "leadops_leadevent"')
    rebuild.start()
    rebuild.wait_until_paused()  # it has read one stored open
    feed = Worker(lambda: _post_events(client, lead, "email_open"))
    feed.start()
    _finished_or_waiting_for_a_lock(feed)
    rebuild.go_on()
    rebuild.outcome()
    assert feed.outcome() == {"stored": 1, "leads": 1}

    # Two opens stored, both at NOW: count 2, decayed sum 2.0 at NOW, last seen NOW.
    assert LeadEvent.objects.filter(lead=lead).count() == 2
    assert _behaviour(lead, EMAIL_OPENS.matcher) == [2, 2.0, NOW.timestamp()]


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_rebuild_started_while_a_batch_is_being_stored_counts_the_batch_once(active_version, marketer):
    lead = _lead()
    aggregates.events_record(events=[{"lead_id": lead.pk, "kind": "email_open", "occurred_at": NOW}])
    client = Client()
    client.force_login(marketer)

    feed = Worker(lambda: _post_events(client, lead, "email_open"), pause_after='INSERT INTO "leadops_leadevent"')
    feed.start()
    feed.wait_until_paused()  # stored (not committed) and about to be folded
    rebuild = Worker(lambda: _rebuild(lead))
    rebuild.start()
    _finished_or_waiting_for_a_lock(rebuild)
    feed.go_on()
    assert feed.outcome() == {"stored": 1, "leads": 1}
    rebuild.outcome()

    assert LeadEvent.objects.filter(lead=lead).count() == 2
    assert _behaviour(lead, EMAIL_OPENS.matcher) == [2, 2.0, NOW.timestamp()]


def _submit_integration_pages_draft(default_model, marketer, monkeypatch) -> ScoringModelVersion:
    """Submit a draft with a rule on integration page views, which no active rule reads. Its preparation is left to
    the test, which sends it when it wants; the impact preview that ends it is left out (slow, and not the point)."""
    monkeypatch.setattr(governance, "_enqueue_preview", lambda version_id: None)
    monkeypatch.setattr(preview, "impact_preview_compute", lambda version: None)
    draft = governance.version_draft_create(model=default_model, by=marketer)
    governance.rule_save(version=draft, by=marketer, data=INTEGRATION_PAGES)
    return governance.version_submit(version=draft, by=marketer)


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_batch_that_read_the_rules_before_a_submission_is_counted_by_its_back_fill(
    active_version, default_model, marketer, monkeypatch
):
    lead = _lead()
    page_view = {"lead_id": lead.pk, "kind": "page_view", "occurred_at": NOW, "properties": {"path": "/integrations"}}
    aggregates.events_record(events=[page_view])

    # The batch learns which aggregates to keep, and pauses before the new version exists.
    feed = Worker(lambda: aggregates.events_record(events=[page_view]), pause_after='FROM "scoring_scoringrule"')
    feed.start()
    feed.wait_until_paused()
    version = _submit_integration_pages_draft(default_model, marketer, monkeypatch)
    assert version.aggregates_ready is False
    backfill = Worker(lambda: tasks.version_prepare(version.pk))
    backfill.start()
    _finished_or_waiting_for_a_lock(backfill)
    feed.go_on()
    assert feed.outcome() == [lead.pk]
    assert backfill.outcome() == "ready"

    # Two integration page views stored at NOW: the new version's aggregate counts both.
    assert LeadEvent.objects.filter(lead=lead).count() == 2
    assert _behaviour(lead, INTEGRATION_MATCHER) == [2, 2.0, NOW.timestamp()]
    version.refresh_from_db()
    assert version.aggregates_ready is True


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_full_rebuild_planned_before_a_submission_keeps_the_new_versions_aggregates(
    active_version, default_model, marketer, monkeypatch
):
    lead = _lead()
    aggregates.events_record(
        events=[{"lead_id": lead.pk, "kind": "page_view", "occurred_at": NOW, "properties": {"path": "/integrations"}}]
    )
    # `recompute_scores --rebuild-aggregates` starts; it pauses once it knows the aggregates in play.
    rebuild = Worker(
        lambda: call_command("recompute_scores", "--rebuild-aggregates", "--quiet"),
        pause_after='FROM "scoring_scoringrule"',
    )
    rebuild.start()
    rebuild.wait_until_paused()
    version = _submit_integration_pages_draft(default_model, marketer, monkeypatch)
    backfill = Worker(lambda: tasks.version_prepare(version.pk))
    backfill.start()
    _finished_or_waiting_for_a_lock(backfill)
    rebuild.go_on()
    rebuild.outcome()
    assert backfill.outcome() == "ready"

    assert _behaviour(lead, INTEGRATION_MATCHER) == [1, 1.0, NOW.timestamp()]


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_nightly_sweeps_at_the_same_time_plan_one_run(active_version):
    _lead()
    first = Worker(tasks.nightly_decay, pause_after='FROM "scoring_rescorerun"')
    first.start()
    first.wait_until_paused()  # it found no run planned tonight
    second = Worker(tasks.nightly_decay)
    second.start()
    _finished_or_waiting_for_a_lock(second)
    first.go_on()
    results = sorted([first.outcome(), second.outcome()])
    assert results == [0, 1]  # one sweep planned the run (one chunk); the other found it planned
    assert RescoreRun.objects.filter(reason=RescoreRun.Reason.NIGHTLY).count() == 1
