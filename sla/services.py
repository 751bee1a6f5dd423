"""Writes of the SLA: start, stop and cancel clocks; the sweep that breaches and escalates them; policy changes.

Clocks are started and stopped by what happens to a lead, never by a page: routing's `leads_routed` (assignment:
contact, hand-raiser and accept / reject clocks, and a reassignment closes the previous owner's clocks), the core's
`lead_stage_changed` (accepted / rejected stop the accept / reject clock; accepted starts the AE review, rejected
the rationale clock) and `activity_logged` (the owner's first activity stops the contact clocks). The receivers are
connected in sla/apps.py.

The sweep (`sla_sweep`, every minute from beat) reads due clocks with one indexed query and takes each step in its
own transaction. A step is claimed by a conditional update of the clock's `escalation_step`
(`filter(pk=x, escalation_step=k).update(escalation_step=k + 1) == 1`) in the same transaction as what the step does,
so a sweep that runs twice, two sweeps at once, or a worker killed half-way never take a step twice nor lose one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from leadops.models import AuditEntry, Lead, RepProfile
from leadops.permissions import has_any_role_perm
from leadops.rules import IllegalTransition, Stage
from leadops.services import Actor, as_actor, audit_log
from sla import rules
from sla.calendars import DEFAULT_REASON, CalendarSpecError, WorkCalendar, default_calendar
from sla.models import OPEN_STATES, ChangeStatus, ClockState, SlaClock, SlaEscalation, SlaPolicy, SlaPolicyChange

logger = logging.getLogger(__name__)

SLA = Actor(system="sla")
SWEEP_LIMIT = 1000


# --- calendars -----------------------------------------------------------------------------------------------------


def calendar_of_territory(territory) -> tuple[WorkCalendar, str]:
    """The territory's work calendar with a note saying where it came from; the default 09:00-17:00 Monday to
    Friday (UTC) when there is no territory or it has no usable calendar."""
    if territory is None:
        return default_calendar(), DEFAULT_REASON
    try:
        return WorkCalendar.from_spec(territory.calendar or {}), f"calendar of territory {territory.name}"
    except CalendarSpecError as problem:
        return default_calendar(), f"territory {territory.name} has no usable calendar ({problem}); {DEFAULT_REASON}"


def calendar_of_lead(lead_id: int) -> tuple[WorkCalendar, str]:
    """The calendar of the territory the lead was last routed through."""
    from routing.models import RoutingDecision

    decision = (
        RoutingDecision.objects.filter(lead_id=lead_id, territory__isnull=False)
        .select_related("territory")
        .order_by("-decided_at", "-pk")
        .first()
    )
    return calendar_of_territory(decision.territory if decision else None)


# How a clock's note ends when its own calendar cannot reach some of its steps.
FALLBACK_CALENDAR_NOTE = "the default 09:00-17:00 Monday to Friday (UTC)"


def _clock_schedule(*, policy: SlaPolicy, started_at: datetime, calendar: WorkCalendar | None, note: str):
    """When each step of `policy`'s clock started at `started_at` falls due, and the note saying what counted them.

    A business calendar looks twenty years ahead (and never past the year 9999), so a sparse territory calendar may
    not reach a long target times a large ladder multiple. Then the steps it cannot reach are counted on the default
    calendar from the last step it did reach (from the start when it reaches none), so the clock still starts, its
    steps stay in order, and the note says so in words."""
    if not policy.business_time:
        schedule = rules.clock_schedule(
            started_at=started_at, target=policy.target, ladder=policy.ladder, add=rules.wall_clock_add
        )
        return schedule, "wall clock"
    fallback = default_calendar()
    reached = {"duration": timedelta(0), "due": started_at}  # the furthest step `calendar` reached
    unreachable = []  # the first duration it could not reach

    def add(start: datetime, duration: timedelta) -> datetime:
        # rules.clock_schedule asks for the steps in order, the breach first: once one is out of reach, so are the rest.
        if not unreachable:
            try:
                due = calendar.add(start, duration)
            except (ValueError, OverflowError):
                unreachable.append(duration)
            else:
                reached.update(duration=duration, due=due)
                return due
        return fallback.add(reached["due"], duration - reached["duration"])

    schedule = rules.clock_schedule(started_at=started_at, target=policy.target, ladder=policy.ladder, add=add)
    if unreachable:
        if reached["duration"]:
            what = f"the steps from {unreachable[0] / policy.target:g}x the target, so they are"
        else:
            what = "the due time, so the clock is"
        why = f"; it has too few working hours for {what} counted on {FALLBACK_CALENDAR_NOTE}"
        note = note[: 200 - len(why)] + why
    return schedule, note


def _facts(lead: Lead) -> rules.LeadFacts:
    return rules.LeadFacts(
        stage=lead.stage, temperature=lead.temperature, fast_tracked=lead.fast_tracked_at is not None
    )


def _policy_facts(policy: SlaPolicy) -> rules.PolicyFacts:
    return rules.PolicyFacts(
        key=policy.key,
        starts_on=policy.starts_on,
        target=policy.target,
        business_time=policy.business_time,
        temperature=policy.temperature,
        hand_raiser=policy.hand_raiser,
    )


# --- clocks --------------------------------------------------------------------------------------------------------


def clock_start(
    *,
    lead: Lead,
    policy: SlaPolicy,
    owner_id: int | None,
    started_at: datetime,
    calendar: WorkCalendar | None = None,
    calendar_note: str = "",
    reason: str = "",
) -> SlaClock:
    """Start `policy`'s clock on `lead` for `owner_id` (an open clock of the same policy and owner is returned as it
    is, so a repeated signal starts nothing twice). Business-time policies count on `calendar`."""
    return _clocks_start(
        lead=lead,
        owner_id=owner_id,
        started_at=started_at,
        chosen=[(policy, reason)],
        calendar=calendar,
        calendar_note=calendar_note,
    )[0]


def _clocks_start(*, lead: Lead, owner_id, started_at, chosen, calendar=None, calendar_note="") -> list[SlaClock]:
    """Start the clocks of several policies for one lead and owner: one query for those already running, one insert
    of the new clocks and one of their audit entries. A calendar too sparse to schedule a clock never stops it from
    starting (see _clock_schedule)."""
    # A clock of the same policy and owner still running, or one that started at this moment or later (a late
    # signal, e.g. a worker catching up on a routing decision after the rep already called): nothing to start.
    existing = {
        clock.policy_id: clock
        for clock in SlaClock.objects.filter(
            Q(state__in=OPEN_STATES, stopped_at__isnull=True) | Q(started_at__gte=started_at),
            lead=lead,
            owner_id=owner_id,
            policy_id__in=[policy.pk for policy, _ in chosen],
        ).order_by("started_at", "pk")
    }
    if calendar is None and any(policy.business_time for policy, _ in chosen if policy.pk not in existing):
        calendar, calendar_note = calendar_of_lead(lead.pk)
    new = []
    for policy, reason in chosen:
        if policy.pk in existing:
            continue
        schedule, note = _clock_schedule(policy=policy, started_at=started_at, calendar=calendar, note=calendar_note)
        clock = SlaClock(
            lead=lead,
            policy=policy,
            owner_id=owner_id,
            started_at=started_at,
            due_at=schedule[0][0],
            next_step_at=schedule[0][0],
            schedule=[[at.isoformat(), action] for at, action in schedule],
            calendar_note=note[:200],
        )
        clock.start_reason = reason
        new.append(clock)
    if new:
        SlaClock.objects.bulk_create(new)
        AuditEntry.objects.bulk_create(
            [
                AuditEntry(
                    at=started_at,
                    actor_label=SLA.label,
                    action="sla.clock_start",
                    object_type="leadops.lead",
                    object_id=str(lead.pk),
                    object_repr=str(lead)[:200],
                    reason=clock.start_reason,
                    changes={
                        "clock": clock.pk,
                        "policy": clock.policy.key,
                        "owner_id": owner_id,
                        "due_at": clock.due_at.isoformat(),
                    },
                )
                for clock in new
            ]
        )
    started = {clock.policy_id: clock for clock in new}
    return [existing.get(policy.pk) or started[policy.pk] for policy, _ in chosen]


def clocks_stop(*, lead_id: int, stops_on, at: datetime, outcome: str, owner_id: int | None = None) -> int:
    """Stop the lead's running clocks that `stops_on` ends (optionally only `owner_id`'s): an open clock stopped by
    its due time is met; one stopped later, or already breached, stays breached and takes no further step."""
    stops_on = [stops_on] if isinstance(stops_on, str) else list(stops_on)
    running = SlaClock.objects.filter(
        lead_id=lead_id, policy__stops_on__in=stops_on, state__in=OPEN_STATES, stopped_at__isnull=True
    )
    if owner_id is not None:
        running = running.filter(owner_id=owner_id)
    stopped = 0
    with transaction.atomic():
        for clock in running.select_for_update(of=("self",)).order_by("pk"):
            values = {"stopped_at": at, "next_step_at": None, "outcome": outcome[:300]}
            # A clock paused before its due time stood still since: stopping it now is on time.
            paused_in_time = clock.paused_at is not None and clock.paused_at < clock.due_at
            if clock.state == ClockState.OPEN and (at <= clock.due_at or paused_in_time):
                values.update(state=ClockState.MET, met_at=at)
            else:
                values.update(state=ClockState.BREACHED, breached_at=clock.breached_at or clock.due_at)
            stopped += SlaClock.objects.filter(pk=clock.pk, stopped_at__isnull=True).update(**values)
            audit_log(
                actor=SLA,
                action="sla.clock_stop",
                object_type="leadops.lead",
                object_id=lead_id,
                object_repr=f"lead {lead_id}",
                reason=outcome,
                at=at,
                changes={"clock": clock.pk, "policy_id": clock.policy_id, "state": values["state"]},
            )
    return stopped


def clocks_cancel(
    *, lead_id: int, at: datetime, outcome: str, keep_owner_id: int | None = None, keep_stops_on=()
) -> int:
    """Close the lead's running clocks (except `keep_owner_id`'s and those `keep_stops_on` ends): an open one is
    cancelled, a breached one keeps its breach on record; neither takes another step. The outcome says why
    (reassigned to ..., lead disqualified)."""
    running = SlaClock.objects.filter(lead_id=lead_id, state__in=OPEN_STATES, stopped_at__isnull=True)
    if keep_owner_id is not None:
        running = running.exclude(owner_id=keep_owner_id)
    if keep_stops_on:
        running = running.exclude(policy__stops_on__in=list(keep_stops_on))
    with transaction.atomic():
        ids = list(running.select_for_update(of=("self",)).values_list("pk", flat=True))
        if not ids:
            return 0
        SlaClock.objects.filter(pk__in=ids, state=ClockState.OPEN).update(
            state=ClockState.CANCELLED, stopped_at=at, next_step_at=None, outcome=outcome[:300]
        )
        SlaClock.objects.filter(pk__in=ids, state=ClockState.BREACHED).update(
            stopped_at=at, next_step_at=None, outcome=outcome[:300]
        )
        audit_log(
            actor=SLA,
            action="sla.clock_cancel",
            object_type="leadops.lead",
            object_id=lead_id,
            object_repr=f"lead {lead_id}",
            reason=outcome,
            at=at,
            changes={"clocks": ids},
        )
    return len(ids)


def clocks_for_decisions(*, decision_ids) -> int:
    """clocks_for_assignment for each routing decision (unknown ids are skipped); returns the clocks started."""
    from routing.models import RoutingDecision

    decisions = RoutingDecision.objects.filter(pk__in=list(decision_ids)).order_by("pk").values_list("pk", "lead_id")
    return sum(len(clocks_for_assignment(lead_id=lead_id, decision_id=pk)) for pk, lead_id in decisions)


FINISHED_STAGES = (Stage.DISQUALIFIED, Stage.NURTURE, Stage.WON, Stage.LOST)


def _policies(*events) -> list[SlaPolicy]:
    return list(SlaPolicy.objects.filter(active=True, starts_on__in=events).order_by("order", "key"))


def _start_for_event(*, lead: Lead, event: str, owner_id, at, calendar=None, note="") -> list[SlaClock]:
    events = ("assigned", "sql_assigned") if event == "assigned" else (event,)
    policies = {p.key: p for p in _policies(*events)}
    chosen = rules.policies_starting(
        event=event, policies=[_policy_facts(p) for p in policies.values()], lead=_facts(lead)
    )
    if not chosen:
        return []
    return _clocks_start(
        lead=lead,
        owner_id=owner_id,
        started_at=at,
        chosen=[(policies[facts.key], reason) for facts, reason in chosen],
        calendar=calendar,
        calendar_note=note,
    )


def clocks_for_assignment(*, lead_id: int, decision_id: int) -> list[SlaClock]:
    """After a routing decision: close the clocks of anyone who no longer has the lead (their outcome stays on
    record) and start the new owner's: contact by temperature, hand-raiser follow-up when fast-tracked, and the
    accept / reject clock in business time on the territory's calendar (the default calendar, with that note, when
    the lead has no territory). A lead sent to the nurture queue has nobody to hold a clock."""
    from routing.models import RoutingDecision

    decision = RoutingDecision.objects.select_related("territory", "assignee").get(pk=decision_id)
    owner_id = decision.assignee_id or decision.queue_owner_id
    with transaction.atomic():
        lead = Lead.objects.get(pk=lead_id)
        who = decision.assignee or decision.get_queue_display()
        # A dispute's clock is RevOps' to stop, whoever owns the lead meanwhile.
        clocks_cancel(
            lead_id=lead_id,
            at=decision.decided_at,
            outcome=f"reassigned to {who}",
            keep_owner_id=owner_id,
            keep_stops_on=("dispute_resolved",),
        )
        if owner_id is None or lead.stage in FINISHED_STAGES:
            return []
        calendar, note = calendar_of_territory(decision.territory)
        # An accepted lead given to an AE (the handoff, or a manager assigning one when none was available) starts
        # their review clock; any other assignment the contact and accept / reject clocks.
        event = "accepted" if lead.stage == Stage.ACCEPTED and lead.sal_at is None else "assigned"
        return _start_for_event(
            lead=lead, event=event, owner_id=owner_id, at=decision.decided_at, calendar=calendar, note=note
        )


def clocks_for_stage_change(*, lead_ids, to_stage: str, at: datetime) -> None:
    """Accepted or rejected stops the accept / reject clock; an opportunity (or the AE returning the lead) stops the
    AE review; a rejected lead moving on stops the rationale clock; a finished lead closes what is left. Accepted
    starts the AE review clock and rejected the rationale clock, for the lead's owner."""
    stops = {
        Stage.ACCEPTED: ["accepted_or_rejected"],
        Stage.REJECTED: ["accepted_or_rejected", "ae_reviewed"],
        Stage.OPPORTUNITY: ["ae_reviewed"],
        # The AE returned the accepted lead to the SDR: their review is done.
        Stage.SQL: ["ae_reviewed"],
        Stage.NURTURE: ["rationale_given"],
        Stage.DISQUALIFIED: ["rationale_given"],
    }.get(to_stage, [])
    start_event = {Stage.ACCEPTED: "accepted", Stage.REJECTED: "rejected"}.get(to_stage)
    for lead_id in lead_ids:
        with transaction.atomic():
            if stops:
                clocks_stop(lead_id=lead_id, stops_on=stops, at=at, outcome=f"lead {to_stage}")
            if to_stage in FINISHED_STAGES:
                clocks_cancel(lead_id=lead_id, at=at, outcome=f"lead moved to {to_stage}")
            if start_event:
                lead = Lead.objects.filter(pk=lead_id).first()
                if lead is not None and lead.owner_id is not None:
                    _start_for_event(lead=lead, event=start_event, owner_id=lead.owner_id, at=at)


