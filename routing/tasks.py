"""Celery tasks of routing: thin wrappers, ids in, one service call, JSON out; safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from routing import services

BATCH = 500


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=5,
)
def route_leads(lead_ids: list[int]) -> dict[str, int]:
    """Route new SQLs in batches. A rerun finds their initial decisions and assigns nothing twice."""
    ids = sorted(set(lead_ids))
    routed = 0
    for start in range(0, len(ids), BATCH):
        routed += len(services.leads_route(lead_ids=ids[start : start + BATCH]))
    return {"routed": routed}


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=5, max_retries=5)
def routing_notify(decision_ids: list[int]) -> dict[str, int]:
    return {"sent": services.routing_notify(decision_ids=decision_ids)}
