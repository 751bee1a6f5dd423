"""Celery tasks of the playbooks: thin wrappers around one service; safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from playbooks import services_actions


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=5, max_retries=3)
def next_actions_sweep() -> dict[str, int]:
    """Beat runs this every five minutes: create the next due action of each lead that owes one (see
    services_actions.next_actions_create); actions are unique per lead, sequence and step, so a rerun adds nothing."""
    result = services_actions.next_actions_create()
    return {"leads": result.leads, "created": result.created, "ended": result.ended}
