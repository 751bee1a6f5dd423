"""Service-level decisions, pure: which policies start a clock, when each step of a clock is due, what is wrong with
a policy. Plain data in, results with reasons out; no ORM, no settings, no now()."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

BREACH = "breach"
ACTIONS = ("notify_owner", "notify_manager", "reassign", "auto_accept")
TEMPERATURES = ("hot", "warm", "cold")
START_EVENTS = ("assigned", "sql_assigned", "accepted", "rejected", "dispute_opened")
STOP_EVENTS = ("first_activity", "accepted_or_rejected", "ae_reviewed", "rationale_given", "dispute_resolved")
# Only a clock whose lead is waiting for an SDR's accept / reject can be settled by accepting it.
AUTO_ACCEPT_STOPS = frozenset({"accepted_or_rejected"})
# Reassigning means routing the lead to another rep: only for clocks that run while a rep owns an unworked lead.
REASSIGN_STOPS = frozenset({"first_activity", "accepted_or_rejected"})
MAX_MULTIPLE = 10
# Longer targets are typing mistakes, and ten times one would outrun what a business calendar can schedule.
MAX_TARGET = timedelta(days=30)

AUTO_ACCEPT_REASON = "auto-accepted: SDR accept/reject SLA breached"


@dataclass(frozen=True)
class PolicyFacts:
    key: str
    starts_on: str
    target: timedelta
    business_time: bool
    temperature: str = ""
    hand_raiser: bool = False


@dataclass(frozen=True)
class LeadFacts:
    stage: str
    temperature: str  # "" when never scored
    fast_tracked: bool


def lead_temperature(temperature: str) -> str:
    """A lead never scored is treated as cold: the slowest contact target, never none."""
    return temperature if temperature in TEMPERATURES else "cold"


def policies_starting(*, event: str, policies, lead: LeadFacts) -> list[tuple[PolicyFacts, str]]:
    """The policies whose clock starts on `event` for this lead, each with the reason in words."""
    chosen = []
    for policy in policies:
        if policy.starts_on != event and not (event == "assigned" and policy.starts_on == "sql_assigned"):
            continue
        if policy.starts_on == "sql_assigned" and lead.stage != "sql":
            continue
        # Contact clocks are for a rep given a lead nobody has worked yet, not for the AE an accepted lead goes to.
        if policy.starts_on == "assigned" and lead.stage not in ("mql", "sql"):
            continue
        if policy.hand_raiser and not lead.fast_tracked:
            continue
        if policy.temperature and policy.temperature != lead_temperature(lead.temperature):
            continue
        reasons = [f"{event.replace('_', ' ')}"]
        if policy.temperature:
            reasons.append(f"temperature {lead_temperature(lead.temperature)}")
        if policy.hand_raiser:
            reasons.append("fast-tracked hand-raiser")
        if policy.starts_on == "sql_assigned":
            reasons.append("SQL waiting for accept / reject")
        chosen.append((policy, ", ".join(reasons)))
    return chosen


def clock_schedule(
    *, started_at: datetime, target: timedelta, ladder, add: Callable[[datetime, timedelta], datetime]
) -> list[tuple[datetime, str]]:
    """When each step of a clock falls due: the breach at the target, then each ladder step at its multiple of the
    target, in order. `add(start, duration)` is the wall clock or a business calendar's add."""
    steps = [(1.0, BREACH)] + sorted(((float(step["at"]), step["action"]) for step in ladder), key=lambda step: step[0])
    return [(add(started_at, target * multiple), action) for multiple, action in steps]


def wall_clock_add(start: datetime, duration: timedelta) -> datetime:
    return start + duration


