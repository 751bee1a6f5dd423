"""The core tasks, run eagerly: the real-worker round trip is in tests/integration."""

import datetime as dt

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session

from leadops import tasks
from leadops.rules import Stage
from tests.factories import LeadFactory

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def test_sessions_purge_removes_expired_sessions_only():
    live = SessionStore()
    live.create()
    expired = SessionStore()
    expired.create()
    Session.objects.filter(session_key=expired.session_key).update(expire_date=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    tasks.sessions_purge.delay()
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]


def test_bulk_transition_task_reports_moved_and_skipped():
    leads = LeadFactory.create_batch(2, stage=Stage.LEAD) + [LeadFactory(stage=Stage.WON)]
    result = tasks.leads_transition_bulk.delay(
        lead_ids=[lead.pk for lead in leads], to=Stage.MQL, reason="score 55", actor="scoring model v1"
    ).get()
    assert result == {"moved": 2, "skipped": 1}
