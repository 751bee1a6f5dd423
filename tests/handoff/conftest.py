"""The handoff world: the SLA world's German territory (sdr and gina, Berlin office hours) with the team's AE."""

from __future__ import annotations

import importlib

import pytest
import time_machine
from django.apps import apps

from handoff.models import RejectionReason
from tests.sla.conftest import germany, policies, route  # noqa: F401  (fixtures shared with the SLA tests)


@pytest.fixture
def reasons(db):
    """The default reason codes (a transactional test elsewhere may have flushed what the migration installed)."""
    if not RejectionReason.objects.exists():
        importlib.import_module("handoff.migrations.0002_default_reasons").add_reasons(apps, None)
    return {reason.code: reason for reason in RejectionReason.objects.all()}


@pytest.fixture
def acting(django_capture_on_commit_callbacks):
    """Run `action()` at `at` (wall clock travelled there) with what waits for the commit (SLA receivers) run."""

    def acting(at, action):
        with time_machine.travel(at, tick=False), django_capture_on_commit_callbacks(execute=True):
            return action()

    return acting