def ladder_problems(ladder, *, stops_on: str) -> list[str]:
    if not isinstance(ladder, list):
        return ['must be a list of steps such as {"at": 1, "action": "notify_owner"}.']
    problems = []
    for index, step in enumerate(ladder, start=1):
        if not isinstance(step, dict) or set(step) != {"at", "action"}:
            problems.append(f"step {index}: needs exactly 'at' (a multiple of the target) and 'action'.")
            continue
        at, action = step["at"], step["action"]
        if isinstance(at, bool) or not isinstance(at, int | float) or not 1 <= at <= MAX_MULTIPLE:
            problems.append(f"step {index}: 'at' is a multiple of the target from 1 (the breach) to {MAX_MULTIPLE}.")
        if action not in ACTIONS:
            problems.append(f"step {index}: '{action}' is not one of {', '.join(ACTIONS)}.")
        elif action == "auto_accept" and stops_on not in AUTO_ACCEPT_STOPS:
            problems.append(f"step {index}: only a clock stopped by accept / reject can auto-accept the lead.")
        elif action == "reassign" and stops_on not in REASSIGN_STOPS:
            problems.append(f"step {index}: no routing applies to this clock, so it cannot reassign the lead.")
    return problems


def policy_problems(data: dict) -> dict[str, list[str]]:
    """Everything wrong with a policy, by field ({} when it can be saved)."""
    problems: dict[str, list[str]] = {}

    def add(name, message):
        problems.setdefault(name, []).append(message)

    if not str(data.get("key") or "").strip():
        add("key", "A policy needs a key.")
    if not str(data.get("name") or "").strip():
        add("name", "A policy needs a name.")
    if data.get("starts_on") not in START_EVENTS:
        add("starts_on", f"must be one of {', '.join(START_EVENTS)}.")
    if data.get("stops_on") not in STOP_EVENTS:
        add("stops_on", f"must be one of {', '.join(STOP_EVENTS)}.")
    target = data.get("target")
    if not isinstance(target, timedelta) or target <= timedelta(0):
        add("target", "A target must be longer than zero.")
    elif target > MAX_TARGET:
        add("target", f"A target can be at most {MAX_TARGET.days} days.")
    if data.get("temperature", "") not in ("", *TEMPERATURES):
        add("temperature", f"must be empty or one of {', '.join(TEMPERATURES)}.")
    for message in ladder_problems(data.get("ladder", []), stops_on=data.get("stops_on")):
        add("ladder", message)
    return problems


def policy_loosened(old: dict, new: dict) -> list[str]:
    """How a change makes a policy less strict, in words (a longer target, wall clock to business time, a ladder
    step removed or moved later, the policy switched off); empty when it does not."""
    reasons = []
    if new["target"] > old["target"]:
        reasons.append(f"target {old['target']} -> {new['target']}")
    if new["business_time"] and not old["business_time"]:
        reasons.append("wall clock -> business time")
    if old["active"] and not new["active"]:
        reasons.append("switched off")
    old_steps = sorted((float(s["at"]), s["action"]) for s in old["ladder"])
    new_steps = sorted((float(s["at"]), s["action"]) for s in new["ladder"])
    for at, action in old_steps:
        later = [n_at for n_at, n_action in new_steps if n_action == action]
        if not later:
            reasons.append(f"{action} removed")
        elif min(later) > at:
            reasons.append(f"{action} at {at:g}x -> {min(later):g}x")
    return reasons


def schedule_resumed(
    *,
    schedule: list[tuple[datetime, str]],
    taken: int,
    paused_at: datetime,
    resumed_at: datetime,
    between: Callable[[datetime, datetime], timedelta],
    add: Callable[[datetime, timedelta], datetime],
) -> list[tuple[datetime, str]]:
    """A paused clock's steps once it resumes: the `taken` steps, and any that were already due when it paused, keep
    their times; every later step is due once the same time is left after `resumed_at` as was left at `paused_at`
    (`between` and `add` are the wall clock's or the business calendar's, so a pause over a weekend or a holiday
    costs only the working time that really passed before it)."""
    return [
        (at, action) if index < taken or at <= paused_at else (add(resumed_at, between(paused_at, at)), action)
        for index, (at, action) in enumerate(schedule)
    ]


def wall_clock_between(start: datetime, end: datetime) -> timedelta:
    return end - start


def duration_text(duration: timedelta) -> str:
    """A target in words: '5 min', '4 h', '1 h 30 min', '48 h', '5 d'. Up to three days in hours, as the playbook
    writes its targets ('within 48 hours'), longer in days."""
    minutes = int(duration.total_seconds() // 60)
    hours, rest = divmod(minutes, 60)
    if hours == 0:
        return f"{rest} min"
    if hours <= 72:
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"
