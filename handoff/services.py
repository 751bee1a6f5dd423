"""Writes of the SQL handoff: an SDR accepts (the lead goes to the AE routing chooses) or rejects with a reason, logs
calls; an AE takes an accepted lead on as an SAL or returns it, and opens the opportunity; a rep claims a lead from
their territory's queue; a manager reassigns. The SLA clocks follow through the lifecycle and routing signals.

Every action re-reads the lead under a row lock and checks handoff.rules on what it finds there, so of two people
(or two tabs) acting on one lead exactly one wins; the other gets LeadChanged, whose message says what happened,
when the lead is no longer what they were looking at (`expected_stage`), or PermissionDenied when they may not act.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from handoff import rules, selectors
from handoff.models import LeadRejection, RejectionKind, RejectionReason
from leadops.models import Activity, Lead, Opportunity
from leadops.notifications import notification_send
from leadops.rules import IllegalTransition, Stage
from leadops.services import Actor, activity_log, as_actor, audit_log, lead_transition

# Sent after the transaction in which an AE took an accepted lead on as an SAL commits (the AE review clock stops),
# with lead_id, user_id and at.
lead_sal_accepted = Signal()

NOTE_MAX = 2000
ACTIVITY_OUTCOMES = (
    "Connected",
    "Left voicemail",
    "No answer",
    "Meeting booked",
    "Replied",
    "Sent, no reply yet",
    "Not interested",
    "Wrong person",
)
# An activity logged this far ahead of now is a typing mistake (a clock skew of a few minutes is not).
FUTURE_TOLERANCE = timedelta(minutes=5)


class LeadChanged(Exception):
    """The lead is no longer in the state the person acted on (someone else acted first); the message says what it
    is now. Pages show it with the fresh lead; the API answers 409."""


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


def _locked(lead: Lead) -> Lead:
    # No select_related: when the lock had to wait for another transaction, PostgreSQL re-reads the locked row but
    # not the joined ones, so a joined owner would be the one from before that transaction (or none).
    return Lead.objects.select_for_update(no_key=True).get(pk=lead.pk)


def _fresh_state(current: Lead) -> str:
    owner = f", owned by {_name(current.owner)}" if current.owner_id else ", with no owner"
    return f"{Stage.LABELS[current.stage]}{owner}"


def _check(action: str, *, by, current: Lead, expected_stage: str | None, expected_owner_id=...) -> None:
    """Refuse when the lead moved on since the person looked (LeadChanged) or they may not act (PermissionDenied)."""
    if expected_stage is not None and current.stage != expected_stage:
        raise LeadChanged(f"This lead changed in the meantime: it is now {_fresh_state(current)}.")
    if expected_owner_id is not ... and current.owner_id != expected_owner_id:
        raise LeadChanged(f"This lead changed in the meantime: it is now {_fresh_state(current)}.")
    if isinstance(by, Actor) and by.user is None:
        return  # a system step (the SLA's auto-accept) acts on the playbook's authority
    user = by.user if isinstance(by, Actor) else by
    refusal = rules.action_refusal(
        action, selectors.actor_facts(user=user, lead=current), selectors.lead_facts(current)
    )
    if refusal:
        raise PermissionDenied(refusal)


def _reason(code: str) -> RejectionReason:
    reason = RejectionReason.objects.filter(code=(code or "").strip(), active=True).first()
    if reason is None:
        raise ValidationError({"reason": "Choose a reason from the list."})
    return reason


def _note(note: str, *, required: str) -> str:
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": required})
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": f"Keep the note under {NOTE_MAX} characters ({len(note)} now)."})
    return note


# --- the SDR -------------------------------------------------------------------------------------------------------


def lead_accept(
    *, lead: Lead, by, at: datetime | None = None, expected_stage: str | None = Stage.SQL, reason: str = "accepted"
) -> Lead:
    """The SQL's owner accepts it: it becomes Accepted (an SAL candidate) and goes to the AE that ae_choose picks
    (the account's named AE, else the team's AE with the fewest leads waiting); with no AE available it waits,
    unowned, for the team's manager, who is told. The accept clock stops and the AE's review clock starts (SLA)."""
    from routing.models import DecisionKind
    from routing.services import lead_hand_over

    at = at or timezone.now()
    actor = as_actor(by)
    with transaction.atomic():
        current = _locked(lead)
        _check(rules.ACCEPT, by=by, current=current, expected_stage=expected_stage)
        sdr = current.owner
        lead_transition(lead=current, to=Stage.ACCEPTED, by=actor, reason=reason, expected_from=Stage.SQL, at=at)
        named, team_aes, team, territory = selectors.handoff_candidates(lead=current, sdr=sdr, today=at.date())
        ae, path = rules.ae_choose(named_owner=named, team_aes=team_aes, team_name=team.name if team else "")
        who = f"accepted by {_name(sdr)}" if sdr else "accepted"
        if actor.user is None:
            who = f"{who} ({actor.label})"
        Lead.objects.filter(pk=current.pk).update(sdr=sdr)
        current.sdr = sdr
        ae_user = None
        if ae is not None:
            ae_user = get_user_model().objects.get(pk=ae.user_id)
            reason = f"Handed to {ae.name}"
        manager = team.manager if team is not None else None
        if ae is None:
            reason = "No AE available: waiting for the team's manager to assign one"
            if manager is not None:
                notification_send(
                    recipient=manager,
                    kind="handoff_waiting",
                    message=f"{current} was accepted but no AE of {team.name} is available; assign one.",
                    lead=current,
                    dedupe_key=f"handoff-waiting-{current.pk}-{at.isoformat()}",
                )
        lead_hand_over(
            lead=current,
            to_user=ae_user,
            by=actor,
            path=[who, *path],
            reason=reason,
            kind=DecisionKind.HANDOFF,
            now=at,
            territory=territory,
            queue_owner=manager,
        )
    for name in ("stage", "stage_changed_at", "accepted_at", "owner_id", "sdr_id"):
        setattr(lead, name, getattr(current, name))
    return lead


def lead_reject(
    *, lead: Lead, by, reason_code: str, note: str, at: datetime | None = None, expected_stage: str | None = Stage.SQL
) -> LeadRejection:
    """The SQL's owner rejects it with a reason code and a note: Rejected, then Nurture (or Disqualified for a
    disqualifying reason) in the same step, since the rationale is given with it. The rejection is kept with the
    score, tier and source the lead had, for marketing's feedback view."""
    at = at or timezone.now()
    reason = _reason(reason_code)
    note = _note(note, required="Say in a few words why (the marketing team reads it to fix scoring).")
    actor = as_actor(by)
    with transaction.atomic():
        current = _locked(lead)
        _check(rules.REJECT, by=by, current=current, expected_stage=expected_stage)
        words = f"{reason.label}: {note}"
        lead_transition(lead=current, to=Stage.REJECTED, by=actor, reason=words, expected_from=Stage.SQL, at=at)
        target = rules.rejection_target(disqualifies=reason.disqualifies)
        lead_transition(lead=current, to=target, by=actor, reason=words, expected_from=Stage.REJECTED, at=at)
        rejection = LeadRejection.objects.create(
            lead=current,
            kind=RejectionKind.SDR_REJECT,
            reason=reason,
            note=note,
            by_user=actor.user,
            at=at,
            to_stage=target,
            score_total=current.score_total,
            score_tier=current.score_tier,
            source=current.source,
        )
    lead.refresh_from_db()
    return rejection