def clocks_for_activity(*, lead_id: int, rep_id: int, occurred_at: datetime) -> int:
    """A rep's activity on a lead stops their contact and follow-up clocks on it (met when on time)."""
    return clocks_stop(
        lead_id=lead_id, stops_on="first_activity", at=occurred_at, outcome="first activity logged", owner_id=rep_id
    )


def clocks_for_dispute(*, dispute_id: int, status: str) -> None:
    """An ownership dispute opened starts the resolution clock, held by the rep who opened it (their manager is told
    at breach), and pauses the owner's other clocks on the lead: nobody is penalised while who owns it is in
    question. Resolving it stops the resolution clock and resumes the paused clocks with the time they had left."""
    from routing.models import DisputeStatus, OwnershipDispute

    dispute = OwnershipDispute.objects.select_related("lead").get(pk=dispute_id)
    if status == "open":
        with transaction.atomic():
            _start_for_event(
                lead=dispute.lead, event="dispute_opened", owner_id=dispute.opened_by_id, at=dispute.opened_at
            )
            if dispute.status == DisputeStatus.OPEN:  # a late signal for a dispute resolved since pauses nothing
                clocks_pause(lead_id=dispute.lead_id, at=dispute.opened_at, reason=f"ownership dispute {dispute.pk}")
    else:
        at = dispute.resolved_at or timezone.now()
        with transaction.atomic():
            clocks_stop(
                lead_id=dispute.lead_id,
                stops_on="dispute_resolved",
                at=at,
                outcome=f"dispute resolved: {dispute.get_outcome_display()}",
            )
            if not OwnershipDispute.objects.filter(lead_id=dispute.lead_id, status=DisputeStatus.OPEN).exists():
                clocks_resume(
                    lead_id=dispute.lead_id,
                    at=at,
                    reason=f"ownership dispute {dispute.pk} resolved: {dispute.get_outcome_display()}",
                )


