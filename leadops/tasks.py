"""Celery tasks of the core domain. Thin wrappers: ids and JSON primitives in, one service call, a JSON result out."""

from __future__ import annotations

from importlib import import_module

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from leadops import services


@shared_task(acks_late=True)
def sessions_purge() -> None:
    """Delete expired sessions (what `manage.py clearsessions` does), for the nightly beat schedule."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()


# A lost connection or a deadlock victim is worth another try; IllegalTransition and bad input are not.
@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
)
def leads_transition_bulk(lead_ids: list[int], to: str, reason: str, actor: str) -> dict[str, int]:
    """Move leads to stage `to` on behalf of the system component `actor` (e.g. "scoring model v3").

    Safe to run twice: leads that already moved are no longer in a legal source stage, so a rerun skips them.
    """
    if not actor:
        raise ValueError("leads_transition_bulk needs the actor's name, e.g. 'scoring model v3'.")
    result = services.lead_transition_bulk(lead_ids=lead_ids, to=to, by=actor, reason=reason)
    return {"moved": result.moved, "skipped": result.skipped}