def lead_claim(*, lead: Lead, by, at: datetime | None = None) -> Lead:
    """A rep takes an unowned MQL or SQL from their territory's queue, within their monthly capacity: a routing
    decision (so the clocks start for them) counted in their load."""
    from routing import selectors as routing_selectors
    from routing.models import DecisionKind, RepMonthlyLoad
    from routing.services import lead_hand_over

    at = at or timezone.now()
    with transaction.atomic():
        current = _locked(lead)
        territory = selectors.lead_territory(current.pk)
        if current.owner_id is not None:
            raise LeadChanged(f"Someone claimed this lead first: it is now {_fresh_state(current)}.")
        _check(rules.CLAIM, by=by, current=current, expected_stage=None)
        month = routing_selectors.month_of(at.date())
        load, _ = RepMonthlyLoad.objects.select_for_update().get_or_create(user=by, month=month)
        RepMonthlyLoad.objects.filter(pk=load.pk).update(assigned=load.assigned + 1)
        lead_hand_over(
            lead=current,
            to_user=by,
            by=by,
            path=[f"claimed from the queue of {territory.name if territory else 'the territory'} by {_name(by)}"],
            reason=f"Claimed by {_name(by)}",
            kind=DecisionKind.MANUAL,
            now=at,
            territory=territory,
        )
    lead.owner_id, lead.owner, lead.assigned_at = by.pk, by, at
    return lead