# What _clocks_start notes on a clock that counts wall-clock time (any other note names a business calendar).
WALL_CLOCK_NOTE = "wall clock"


class _ClockCounters:
    """`between` and `add` of each clock of one lead: the wall clock, or the lead's business calendar (read once)."""

    def __init__(self, lead_id: int):
        self.lead_id = lead_id
        self._calendar = None

    def count(self, clock: SlaClock, work):
        """`work(between, add)` on the clock's own counting, and whether it had to fall back to the default calendar:
        a territory calendar edited during the pause may no longer reach the time left, and a dispute's signal must
        not fail for it (the clock would stay paused for good)."""
        if clock.calendar_note == WALL_CLOCK_NOTE:
            return work(rules.wall_clock_between, rules.wall_clock_add), False
        if self._calendar is None:
            self._calendar, _note = calendar_of_lead(self.lead_id)
        try:
            return work(self._calendar.between, self._calendar.add), False
        except (ValueError, OverflowError):
            fallback = default_calendar()
            return work(fallback.between, fallback.add), True


def clocks_pause(*, lead_id: int, at: datetime, reason: str) -> int:
    """Stop the lead owner's running clocks (except a dispute's own) at `at`: each keeps the time that was left to
    its next step in `remaining` and takes no sweep step (`next_step_at` null) until clocks_resume. Clocks already
    paused, and those with no step left to take, are left as they are. Returns how many paused."""
    owner_id = Lead.objects.filter(pk=lead_id).values_list("owner_id", flat=True).first()
    if owner_id is None:
        return 0
    counters = _ClockCounters(lead_id)
    with transaction.atomic():
        clocks = list(
            SlaClock.objects.filter(
                lead_id=lead_id,
                owner_id=owner_id,
                state__in=OPEN_STATES,
                stopped_at__isnull=True,
                paused_at__isnull=True,
                next_step_at__isnull=False,
            )
            .exclude(policy__stops_on="dispute_resolved")
            .select_for_update(of=("self",))
            .order_by("pk")
        )
        paused = {}
        for clock in clocks:
            remaining, _fallback = counters.count(
                clock, lambda between, _add, clock=clock: max(between(at, clock.next_step_at), timedelta(0))
            )
            if SlaClock.objects.filter(pk=clock.pk, paused_at__isnull=True, stopped_at__isnull=True).update(
                paused_at=at, remaining=remaining, next_step_at=None
            ):
                paused[clock.pk] = str(remaining)
        if paused:
            audit_log(
                actor=SLA,
                action="sla.clock_pause",
                object_type="leadops.lead",
                object_id=lead_id,
                object_repr=f"lead {lead_id}",
                reason=f"paused while {reason} is open",
                at=at,
                changes={"remaining": paused},
            )
    return len(paused)


