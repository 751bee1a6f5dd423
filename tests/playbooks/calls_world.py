"""Fixtures of the discovery-call tests: the shipped playbook (put back if a transactional test flushed it), an SAL
owned by the team's AE, and a valid call to start each test from."""

from __future__ import annotations

import importlib
from datetime import date, datetime

import pytest
from django.apps import apps
from django.utils import timezone

from leadops.rules import Stage
from playbooks import rules
from playbooks.models import QualificationTemplate
from tests.factories import LeadFactory

NOW = timezone.make_aware(datetime(2026, 11, 18, 15, 0))
CALL_AT = timezone.make_aware(datetime(2026, 11, 18, 10, 0))


@pytest.fixture
def playbook(db):
    if not QualificationTemplate.objects.exists():
        importlib.import_module("playbooks.migrations.0002_default_templates").forwards(apps, None)
    return {t.key: t for t in QualificationTemplate.objects.filter(active=True)}


@pytest.fixture
def sal(db, ae, sdr):
    return LeadFactory(
        stage=Stage.ACCEPTED, owner=ae, sdr=sdr, accepted_at=CALL_AT, sal_at=CALL_AT, first_name="Sal", last_name="Lee"
    )


def call_input(**changes) -> rules.CallInput:
    base = {
        "occurred_at": CALL_AT,
        "duration_minutes": 25,
        "questions_asked": 8,
        "decision_maker_present": True,
        "persona": "cfo",
        "answers": {"challenges": "met", "authority": "met", "money": "met", "prioritization": "met"},
        "next_step": "demo",
        "next_step_on": date(2026, 11, 25),
        "next_step_owner_id": None,
    }
    base.update(changes)
    return rules.CallInput(**base)
