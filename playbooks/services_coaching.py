"""Writes of coaching: the targets a team is held to (managers edit their team's, admins the defaults)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from leadops.services import Actor, audit_log
from playbooks import coaching
from playbooks.models import CoachingTargets

FIELDS = ("call_minutes_min", "call_minutes_max", "questions_min", "next_step_pct", "decision_maker_pct")


def coaching_targets_save(*, by, team, values: dict) -> CoachingTargets:
    """Save a team's targets (team None: the defaults); coaching.TargetsError names the field of a bad value."""
    targets = coaching.Targets(**{name: values[name] for name in FIELDS})
    now = timezone.now()
    data = {name: getattr(targets, name) for name in FIELDS}
    with transaction.atomic():
        row, _created = CoachingTargets.objects.update_or_create(
            team=team, defaults={**data, "updated_by": by, "updated_at": now}
        )
        audit_log(
            actor=Actor(user=by),
            action="playbooks.coaching_targets_save",
            object_type="playbooks.coachingtargets",
            object_id=row.pk,
            object_repr=str(row),
            changes=data,
            at=now,
        )
    return row