def clocks_resume(*, lead_id: int, at: datetime, reason: str) -> int:
    """Start the lead's paused clocks again at `at`: the due time and every step still to come are moved so that the
    same business (or wall-clock) time is left as when they paused (rules.schedule_resumed). A paused clock whose
    owner no longer owns the lead (the dispute moved it) is closed as a reassignment closes it. Returns how many
    resumed."""
    owner_id = Lead.objects.filter(pk=lead_id).values_list("owner_id", flat=True).first()
    counters = _ClockCounters(lead_id)
    with transaction.atomic():
        clocks = list(
            SlaClock.objects.filter(
                lead_id=lead_id, paused_at__isnull=False, state__in=OPEN_STATES, stopped_at__isnull=True
            )
            .select_related("owner")
            .select_for_update(of=("self",))
            .order_by("pk")
        )
        others = [clock for clock in clocks if clock.owner_id != owner_id]
        if others:
            owner = Lead.objects.select_related("owner").get(pk=lead_id).owner
            clocks_cancel(
                lead_id=lead_id,
                at=at,
                outcome=f"reassigned to {owner or 'nobody'}",
                keep_owner_id=owner_id,
                keep_stops_on=("dispute_resolved",),
            )
        resumed = {}
        for clock in clocks:
            if clock.owner_id != owner_id:
                continue
            schedule, fallback = counters.count(
                clock,
                lambda between, add, clock=clock: rules.schedule_resumed(
                    schedule=[(parse_datetime(due), action) for due, action in clock.schedule],
                    taken=clock.escalation_step,
                    paused_at=clock.paused_at,
                    resumed_at=at,
                    between=between,
                    add=add,
                ),
            )
            values = {
                "paused_at": None,
                "remaining": None,
                "schedule": [[due.isoformat(), action] for due, action in schedule],
                "next_step_at": schedule[clock.escalation_step][0] if clock.escalation_step < len(schedule) else None,
            }
            if clock.state == ClockState.OPEN:
                values["due_at"] = schedule[0][0]
            if SlaClock.objects.filter(pk=clock.pk, paused_at=clock.paused_at, stopped_at__isnull=True).update(
                **values
            ):
                resumed[clock.pk] = {
                    "paused_at": clock.paused_at.isoformat(),
                    "remaining": str(clock.remaining),
                    "next_step_at": values["next_step_at"].isoformat() if values["next_step_at"] else None,
                    **({"calendar": f"the lead's calendar cannot reach it: {DEFAULT_REASON}"} if fallback else {}),
                }
        if resumed:
            audit_log(
                actor=SLA,
                action="sla.clock_resume",
                object_type="leadops.lead",
                object_id=lead_id,
                object_repr=f"lead {lead_id}",
                reason=f"resumed: {reason}",
                at=at,
                changes={"clocks": resumed},
            )
    return len(resumed)