def activity_record(
    *,
    lead: Lead,
    by,
    kind: str,
    outcome: str,
    note: str = "",
    occurred_at: datetime | None = None,
    duration_minutes=None,
    now: datetime | None = None,
) -> Activity:
    """The owner logs a call, e-mail or meeting with its outcome: the first one stamps first_activity_at and stops
    the time-to-contact clock (SLA)."""
    now = now or timezone.now()
    problems = {}
    if kind not in Activity.Kind.values:
        problems["kind"] = ["Choose call, e-mail or meeting."]
    if outcome not in ACTIVITY_OUTCOMES:
        problems["outcome"] = [f"Choose an outcome: {', '.join(ACTIVITY_OUTCOMES)}."]
    occurred_at = occurred_at or now
    if timezone.is_naive(occurred_at):
        problems["occurred_at"] = ["Give the time with its time zone."]
    elif occurred_at > now + FUTURE_TOLERANCE:
        problems["occurred_at"] = ["An activity cannot be in the future."]
    if duration_minutes not in (None, ""):
        try:
            duration_minutes = int(duration_minutes)
        except (TypeError, ValueError):
            problems["duration_minutes"] = ["Give the duration in whole minutes."]
        else:
            if not 0 < duration_minutes <= 600:
                problems["duration_minutes"] = ["A duration is 1 to 600 minutes."]
    else:
        duration_minutes = None
    if len(note or "") > NOTE_MAX:
        problems["note"] = [f"Keep the note under {NOTE_MAX} characters."]
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        current = _locked(lead)
        _check(rules.LOG_ACTIVITY, by=by, current=current, expected_stage=None)
        activity = activity_log(
            lead=current,
            rep=by,
            kind=kind,
            occurred_at=occurred_at,
            outcome=outcome,
            notes=(note or "").strip(),
            duration_minutes=duration_minutes,
        )
        audit_log(
            actor=as_actor(by),
            action="lead.activity",
            obj=current,
            reason=f"{activity.get_kind_display()}: {outcome}",
            at=now,
            changes={"activity": activity.pk, "occurred_at": occurred_at.isoformat()},
        )
    lead.first_activity_at, lead.last_activity_at = current.first_activity_at, current.last_activity_at
    return activity


# --- the AE --------------------------------------------------------------------------------------------------------


def lead_sal_accept(*, lead: Lead, by, at: datetime | None = None) -> Lead:
    """The AE the lead was handed to takes it on as a sales-accepted lead (SAL); their review clock stops."""
    at = at or timezone.now()
    with transaction.atomic():
        current = _locked(lead)
        _check(rules.SAL_ACCEPT, by=by, current=current, expected_stage=Stage.ACCEPTED)
        Lead.objects.filter(pk=current.pk).update(sal_at=at, updated_at=at)
        audit_log(actor=as_actor(by), action="lead.sal_accept", obj=current, reason="taken on as SAL", at=at)
        transaction.on_commit(
            lambda: lead_sal_accepted.send(sender=Lead, lead_id=current.pk, user_id=by.pk, at=at), robust=True
        )
    lead.sal_at = at
    return lead


