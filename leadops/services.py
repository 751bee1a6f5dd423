"""Writes of the core domain: the lifecycle and the audit log. Every state change of a lead goes through here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone

from leadops import rules
from leadops.models import Activity, AuditEntry, Lead, StageTransition
from leadops.rules import IllegalTransition

# Sent after the transaction that moved leads commits, with lead_ids, to_stage and at (the SLA clocks stop and
# start here). One send per lead_transition, one per chunk of lead_transition_bulk. Only for moves sales makes
# (accepted, opportunity, won, lost, rejected, nurture, disqualified, and an accepted lead returned to SQL): the
# moves up the funnel (lead, MQL, SQL) come by the thousand from scoring, which announces new SQLs itself
# (leads_became_sql).
lead_stage_changed = Signal()
FUNNEL_STAGES = frozenset({rules.Stage.NEW, rules.Stage.LEAD, rules.Stage.MQL, rules.Stage.SQL})
# Sent after the transaction that logged an activity commits, with lead_id, rep_id, activity_id and occurred_at.
activity_logged = Signal()


def _stage_changed_on_commit(*, lead_ids: list[int], to_stage: str, at: datetime, from_stage: str = "") -> None:
    # A move up the funnel is scoring's to announce; an accepted lead the AE returns to SQL is a sales move.
    if to_stage in FUNNEL_STAGES and from_stage in ("", *FUNNEL_STAGES):
        return
    transaction.on_commit(
        lambda: lead_stage_changed.send(sender=Lead, lead_ids=lead_ids, to_stage=to_stage, at=at), robust=True
    )


@dataclass(frozen=True)
class Actor:
    """Who or what acts: a person, or a system component (task name, scoring model version)."""

    user: object | None = None
    system: str = ""

    def __post_init__(self):
        if self.user is None and not self.system:
            raise ValueError("An actor is a user or a named system component.")

    @property
    def label(self) -> str:
        return self.system if self.user is None else self.user.get_username()


def as_actor(by) -> Actor:
    """`by` may be an Actor, a user, or a string naming the system component (e.g. "scoring model v3")."""
    if isinstance(by, Actor):
        return by
    if isinstance(by, str):
        return Actor(system=by)
    return Actor(user=by)


def audit_log(
    *,
    actor: Actor,
    action: str,
    obj=None,
    object_type: str = "",
    object_id="",
    object_repr: str = "",
    reason: str = "",
    changes: dict | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        object_repr = object_repr or str(obj)
    return AuditEntry.objects.create(
        at=at or timezone.now(),
        actor=actor.user,
        actor_label=actor.label,
        action=action,
        object_type=object_type,
        object_id=str(object_id or ""),
        object_repr=object_repr[:200],
        reason=reason,
        changes=changes or {},
    )


def lead_transition(
    *, lead: Lead, to: str, by, reason: str = "", expected_from: str | None = None, at: datetime | None = None
) -> Lead:
    """Move one lead to stage `to`, recording who or what moved it and why.

    The lead is re-read under a row lock, so of two people acting on the same lead at once the second sees the
    first one's result: if its move is no longer legal (or `expected_from`, the stage the person was looking at,
    no longer holds) it gets IllegalTransition and nothing changes.
    """
    actor = as_actor(by)
    at = at or timezone.now()
    with transaction.atomic():
        # NO KEY UPDATE: events and activities being inserted for this lead (their foreign-key checks take KEY
        # SHARE locks) must not wait for a stage change.
        current = Lead.objects.select_for_update(no_key=True).get(pk=lead.pk)
        if expected_from is not None and current.stage != expected_from:
            raise IllegalTransition(
                f"This lead moved to {rules.Stage.LABELS[current.stage]} in the meantime; reload it and try again."
            )
        check = rules.transition_check(from_stage=current.stage, to_stage=to, reason=reason)
        if not check.allowed:
            raise IllegalTransition(check.reason)
        from_stage = current.stage
        current.stage = to
        current.stage_changed_at = at
        update_fields = ["stage", "stage_changed_at", "updated_at"]
        timestamp_field = rules.STAGE_TIMESTAMP_FIELD.get(to)
        if timestamp_field:
            setattr(current, timestamp_field, at)
            update_fields.append(timestamp_field)
        current.save(update_fields=update_fields)
        StageTransition.objects.create(
            lead=current,
            from_stage=from_stage,
            to_stage=to,
            by_user=actor.user,
            by_system=actor.system,
            reason=reason,
            at=at,
        )
        audit_log(
            actor=actor,
            action="lead.transition",
            obj=current,
            reason=reason,
            at=at,
            changes={"stage": [from_stage, to]},
        )
        _stage_changed_on_commit(lead_ids=[current.pk], to_stage=to, at=at, from_stage=from_stage)
    # Keep the caller's instance in step with the database.
    for name in update_fields:
        setattr(lead, name, getattr(current, name))
    return lead


@dataclass
class BulkTransitionResult:
    moved: int = 0
    moved_ids: list[int] = field(default_factory=list)
    # Leads that were not in a stage from which the move is legal, by their current stage.
    skipped_by_stage: dict[str, int] = field(default_factory=dict)

    @property
    def skipped(self) -> int:
        return sum(self.skipped_by_stage.values())


BULK_CHUNK = 2000


def lead_transition_bulk(
    *, lead_ids, to: str, by, reason: str = "", at: datetime | None = None, chunk_size: int = BULK_CHUNK
) -> BulkTransitionResult:
    """The set-based form of lead_transition for callers that move thousands of leads (scoring, SLA sweeps).

    Leads whose current stage does not allow the move are skipped and counted, not failed: a score crossing a
    threshold for a lead that a rep already moved on is not an error. One UPDATE per chunk and source stage,
    one bulk insert of transitions, one audit entry per chunk.
    """
    actor = as_actor(by)
    at = at or timezone.now()
    check = rules.target_check(to_stage=to, reason=reason)
    if not check.allowed:
        raise IllegalTransition(check.reason)
    sources = rules.legal_sources(to)
    timestamp_field = rules.STAGE_TIMESTAMP_FIELD.get(to)
    result = BulkTransitionResult()
    ids = sorted(set(lead_ids))
    for start in range(0, len(ids), chunk_size):
        chunk = ids[start : start + chunk_size]
        with transaction.atomic():
            # Lock in id order so two bulk callers cannot deadlock each other.
            rows = list(
                Lead.objects.select_for_update(no_key=True)
                .filter(pk__any_of=chunk)
                .order_by("pk")
                .values_list("pk", "stage")
            )
            movable = [(pk, stage) for pk, stage in rows if stage in sources]
            for _pk, stage in rows:
                if stage not in sources:
                    result.skipped_by_stage[stage] = result.skipped_by_stage.get(stage, 0) + 1
            if not movable:
                continue
            values = {"stage": to, "stage_changed_at": at, "updated_at": at}
            if timestamp_field:
                values[timestamp_field] = at
            Lead.objects.filter(pk__any_of=[pk for pk, _ in movable]).update(**values)
            StageTransition.objects.bulk_create(
                [
                    StageTransition(
                        lead_id=pk,
                        from_stage=stage,
                        to_stage=to,
                        by_user=actor.user,
                        by_system=actor.system,
                        reason=reason,
                        at=at,
                    )
                    for pk, stage in movable
                ],
                batch_size=1000,
            )
            audit_log(
                actor=actor,
                action="lead.transition_bulk",
                object_type="leadops.lead",
                object_repr=f"{len(movable)} lead{'' if len(movable) == 1 else 's'}",
                reason=reason,
                at=at,
                changes={"to": to, "lead_ids": [pk for pk, _ in movable][:50], "count": len(movable)},
            )
            result.moved += len(movable)
            result.moved_ids.extend(pk for pk, _ in movable)
            _stage_changed_on_commit(lead_ids=[pk for pk, _ in movable], to_stage=to, at=at)
    return result


def lead_assign(*, lead: Lead, owner, by, reason: str, at: datetime | None = None) -> Lead:
    """Give a lead an owner (None: take it back into a queue), stamping assigned_at and writing the audit entry."""
    actor = as_actor(by)
    at = at or timezone.now()
    owner_id = owner.pk if owner is not None else None
    with transaction.atomic():
        previous = Lead.objects.filter(pk=lead.pk).values_list("owner_id", flat=True).get()
        Lead.objects.filter(pk=lead.pk).update(owner_id=owner_id, assigned_at=at, updated_at=at)
        audit_log(
            actor=actor,
            action="lead.assign",
            obj=lead,
            reason=reason,
            at=at,
            changes={"owner_id": [previous, owner_id]},
        )
    lead.owner_id, lead.assigned_at = owner_id, at
    if owner is not None:
        lead.owner = owner
    return lead


def lead_assign_bulk(*, owner_by_lead: dict[int, int | None], by, reason_by_lead: dict[int, str], at: datetime) -> int:
    """The set-based lead_assign for routing batches: one UPDATE per owner, one audit entry per lead in one insert.
    The caller holds the leads' row locks (it has just decided them)."""
    actor = as_actor(by)
    by_owner: dict[int | None, list[int]] = {}
    for lead_id, owner_id in owner_by_lead.items():
        by_owner.setdefault(owner_id, []).append(lead_id)
    previous = dict(Lead.objects.filter(pk__any_of=list(owner_by_lead)).values_list("pk", "owner_id"))
    for owner_id, lead_ids in by_owner.items():
        Lead.objects.filter(pk__any_of=lead_ids).update(owner_id=owner_id, assigned_at=at, updated_at=at)
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                at=at,
                actor=actor.user,
                actor_label=actor.label,
                action="lead.assign",
                object_type="leadops.lead",
                object_id=str(lead_id),
                object_repr=f"lead {lead_id}",
                reason=reason_by_lead.get(lead_id, ""),
                changes={"owner_id": [previous.get(lead_id), owner_id]},
            )
            for lead_id, owner_id in owner_by_lead.items()
        ],
        batch_size=1000,
    )
    return len(owner_by_lead)