# --- the sweep -----------------------------------------------------------------------------------------------------


@dataclass
class SweepResult:
    clocks: int = 0
    steps: int = 0
    actions: dict[str, int] = field(default_factory=dict)


def _due_clocks(*, now: datetime, limit: int):
    return (
        SlaClock.objects.filter(state__in=OPEN_STATES, next_step_at__lte=now)
        .order_by("next_step_at", "pk")
        .select_related("policy", "lead", "owner")[:limit]
    )


def due_clock_ids(*, now: datetime, limit: int = SWEEP_LIMIT) -> list[int]:
    """The clocks with a step due, earliest first: one query on the (state, next_step_at) index."""
    return list(_due_clocks(now=now, limit=limit).values_list("pk", flat=True))


def sla_sweep(*, now: datetime | None = None, limit: int = SWEEP_LIMIT) -> SweepResult:
    """Breach and escalate every clock with a step due (at most `limit` clocks, earliest first), each clock in its
    own transaction. Safe to run twice or twice at once; a run cut short is finished by the next one."""
    from leadops.notifications import notification_email_choices_of

    now = now or timezone.now()
    result = SweepResult()
    clocks = list(_due_clocks(now=now, limit=limit))  # one query, on the (state, next_step_at) index
    managers = _managers_of({clock.owner_id for clock in clocks if clock.owner_id})
    # Who wants e-mail, read once for the whole run rather than once per notification.
    email_choices = notification_email_choices_of(
        user_ids={clock.owner_id for clock in clocks if clock.owner_id}
        | {manager.pk for manager in managers.values() if manager is not None},
        kinds=SWEEP_NOTIFICATION_KINDS,
    )
    claim = StepClaim()
    for clock in clocks:
        taken = clock_escalate(
            clock_id=clock.pk, now=now, clock=clock, managers=managers, email_choices=email_choices, claim=claim
        )
        result.clocks += 1
        result.steps += len(taken)
        for action in taken:
            result.actions[action] = result.actions.get(action, 0) + 1
    return result


# A step after which the owner no longer holds the lead: the sweep stops there and the clock is closed on commit.
FINAL_ACTIONS = frozenset({"reassign", "auto_accept"})
# What the sweep tells the owner (sla_breach) and the manager (sla_escalation).
SWEEP_NOTIFICATION_KINDS = ("sla_breach", "sla_escalation")


class StepClaim:
    """The conditional update that claims a clock's due steps. It matches only a clock still as the sweep read it
    (the same step count and next step time, open or breached, neither stopped nor paused), so a step is never taken
    twice nor on a clock that stopped or paused meanwhile. Compiled once and run for each clock with its values
    (leadops.db.Deferred): compiling the update costs more than running it, a thousand times a sweep."""

    VALUES = ("escalation_step", "next_step_at", "state", "breached_at")

    def __init__(self):
        from django.db import connection
        from django.db.models.sql import UpdateQuery

        from leadops.db import DeferredValue

        def given(name, field_name):
            return DeferredValue(lambda context: context[name], SlaClock._meta.get_field(field_name))

        query = SlaClock.objects.filter(
            pk=given("pk", "id"),
            escalation_step=given("first", "escalation_step"),
            next_step_at=given("next_step_at_read", "next_step_at"),
            state__in=OPEN_STATES,
            stopped_at__isnull=True,
            paused_at__isnull=True,
        ).query.chain(UpdateQuery)
        query.add_update_values({name: given(name, name) for name in self.VALUES})
        self.sql, self.params = query.get_compiler(connection=connection).as_sql()

    def __call__(self, *, clock: SlaClock, first: int, values: dict) -> bool:
        """Claim for `clock` (as read) the steps from `first`, writing `values` (VALUES, by name); True if it did."""
        from django.db import connection

        from leadops.db import Deferred

        context = {"pk": clock.pk, "first": first, "next_step_at_read": clock.next_step_at, **values}
        with connection.cursor() as cursor:
            cursor.execute(self.sql, Deferred.with_context(self.params, context))
            return cursor.rowcount == 1


