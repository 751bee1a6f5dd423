"""Celery tasks of the SLA: thin wrappers around one service; safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from sla import services


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=5, max_retries=3)
def sla_sweep() -> dict[str, int]:
    """Beat runs this every minute: breach and escalate the clocks that are due (see services.sla_sweep)."""
    result = services.sla_sweep()
    return {"clocks": result.clocks, "steps": result.steps}


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=2, max_retries=5)
def clocks_for_decisions(decision_ids: list[int]) -> dict[str, int]:
    """Start and close the clocks that routing decisions call for; a rerun starts nothing twice."""
    return {"clocks": services.clocks_for_decisions(decision_ids=decision_ids)}