def activity_log(
    *,
    lead: Lead,
    rep,
    kind: str,
    occurred_at: datetime,
    outcome: str = "",
    notes: str = "",
    duration_minutes: int | None = None,
) -> Activity:
    """Record a call, e-mail or meeting with a lead: stamps first_activity_at (the earliest one) and
    last_activity_at (the latest one), and after commit sends `activity_logged` (the SLA's contact clocks stop)."""
    with transaction.atomic():
        activity = Activity.objects.create(
            lead=lead,
            rep=rep,
            kind=kind,
            occurred_at=occurred_at,
            outcome=outcome,
            notes=notes,
            duration_minutes=duration_minutes,
        )
        Lead.objects.filter(pk=lead.pk).filter(
            Q(first_activity_at__isnull=True) | Q(first_activity_at__gt=occurred_at)
        ).update(first_activity_at=occurred_at)
        Lead.objects.filter(pk=lead.pk).filter(
            Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=occurred_at)
        ).update(last_activity_at=occurred_at)
        lead.refresh_from_db(fields=["first_activity_at", "last_activity_at"])
        transaction.on_commit(
            lambda: activity_logged.send(
                sender=Activity, lead_id=lead.pk, rep_id=rep.pk, activity_id=activity.pk, occurred_at=occurred_at
            ),
            robust=True,
        )
    return activity
