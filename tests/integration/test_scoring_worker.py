"""An event posted to the API is re-scored by a real Celery worker over Redis within seconds."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.urls import reverse

from leadops.celery import app as celery_app
from leadops.models import Lead
from leadops.rules import Stage
from tests.factories import AccountFactory, LeadFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
TIMEOUT = 20


@pytest.fixture
def worker_queue(celery_on_redis):
    """Tasks sent with .delay() (as the ingestion API does) go to this test's worker."""
    saved = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = celery_on_redis.queue
    yield celery_on_redis
    celery_app.conf.task_default_queue = saved


def test_a_demo_request_is_scored_by_the_worker_and_moves_the_lead(client, marketer, worker_queue):
    account = AccountFactory(industry="Software", employees=400, annual_revenue=80_000_000)
    lead = LeadFactory(account=account, seniority="vp", department="sales", stage=Stage.LEAD)
    client.force_login(marketer)
    now = dt.datetime.now(dt.UTC)
    events = [
        {"lead_id": lead.pk, "kind": kind, "occurred_at": now.isoformat()}
        for kind in ["demo_request", "rfp_submitted", "webinar_attended", "content_download"]
    ]
    posted_at = time.monotonic()
    response = client.post(reverse("api_event_ingest"), events, content_type="application/json")
    assert response.status_code == 202, response.json()

    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        lead.refresh_from_db()
        if lead.scored_at is not None:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"The worker did not re-score the lead in {TIMEOUT} s:\n{worker_queue.log_tail()}")
    assert time.monotonic() - posted_at < 10
    assert lead.score_buying == 90  # demo 50 + RFP 40, fresh
    assert lead.score_version.status == "active"
    # Fit 100 and a fresh demo request: a hand-raiser, fast-tracked through MQL to SQL by the worker.
    assert lead.stage == Stage.SQL and lead.mql_at is not None and lead.fast_tracked_at is not None
    moves = list(Lead.objects.get(pk=lead.pk).transitions.order_by("pk").values_list("to_stage", "by_system"))
    assert moves == [(Stage.MQL, "scoring Default v1"), (Stage.SQL, "scoring Default v1")]
