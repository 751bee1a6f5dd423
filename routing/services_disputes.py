"""Ownership disputes: a rep disputes the assignment of a lead they own, RevOps keeps it, moves it or splits the
credit, within the 48-hour target. Reads are scoped like the leads: admins all, managers their team's, reps their own.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.dispatch import Signal
from django.template.loader import render_to_string
from django.utils import timezone

from leadops.models import Lead
from leadops.notifications import notification_send
from leadops.permissions import has_role_perm
from leadops.rules import Stage
from leadops.selectors import team_member_ids
from leadops.services import as_actor, audit_log
from routing import services
from routing.models import DisputeOutcome, DisputeStatus, OwnershipDispute

RESOLVE = services.CONFIGURE  # RevOps resolves
DISPUTE = "leadops.work_lead_queue"  # SDRs and AEs dispute their own leads
TEAM = "leadops.view_team_leads"
TARGET = timedelta(hours=48)
LEAD_PANEL_ORDER = 11  # right after routing's own panel

# Sent after the transaction commits, with dispute_id and status ("open" or "resolved"): the SLA app can start and
# stop the 48-hour clock here.
dispute_changed = Signal()


def _announce(dispute: OwnershipDispute) -> None:
    dispute_id, status = dispute.pk, dispute.status
    transaction.on_commit(lambda: dispute_changed.send(sender=OwnershipDispute, dispute_id=dispute_id, status=status))


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


# An assignment is worth disputing while the lead is being worked or its deal is open.
DISPUTABLE_STAGES = (Stage.SQL, Stage.ACCEPTED, Stage.OPPORTUNITY)


def dispute_can_open(*, user, lead: Lead) -> bool:
    return has_role_perm(user, DISPUTE) and lead.owner_id == user.pk and lead.stage in DISPUTABLE_STAGES


def revops_people() -> QuerySet:
    """Everyone whose role (or own grant) lets them resolve disputes."""
    app_label, codename = RESOLVE.split(".")
    perm = Q(permissions__codename=codename, permissions__content_type__app_label=app_label)
    return (
        get_user_model()
        .objects.filter(
            Q(groups__in=Group.objects.filter(perm))
            | Q(user_permissions__codename=codename, user_permissions__content_type__app_label=app_label),
            is_active=True,
        )
        .distinct()
    )


def dispute_open(*, lead: Lead, by, reason: str, now: datetime | None = None) -> OwnershipDispute:
    if not dispute_can_open(user=by, lead=lead):
        raise PermissionDenied("Only the rep who owns this lead can dispute its assignment, while it is being worked.")
    if not (reason or "").strip():
        raise ValidationError({"reason": ["Say why the assignment is wrong (e.g. the account belongs to Ana)."]})
    now = now or timezone.now()
    try:
        with transaction.atomic():
            dispute = OwnershipDispute.objects.create(lead=lead, opened_by=by, reason=reason.strip(), opened_at=now)
            audit_log(actor=as_actor(by), action="routing.dispute_open", obj=lead, reason=reason.strip(), at=now)
            for person in revops_people():
                notification_send(
                    recipient=person,
                    kind="dispute_opened",
                    message=f"{_name(by)} disputes the assignment of {lead}: {reason.strip()}",
                    lead=lead,
                    actor=by,
                    dedupe_key=f"dispute-{dispute.pk}-opened",
                )
            _announce(dispute)
    except IntegrityError:
        raise ValidationError({"reason": ["This lead already has an open dispute."]}) from None
    return dispute


def dispute_resolve(
    *, dispute: OwnershipDispute, by, outcome: str, note: str, other_rep=None, now: datetime | None = None
) -> OwnershipDispute:
    """keep: the lead stays; move: to `other_rep` through the routing reassignment; split: the owner keeps it and
    shares the credit with `other_rep`. The rep who disputed is told."""
    if not has_role_perm(by, RESOLVE):
        raise PermissionDenied("Only RevOps resolves ownership disputes.")
    problems: dict[str, list[str]] = {}
    if outcome not in DisputeOutcome.values:
        problems["outcome"] = ["Choose keep, move or split credit."]
    if not (note or "").strip():
        problems["note"] = ["Say why, for the rep and the record."]
    if outcome in (DisputeOutcome.MOVE, DisputeOutcome.SPLIT):
        if other_rep is None:
            problems["other_rep"] = ["Choose the rep who takes the lead or shares the credit."]
        elif not other_rep.is_active:
            problems["other_rep"] = [f"{_name(other_rep)} is inactive."]
    if problems:
        raise ValidationError(problems)
    now = now or timezone.now()
    with transaction.atomic():
        dispute = OwnershipDispute.objects.select_for_update().select_related("lead", "opened_by").get(pk=dispute.pk)
        if dispute.status != DisputeStatus.OPEN:
            raise ValidationError({"outcome": ["This dispute was already resolved."]})
        lead = dispute.lead
        if outcome == DisputeOutcome.MOVE:
            services.lead_reassign(
                lead=lead, to_user=other_rep, by=by, reason=f"Ownership dispute resolved: {note.strip()}", now=now
            )
        elif outcome == DisputeOutcome.SPLIT and other_rep.pk == lead.owner_id:
            raise ValidationError({"other_rep": ["Credit is split with someone other than the owner."]})
        dispute.status, dispute.outcome, dispute.resolution_note = DisputeStatus.RESOLVED, outcome, note.strip()
        dispute.other_rep = other_rep if outcome != DisputeOutcome.KEEP else None
        dispute.resolved_by, dispute.resolved_at = by, now
        dispute.save()
        audit_log(
            actor=as_actor(by),
            action="routing.dispute_resolve",
            obj=lead,
            reason=note.strip(),
            changes={"outcome": outcome, "other_rep": other_rep.pk if dispute.other_rep else None},
            at=now,
        )
        other = _name(other_rep) if other_rep else ""
        outcome_text = {
            DisputeOutcome.KEEP: "the lead stays with you",
            DisputeOutcome.MOVE: f"the lead moves to {other}",
            DisputeOutcome.SPLIT: f"you keep the lead and share the credit with {other}",
        }[outcome]
        notification_send(
            recipient=dispute.opened_by,
            kind="dispute_resolved",
            message=f"Your dispute on {lead} was resolved: {outcome_text}. {note.strip()}",
            lead=lead,
            actor=by,
            dedupe_key=f"dispute-{dispute.pk}-resolved",
        )
        _announce(dispute)
    return dispute


# --- reads -------------------------------------------------------------------------------------------------------


def dispute_list(*, user) -> QuerySet[OwnershipDispute]:
    disputes = OwnershipDispute.objects.select_related("lead", "opened_by", "resolved_by", "other_rep", "lead__owner")
    if has_role_perm(user, RESOLVE):
        return disputes
    if has_role_perm(user, TEAM):
        return disputes.filter(Q(opened_by__in=team_member_ids(manager=user)) | Q(opened_by=user))
    if has_role_perm(user, DISPUTE):
        return disputes.filter(opened_by=user)
    return disputes.none()


def dispute_can_list(user) -> bool:
    return any(has_role_perm(user, perm) for perm in (RESOLVE, TEAM, DISPUTE))


def resolution_time(dispute: OwnershipDispute, *, now: datetime) -> timedelta:
    return (dispute.resolved_at or now) - dispute.opened_at


def is_late(dispute: OwnershipDispute, *, now: datetime) -> bool:
    """Open or resolved past the 48-hour target: the one reading of 'late' for the list, the detail and the report."""
    return resolution_time(dispute, now=now) > TARGET


def duration_text(delta: timedelta | None) -> str:
    """'3 h 20 min', '2 d 4 h'; '' for None."""
    if delta is None:
        return ""
    minutes = int(delta.total_seconds() // 60)
    days, hours, minutes = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def dispute_report(disputes, *, now: datetime) -> dict:
    """Open and resolved counts, resolution times and how many met the 48-hour target."""
    resolved = [d for d in disputes if d.status == DisputeStatus.RESOLVED]
    open_ = [d for d in disputes if d.status == DisputeStatus.OPEN]
    times = sorted(resolution_time(d, now=now) for d in resolved)
    within = sum(1 for d in resolved if not is_late(d, now=now))
    return {
        "open": len(open_),
        "open_overdue": sum(1 for d in open_ if is_late(d, now=now)),
        "resolved": len(resolved),
        "within_target": within,
        "within_target_pct": round(100 * within / len(times)) if times else None,
        "median": times[len(times) // 2] if times else None,
        "longest": times[-1] if times else None,
        "median_text": duration_text(times[len(times) // 2]) if times else "",
        "longest_text": duration_text(times[-1]) if times else "",
    }


# --- the lead page -----------------------------------------------------------------------------------------------


def lead_dispute_panel(sender, *, lead, user, request, **kwargs):
    """The lead's disputes and, for the rep who owns it, the button to open one: one query."""
    can_open = dispute_can_open(user=user, lead=lead)
    disputes = list(OwnershipDispute.objects.filter(lead_id=lead.pk).select_related("opened_by")[:5])
    if not disputes and not can_open:
        return None
    open_dispute = next((d for d in disputes if d.status == DisputeStatus.OPEN), None)
    html = render_to_string(
        "routing/disputes/_lead_panel.html",
        {
            "lead": lead,
            "disputes": disputes,
            "open_dispute": open_dispute,
            "can_open": can_open and open_dispute is None,
            "can_resolve": has_role_perm(user, RESOLVE),
        },
    )
    return (LEAD_PANEL_ORDER, html)
