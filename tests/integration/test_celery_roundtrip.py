"""A task published from Django reaches a real Celery worker process over Redis and changes the database."""

from __future__ import annotations

import time

import pytest

from leadops import tasks
from leadops.celery import app as celery_app
from leadops.models import Lead, StageTransition
from leadops.rules import Stage
from tests.factories import LeadFactory
from tests.integration.conftest import celery_publishing_to

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ACTOR = "scoring model v3"
ROUNDTRIP_TIMEOUT = 20


def wait_for(condition, worker, what: str) -> None:
    deadline = time.monotonic() + ROUNDTRIP_TIMEOUT
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"Waited {ROUNDTRIP_TIMEOUT} s for {what}. Worker log:\n{worker.log_tail()}", pytrace=False)


def send_bulk_transition(worker, lead_ids, to=Stage.SQL):
    return tasks.leads_transition_bulk.apply_async(
        kwargs={"lead_ids": lead_ids, "to": to, "reason": "score crossed the SQL threshold", "actor": ACTOR},
        queue=worker.queue,
    )


def test_worker_moves_the_leads_and_records_the_system_actor(celery_on_redis):
    mqls = LeadFactory.create_batch(4, stage=Stage.MQL)
    won = LeadFactory(stage=Stage.WON)
    mql_ids = [lead.pk for lead in mqls]

    result = send_bulk_transition(celery_on_redis, [*mql_ids, won.pk])

    wait_for(
        lambda: Lead.objects.filter(pk__in=mql_ids, stage=Stage.SQL).count() == len(mql_ids),
        celery_on_redis,
        "the worker to move the MQLs to SQL",
    )
    assert result.get(timeout=ROUNDTRIP_TIMEOUT) == {"moved": 4, "skipped": 1}
    transitions = StageTransition.objects.filter(lead_id__in=mql_ids)
    assert sorted(transitions.values_list("lead_id", flat=True)) == sorted(mql_ids)
    assert set(transitions.values_list("from_stage", "to_stage", "by_system", "by_user")) == {
        (Stage.MQL, Stage.SQL, ACTOR, None)
    }
    won.refresh_from_db()
    assert won.stage == Stage.WON
    assert not StageTransition.objects.filter(lead=won).exists()


def test_running_the_task_twice_moves_nothing_the_second_time(celery_on_redis):
    lead_ids = [lead.pk for lead in LeadFactory.create_batch(3, stage=Stage.MQL)]

    first = send_bulk_transition(celery_on_redis, lead_ids).get(timeout=ROUNDTRIP_TIMEOUT)
    second = send_bulk_transition(celery_on_redis, lead_ids).get(timeout=ROUNDTRIP_TIMEOUT)

    assert first == {"moved": 3, "skipped": 0}
    assert second == {"moved": 0, "skipped": 3}
    assert StageTransition.objects.filter(lead_id__in=lead_ids).count() == 3
    assert set(Lead.objects.filter(pk__in=lead_ids).values_list("stage", flat=True)) == {Stage.SQL}


def test_publishing_to_redis_is_undone_for_the_eager_tests_that_follow():
    """The worker tests borrow this process's Celery app; the tests after them must get the eager app back."""
    with celery_publishing_to("redis://127.0.0.1:1/0"):
        assert celery_app.conf.task_always_eager is False
        assert celery_app.connection_for_write().transport_cls == "redis"

    assert celery_app.conf.task_always_eager is True
    assert celery_app.connection_for_write().transport_cls != "redis"
    lead = LeadFactory(stage=Stage.MQL)
    result = tasks.leads_transition_bulk.delay([lead.pk], Stage.SQL, "", ACTOR)
    assert result.get() == {"moved": 1, "skipped": 0}  # an EagerResult: the task ran here, in this process
    lead.refresh_from_db()
    assert lead.stage == Stage.SQL