def clock_escalate(
    *,
    clock_id: int,
    now: datetime,
    clock: SlaClock | None = None,
    managers: dict | None = None,
    email_choices: dict | None = None,
    claim: StepClaim | None = None,
) -> list[str]:
    """Take the steps of this clock that are due by `now`, in one transaction; returns the actions taken.

    `clock` may be as the sweep read it earlier: the steps are claimed with a conditional update (StepClaim) of the
    step count and next step time it shows, so if another sweep took them meanwhile (or the clock was stopped or
    paused) nothing happens here. The step's notifications are stored together in the same transaction and e-mailed
    once it commits."""
    from leadops.db import rows_insert
    from leadops.notifications import notifications_send

    if clock is None:
        clock = SlaClock.objects.select_related("policy", "lead", "owner").filter(pk=clock_id).first()
    if clock is None or clock.state not in OPEN_STATES or clock.stopped_at is not None:
        return []
    first = step = clock.escalation_step
    while step < len(clock.schedule) and parse_datetime(clock.schedule[step][0]) <= now:
        step += 1
        if clock.schedule[step - 1][1] in FINAL_ACTIONS:
            break
    if step == first:
        return []
    actions = [action for _at, action in clock.schedule[first:step]]
    following = clock.schedule[step][0] if step < len(clock.schedule) else None
    values = {
        "escalation_step": step,
        "next_step_at": parse_datetime(following) if following else None,
        "state": clock.state,
        "breached_at": clock.breached_at,
    }
    if rules.BREACH in actions:
        values.update(state=ClockState.BREACHED, breached_at=clock.due_at)
    claim = claim or StepClaim()
    with transaction.atomic():
        if not claim(clock=clock, first=first, values=values):
            return []  # another sweep took these steps, or the clock stopped or paused
        for name, value in values.items():
            setattr(clock, name, value)
        if managers is None:
            managers = _managers_of({clock.owner_id} if clock.owner_id else set())
        drafts = []
        details = [
            _step_perform(clock=clock, step=index, action=action, now=now, managers=managers, drafts=drafts)[:300]
            for index, action in enumerate(actions, start=first)
        ]
        if drafts:
            notifications_send(drafts, email_choices=email_choices)
        steps = list(enumerate(zip(actions, details, strict=True), start=first))
        rows_insert(
            SlaEscalation,
            ["clock", "step", "action", "at", "detail"],
            [(clock.pk, index, action, now, detail) for index, (action, detail) in steps],
        )
        lead_repr = str(clock.lead)[:200]
        rows_insert(
            AuditEntry,
            ["at", "actor_label", "action", "object_type", "object_id", "object_repr", "reason", "changes"],
            [
                (
                    now,
                    SLA.label,
                    f"sla.{action}",
                    "leadops.lead",
                    str(clock.lead_id),
                    lead_repr,
                    detail,
                    {"clock": clock.pk, "policy": clock.policy.key, "step": index},
                )
                for index, (action, detail) in steps
            ],
        )
    return actions


def _managers_of(user_ids) -> dict:
    """Each rep's manager (their own, else their team's), in one query."""
    if not user_ids:
        return {}
    profiles = RepProfile.objects.filter(user_id__in=list(user_ids)).select_related("manager", "team__manager")
    return {
        profile.user_id: profile.manager or (profile.team.manager if profile.team else None) for profile in profiles
    }