def lead_return(*, lead: Lead, by, reason_code: str, note: str, at: datetime | None = None) -> LeadRejection:
    """The AE returns an accepted lead to the SDR who accepted it, with a reason: back to SQL in the SDR's queue
    (their accept clock starts again), the return kept for the scorecard."""
    from routing.models import DecisionKind
    from routing.services import lead_hand_over

    at = at or timezone.now()
    reason = _reason(reason_code)
    note = _note(note, required="Tell the SDR in a few words what is missing.")
    with transaction.atomic():
        current = _locked(lead)
        _check(rules.RETURN, by=by, current=current, expected_stage=Stage.ACCEPTED)
        words = f"returned by the AE: {reason.label}: {note}"
        sdr = current.sdr
        lead_transition(lead=current, to=Stage.SQL, by=by, reason=words, expected_from=Stage.ACCEPTED, at=at)
        rejection = LeadRejection.objects.create(
            lead=current,
            kind=RejectionKind.AE_RETURN,
            reason=reason,
            note=note,
            by_user=by,
            at=at,
            to_stage=Stage.SQL,
            score_total=current.score_total,
            score_tier=current.score_tier,
            source=current.source,
        )
        lead_hand_over(
            lead=current,
            to_user=sdr,
            by=by,
            path=[f"returned by {_name(by)}: {reason.label}", _name(sdr)],
            reason=words[:500],
            kind=DecisionKind.RETURNED,
            now=at,
            territory=selectors.lead_territory(current.pk),
        )
    lead.refresh_from_db()
    return rejection


OPEN_OPPORTUNITY_STAGES = tuple(Opportunity.OPEN_STAGES)


def opportunity_save(
    *, lead: Lead, by, amount, stage: str, expected_close, name: str = "", loss_reason: str = "", now=None
) -> Opportunity:
    """The AE opens the lead's opportunity (the lead moves to Opportunity) or updates it; closing it won or lost
    moves the lead to Won or Lost (a loss needs its reason)."""
    now = now or timezone.now()
    problems: dict[str, list[str]] = {}
    try:
        amount = Decimal(str(amount).replace(",", "").strip())
        if amount < 0 or amount >= Decimal("1e12") or not amount.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        problems["amount"] = ["Give the amount as a positive number, e.g. 24000."]
    if stage not in Opportunity.Stage.values:
        problems["stage"] = [f"Choose one of: {', '.join(Opportunity.Stage.labels)}."]
    if isinstance(expected_close, str):
        try:
            expected_close = date.fromisoformat(expected_close.strip()) if expected_close.strip() else None
        except ValueError:
            problems["expected_close"] = ["Give the date as YYYY-MM-DD."]
            expected_close = None
    if stage in OPEN_OPPORTUNITY_STAGES and "expected_close" not in problems:
        if expected_close is None:
            problems["expected_close"] = ["When do you expect it to close?"]
        elif expected_close < timezone.localdate(now) - timedelta(days=1):
            problems["expected_close"] = ["An open deal's expected close cannot be in the past."]
    if stage == Opportunity.Stage.LOST and not (loss_reason or "").strip():
        problems["loss_reason"] = ["Say why the deal was lost."]
    if problems:
        raise ValidationError(problems)
    actor = as_actor(by)
    with transaction.atomic():
        current = _locked(lead)
        _check(rules.OPPORTUNITY, by=by, current=current, expected_stage=None)
        opportunity = (
            Opportunity.objects.select_for_update().filter(lead=current).order_by("-created_at", "-pk").first()
        )
        closed = stage in (Opportunity.Stage.WON, Opportunity.Stage.LOST)
        if opportunity is None:
            if current.account_id is None:
                raise ValidationError({"amount": ["This lead has no account to open an opportunity on."]})
            opportunity = Opportunity(lead=current, account=current.account, owner=by, created_at=now)
        elif opportunity.stage not in OPEN_OPPORTUNITY_STAGES:
            raise LeadChanged(f"This opportunity is already {opportunity.get_stage_display()}.")
        opportunity.name = (name or "").strip()[:200] or opportunity.name or f"{current.account.name}: {current}"
        opportunity.amount, opportunity.stage, opportunity.expected_close = amount, stage, expected_close
        opportunity.closed_at = now if closed else None
        opportunity.loss_reason = (loss_reason or "").strip()[:200] if stage == Opportunity.Stage.LOST else ""
        opportunity.save()
        if current.stage == Stage.ACCEPTED:
            lead_transition(lead=current, to=Stage.OPPORTUNITY, by=actor, reason="opportunity opened", at=now)
        if closed:
            to = Stage.WON if stage == Opportunity.Stage.WON else Stage.LOST
            lead_transition(lead=current, to=to, by=actor, reason=opportunity.loss_reason or "closed won", at=now)
        audit_log(
            actor=actor,
            action="opportunity.save",
            obj=opportunity,
            at=now,
            changes={"amount": str(amount), "stage": stage, "expected_close": str(expected_close or "")},
        )
    lead.refresh_from_db()
    return opportunity


