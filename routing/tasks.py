"""Celery tasks of routing: thin wrappers, ids in, one service call, JSON out; safe to run twice."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from routing import selectors, services

BATCH = 500
SWEEP_WINDOW = timedelta(hours=1)


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=5,
)
def route_leads(lead_ids: list[int]) -> dict[str, int]:
    """Route new SQLs in batches. A rerun finds their initial decisions and assigns nothing twice.

    Each batch also sweeps up other new SQLs still waiting (those of the tasks queued behind this one), so under a
    stream of small tasks the routing runs in large batches and the later tasks find their leads done.
    """
    ids = sorted(set(lead_ids))
    routed = 0
    for start in range(0, max(len(ids), 1), BATCH):
        chunk = ids[start : start + BATCH]
        since = timezone.now() - SWEEP_WINDOW
        sweep = selectors.unrouted_sql_ids(since=since, limit=BATCH - len(chunk)) if len(chunk) < BATCH else []
        if chunk or sweep:
            routed += len(services.leads_route(lead_ids=chunk, sweep_ids=sweep))
    return {"routed": routed}


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=5, max_retries=5)
def routing_notify(decision_ids: list[int]) -> dict[str, int]:
    return {"sent": services.routing_notify(decision_ids=decision_ids)}