def _overdue_text(clock: SlaClock, now: datetime) -> str:
    late = now - clock.due_at
    minutes = int(late.total_seconds() // 60)
    if minutes < 1:
        return "is due now"
    if minutes < 120:
        return f"is {minutes} min overdue"
    return f"is {minutes // 60} h overdue"


def _step_perform(*, clock: SlaClock, step: int, action: str, now: datetime, managers: dict, drafts: list) -> str:
    """Do one step and say what it did, in words. A notification step adds its notification to `drafts`, which the
    caller sends with the clock's other steps, in the same transaction."""
    from leadops.notifications import NotificationDraft

    lead, policy = clock.lead, clock.policy
    owner_name = (clock.owner.get_full_name() or clock.owner.get_username()) if clock.owner else "nobody"
    what = f"{policy.name} for {lead} ({owner_name}) {_overdue_text(clock, now)}"
    key = f"sla-clock-{clock.pk}-step-{step}"
    if action == rules.BREACH:
        kind = " business time" if policy.business_time else ""
        return f"breached: due {clock.due_at:%Y-%m-%d %H:%M} UTC, target {rules.duration_text(policy.target)}{kind}"
    if action == "notify_owner":
        if clock.owner is None or not clock.owner.is_active:
            return "notify owner: nobody to notify"
        drafts.append(
            NotificationDraft(
                recipient=clock.owner, kind="sla_breach", message=f"SLA breached: {what}.", lead=lead, dedupe_key=key
            )
        )
        return f"notified the owner {owner_name}"
    if action == "notify_manager":
        manager = managers.get(clock.owner_id)
        if manager is None or not manager.is_active:
            return "notify manager: the owner has no manager"
        drafts.append(
            NotificationDraft(
                recipient=manager, kind="sla_escalation", message=f"SLA escalation: {what}.", lead=lead, dedupe_key=key
            )
        )
        return f"notified the manager {manager.get_full_name() or manager.get_username()}"
    if action == "reassign":
        return _reassign(clock=clock, now=now)
    if action == "auto_accept":
        # The same acceptance as the SDR's button: the lead goes to the AE that routing chooses, whose review clock
        # starts, rather than staying with the SDR who let it wait.
        from handoff.services import LeadChanged, lead_accept

        try:
            lead_accept(lead=lead, by=SLA, at=now, expected_stage=Stage.SQL, reason=rules.AUTO_ACCEPT_REASON)
        except (IllegalTransition, LeadChanged) as refused:
            return f"auto-accept skipped: {refused}"
        lead.refresh_from_db(fields=["owner"])
        who = _name(lead.owner) if lead.owner_id else "the team manager's queue (no AE available)"
        return f"{rules.AUTO_ACCEPT_REASON}; handed to {who}"
    return f"unknown action {action}: nothing done"


def _reassign(*, clock: SlaClock, now: datetime) -> str:
    from routing.services import leads_route

    lead = Lead.objects.filter(pk=clock.lead_id).values_list("owner_id", flat=True).first()
    if clock.owner_id is None or lead != clock.owner_id:
        return "reassign skipped: the lead has another owner already"
    decisions = leads_route(
        lead_ids=[clock.lead_id],
        now=now,
        kind="reroute",
        by="sla",
        reason=f"{clock.policy.name} breached",
        exclude_user_ids={clock.owner_id},
        from_owner_id=clock.owner_id,
    )
    if not decisions:
        return "reassign skipped: routing moved nothing"
    decision = decisions[0]
    target = _name(decision.assignee) if decision.assignee else decision.get_queue_display()
    return f"reassigned through routing to {target}"


# --- policies ------------------------------------------------------------------------------------------------------

POLICY_FIELDS = (
    "key",
    "name",
    "starts_on",
    "stops_on",
    "target",
    "business_time",
    "temperature",
    "hand_raiser",
    "ladder",
    "active",
)


def _policy_data(policy: SlaPolicy) -> dict:
    return {name: getattr(policy, name) for name in POLICY_FIELDS}


def _jsonable(value):
    return str(value) if isinstance(value, timedelta) else value


def _policy_to_json(data: dict) -> dict:
    """A policy's fields as stored on a pending change: the target in seconds."""
    return {name: data[name].total_seconds() if name == "target" else data[name] for name in POLICY_FIELDS}


def _policy_from_json(data: dict) -> dict:
    return {name: timedelta(seconds=data[name]) if name == "target" else data[name] for name in POLICY_FIELDS}


def _policy_diff(before: dict | None, after: dict) -> dict:
    return {
        name: [_jsonable(before[name]) if before else None, _jsonable(after[name])]
        for name in POLICY_FIELDS
        if before is None or before[name] != after[name]
    }


@dataclass
class PolicySaveResult:
    """What saving a policy did: applied at once (`change` is None), or stored as `change`, a loosening change
    waiting for a second person's approval (the policy itself is as it was)."""

    policy: SlaPolicy
    change: SlaPolicyChange | None = None

    @property
    def applied(self) -> bool:
        return self.change is None


def sla_policy_save(*, by, data: dict, policy: SlaPolicy | None = None) -> PolicySaveResult:
    """Create or change a policy, validated as a whole (problems by field, nothing saved).

    A change that keeps or tightens the policy applies at once and is audited with what changed. One that loosens it
    (rules.policy_loosened: a longer target, wall clock to business time, a ladder step removed or later, switched
    off) is not applied: it is stored as a pending SlaPolicyChange for a second person to approve, as scoring changes
    are. Running clocks keep the schedule they started with either way."""
    merged = {
        **(
            _policy_data(policy)
            if policy
            else {"business_time": False, "temperature": "", "hand_raiser": False, "ladder": [], "active": True}
        ),
        **data,
    }
    problems = rules.policy_problems(merged)
    if problems:
        raise ValidationError(problems)
    before = _policy_data(policy) if policy else None
    loosened = rules.policy_loosened(before, merged) if before else []
    if loosened:
        return PolicySaveResult(policy, _policy_change_propose(policy=policy, by=by, proposed=merged))
    with transaction.atomic():
        policy = policy or SlaPolicy()
        for name in POLICY_FIELDS:
            setattr(policy, name, merged[name])
        policy.save()
        audit_log(
            actor=as_actor(by),
            action="sla.policy_save" if before else "sla.policy_create",
            obj=policy,
            changes=_policy_diff(before, merged),
        )
    return PolicySaveResult(policy)


# --- four eyes on loosening a policy ---------------------------------------------------------------------------------

# Who decides a loosening change: RevOps, who configure the policies, or a sales manager, who approves scoring changes.
POLICY_APPROVE_PERMS = ("leadops.configure_territories", "leadops.approve_scoring_rules")


class PolicyChangeError(ValueError):
    """A decision the change's state, the person's role or four eyes does not allow; the message says why.
    `field` names the form field it is about, when it is about one."""

    def __init__(self, message: str, *, field: str = ""):
        super().__init__(message)
        self.field = field


def _name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else "the system"


def _policy_change_propose(*, policy: SlaPolicy, by, proposed: dict) -> SlaPolicyChange:
    """Store a loosening change of `policy` instead of applying it. A pending change of the same policy is replaced
    (marked superseded): the new proposal starts from the policy as it is now, and everyone who proposed either is a
    contributor of the new one, so neither decides it."""
    actor = as_actor(by)
    now = timezone.now()
    with transaction.atomic():
        policy = SlaPolicy.objects.select_for_update().get(pk=policy.pk)  # one proposal at a time per policy
        current = _policy_data(policy)
        loosened = rules.policy_loosened(current, proposed)
        replaced = (
            SlaPolicyChange.objects.select_for_update()
            .filter(policy=policy, status=ChangeStatus.PENDING)
            .prefetch_related("contributors")
            .first()
        )
        contributors = {actor.user.pk} if actor.user is not None else set()
        if replaced is not None:
            contributors |= {user.pk for user in replaced.contributors.all()}
            replaced.status, replaced.decided_at, replaced.decided_by = ChangeStatus.SUPERSEDED, now, actor.user
            replaced.decision_note = f"Replaced by a later proposal of {_name(actor.user)}."
            replaced.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
        change = SlaPolicyChange.objects.create(
            policy=policy,
            data=_policy_to_json(proposed),
            base=_policy_to_json(current),
            loosens="; ".join(loosened)[:500],
            proposed_by=actor.user,
            proposed_at=now,
            replaces=replaced,
        )
        change.contributors.set(contributors)
        audit_log(
            actor=actor,
            action="sla.policy_change_propose",
            obj=policy,
            reason="loosens: " + "; ".join(loosened),
            changes={
                **_policy_diff(current, proposed),
                "change": change.pk,
                **({"replaces": replaced.pk} if replaced else {}),
            },
            at=now,
        )
    return change


def policy_change_refusal(*, change: SlaPolicyChange, by) -> str | None:
    """Why this person may not approve or reject this change now, or None when they may: an admin or a manager who
    proposed neither it nor a pending change it replaced. The pages show the buttons exactly when this is None."""
    if not has_any_role_perm(by, POLICY_APPROVE_PERMS):
        return "Your role does not allow you to approve or reject service-level policy changes."
    if change.status != ChangeStatus.PENDING:
        return f"This change is {change.get_status_display().lower()}, not waiting for approval."
    if by.pk == change.proposed_by_id:
        return "You proposed this change; another person has to approve or reject it."
    if any(user.pk == by.pk for user in change.contributors.all()):
        return "You proposed a change it replaced; another person has to approve or reject it."
    return None


def _decidable(change: SlaPolicyChange, by) -> SlaPolicyChange:
    """The change locked for the decision, or PolicyChangeError saying why this person may not decide it."""
    locked = (
        SlaPolicyChange.objects.select_for_update(of=("self",))
        .select_related("policy", "proposed_by")
        .get(pk=change.pk)
    )
    refusal = policy_change_refusal(change=locked, by=by)
    if refusal is not None:
        raise PolicyChangeError(refusal)
    return locked


def sla_policy_change_approve(*, change: SlaPolicyChange, by, note: str = "") -> SlaPolicyChange:
    """A second person approves a loosening change: the fields it changes are applied to the policy as it is now.
    Refused, with the reason, when someone changed those same fields since it was proposed (it no longer applies
    cleanly) or the result is no longer a valid policy."""
    now = timezone.now()
    with transaction.atomic():
        change = _decidable(change, by)
        policy = SlaPolicy.objects.select_for_update().get(pk=change.policy_id)
        current, base, proposed = _policy_data(policy), _policy_from_json(change.base), _policy_from_json(change.data)
        changed = [name for name in POLICY_FIELDS if proposed[name] != base[name]]
        moved = [name for name in changed if current[name] != base[name]]
        if moved:
            raise PolicyChangeError(
                f"{policy.name} was changed after this proposal ({', '.join(moved)}), so it no longer applies "
                "cleanly. Reject it and propose the change again from the policy as it is now."
            )
        merged = {**current, **{name: proposed[name] for name in changed}}
        problems = rules.policy_problems(merged)
        if problems:
            text = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in problems.items())
            raise PolicyChangeError(f"Applied to {policy.name} as it is now, this change is not valid: {text}")
        loosened = rules.policy_loosened(current, merged)
        for name in POLICY_FIELDS:
            setattr(policy, name, merged[name])
        policy.save()
        change.status, change.decided_by, change.decided_at = ChangeStatus.APPROVED, by, now
        change.decision_note = (note or "").strip()
        change.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        audit_log(
            actor=as_actor(by),
            action="sla.policy_change_approve",
            obj=policy,
            reason=f"approves change {change.pk} proposed by {_name(change.proposed_by)}"
            + (f"; loosens: {'; '.join(loosened)}" if loosened else "")
            + (f"; {change.decision_note}" if change.decision_note else ""),
            changes={**_policy_diff(current, merged), "change": change.pk},
            at=now,
        )
    return change


def sla_policy_change_reject(*, change: SlaPolicyChange, by, note: str) -> SlaPolicyChange:
    """A second person rejects a loosening change, saying why; the policy stays as it is."""
    if not (note or "").strip():
        raise PolicyChangeError("Say why the change is rejected, for the person who proposed it.", field="note")
    now = timezone.now()
    with transaction.atomic():
        change = _decidable(change, by)
        change.status, change.decided_by, change.decided_at = ChangeStatus.REJECTED, by, now
        change.decision_note = note.strip()
        change.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        audit_log(
            actor=as_actor(by),
            action="sla.policy_change_reject",
            obj=change.policy,
            reason=f"rejects change {change.pk} proposed by {_name(change.proposed_by)}: {change.decision_note}",
            changes={"change": change.pk, "loosens": change.loosens},
            at=now,
        )
    return change