# --- managers and bulk actions -------------------------------------------------------------------------------------


@dataclass
class BulkResult:
    done: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)  # lead id -> why, in words

    @property
    def summary(self) -> str:
        parts = [f"{len(self.done)} done"]
        if self.refused:
            parts.append(f"{len(self.refused)} not: " + "; ".join(sorted(set(self.refused.values()))[:3]))
        return ", ".join(parts)


def leads_reassign(*, lead_ids, to_user, by, reason: str, now: datetime | None = None) -> BulkResult:
    """A manager (or RevOps) moves one lead or a selection to another rep, with a reason, each through routing's
    reassignment (audited, the clocks follow). Each lead is decided on its own: one refused does not stop the
    others, and the result says which and why."""
    from routing.services import lead_reassign

    if not (reason or "").strip():
        raise ValidationError({"reason": "A reassignment needs a reason."})
    now = now or timezone.now()
    result = BulkResult()
    for lead in Lead.objects.filter(pk__in=list(lead_ids)).order_by("pk"):
        refusal = rules.action_refusal(
            rules.REASSIGN, selectors.actor_facts(user=by, lead=lead), selectors.lead_facts(lead)
        )
        if refusal:
            result.refused[lead.pk] = refusal
            continue
        try:
            lead_reassign(lead=lead, to_user=to_user, by=by, reason=reason.strip(), now=now)
        except ValidationError as problem:
            result.refused[lead.pk] = " ".join(m for ms in problem.message_dict.values() for m in ms)
        except PermissionDenied as refused:
            result.refused[lead.pk] = str(refused)
        else:
            result.done.append(lead.pk)
    return result


def leads_reject(*, lead_ids, by, reason_code: str, note: str, at: datetime | None = None) -> BulkResult:
    """The owner rejects a selection of their SQLs with one reason and note; each as lead_reject would."""
    _reason(reason_code)
    _note(note, required="Say in a few words why (the marketing team reads it to fix scoring).")
    result = BulkResult()
    for lead in Lead.objects.filter(pk__in=list(lead_ids)).order_by("pk"):
        try:
            # Each lead is checked as it is now (not against a stage the person saw): the refusal says why.
            lead_reject(lead=lead, by=by, reason_code=reason_code, note=note, at=at, expected_stage=None)
        except (PermissionDenied, LeadChanged, IllegalTransition) as refused:
            result.refused[lead.pk] = str(refused)
        else:
            result.done.append(lead.pk)
    return result
