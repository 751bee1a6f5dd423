"""Coaching metrics of discovery calls: pure computation (plain data in, figures out; no ORM, no settings, no now()).

The playbook's targets: calls of 20-30 minutes, 7+ questions asked, a next step documented on 100% of calls, the
decision-maker present on 70%. The targets are data (`Targets`, stored per team and edited by managers); the
selectors turn logged calls into `CallFacts` and call `coaching_summary` / `coaching_by` / `call_misses`.

Shares are kept as counts (`Rate`), so a figure is exact and a page rounds it only for display.

A call is flagged for the manager when it misses a per-call target: its length outside the range (or not recorded),
fewer questions than the minimum, or no next step documented (the target is 100%, so every call without one misses
it). The decision-maker target is a share over many calls (70%): one call without the decision-maker does not miss
it, so it is judged on the AE's and the team's figures, not flagged per call.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction

TOP_OBJECTIONS = 3


class TargetsError(ValueError):
    """A target that cannot be used, with the field it belongs to."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Targets:
    call_minutes_min: int = 20
    call_minutes_max: int = 30
    questions_min: int = 7
    next_step_pct: int = 100
    decision_maker_pct: int = 70

    def __post_init__(self):
        for name in ("call_minutes_min", "call_minutes_max"):
            value = getattr(self, name)
            if not isinstance(value, int) or not 1 <= value <= 240:
                raise TargetsError(name, "A call length is a whole number of minutes from 1 to 240.")
        if self.call_minutes_min > self.call_minutes_max:
            raise TargetsError("call_minutes_max", "The longest call must not be shorter than the shortest.")
        if not isinstance(self.questions_min, int) or not 0 <= self.questions_min <= 100:
            raise TargetsError("questions_min", "Questions asked is a whole number from 0 to 100.")
        for name in ("next_step_pct", "decision_maker_pct"):
            value = getattr(self, name)
            if not isinstance(value, int) or not 0 <= value <= 100:
                raise TargetsError(name, "A share is a whole percentage from 0 to 100.")

    @property
    def length_words(self) -> str:
        return f"{self.call_minutes_min}-{self.call_minutes_max} min"


@dataclass(frozen=True)
class CallFacts:
    """What coaching needs to know about one logged discovery call."""

    call_id: int
    ae_id: int
    occurred_at: datetime
    duration_minutes: int | None
    questions_asked: int
    decision_maker_present: bool
    next_step_documented: bool
    unresolved_objections: tuple[str, ...] = ()
    lead_id: int | None = None


@dataclass(frozen=True)
class Rate:
    """`hit` of `of` calls; exact, rounded only for display."""

    hit: int
    of: int

    @property
    def fraction(self) -> Fraction | None:
        return Fraction(self.hit, self.of) if self.of else None

    @property
    def percent(self) -> float | None:
        return None if not self.of else round(100 * self.hit / self.of, 1)

    def meets(self, target_pct: int) -> bool | None:
        return None if not self.of else self.hit * 100 >= target_pct * self.of

    def __str__(self) -> str:
        return "-" if not self.of else f"{self.percent:g}% ({self.hit}/{self.of})"


@dataclass(frozen=True)
class Summary:
    calls: int
    length_in_range: Rate
    average_questions: Fraction | None
    next_step: Rate
    decision_maker: Rate
    unresolved_objections: tuple[tuple[str, int], ...]  # most frequent first, at most TOP_OBJECTIONS
    targets: Targets
    misses: tuple[str, ...] = field(default=())  # the targets this group misses, in words

    @property
    def average_questions_display(self) -> float | None:
        return None if self.average_questions is None else round(float(self.average_questions), 1)


def length_in_range(call: CallFacts, targets: Targets) -> bool:
    minutes = call.duration_minutes
    return minutes is not None and targets.call_minutes_min <= minutes <= targets.call_minutes_max


def call_misses(call: CallFacts, targets: Targets) -> tuple[str, ...]:
    """The per-call targets this call misses, in words (empty when it meets them all)."""
    misses = []
    if call.duration_minutes is None:
        misses.append(f"length not recorded (target {targets.length_words})")
    elif not length_in_range(call, targets):
        misses.append(f"{call.duration_minutes} min long (target {targets.length_words})")
    if call.questions_asked < targets.questions_min:
        misses.append(f"{call.questions_asked} questions asked (target {targets.questions_min}+)")
    if not call.next_step_documented and targets.next_step_pct > 0:
        misses.append("no next step documented")
    return tuple(misses)


def coaching_summary(calls: Iterable[CallFacts], targets: Targets) -> Summary:
    """The figures of a set of calls (one AE's, a team's) against the targets."""
    calls = list(calls)
    total = len(calls)
    objections = Counter(kind for call in calls for kind in call.unresolved_objections)
    top = tuple(sorted(objections.items(), key=lambda item: (-item[1], item[0]))[:TOP_OBJECTIONS])
    length = Rate(sum(1 for call in calls if length_in_range(call, targets)), total)
    questions = Fraction(sum(call.questions_asked for call in calls), total) if total else None
    next_step = Rate(sum(1 for call in calls if call.next_step_documented), total)
    decision_maker = Rate(sum(1 for call in calls if call.decision_maker_present), total)
    misses = []
    if total:
        if length.hit < total:
            misses.append(f"{length} of calls {targets.length_words}")
        if questions < targets.questions_min:
            misses.append(f"{round(float(questions), 1):g} questions on average (target {targets.questions_min}+)")
        if not next_step.meets(targets.next_step_pct):
            misses.append(f"next step documented on {next_step} (target {targets.next_step_pct}%)")
        if not decision_maker.meets(targets.decision_maker_pct):
            misses.append(f"decision-maker present on {decision_maker} (target {targets.decision_maker_pct}%)")
    return Summary(
        calls=total,
        length_in_range=length,
        average_questions=questions,
        next_step=next_step,
        decision_maker=decision_maker,
        unresolved_objections=top,
        targets=targets,
        misses=tuple(misses),
    )


def coaching_by(
    calls: Iterable[CallFacts], targets_of: Callable[[Hashable], Targets], key: Callable[[CallFacts], Hashable]
) -> dict[Hashable, Summary]:
    """One summary per group (`key(call)`: the AE, the team), each against its own targets."""
    groups: dict[Hashable, list[CallFacts]] = {}
    for call in calls:
        groups.setdefault(key(call), []).append(call)
    return {group: coaching_summary(members, targets_of(group)) for group, members in groups.items()}


@dataclass(frozen=True)
class FlaggedCall:
    call: CallFacts
    misses: tuple[str, ...]


def flagged_calls(calls: Iterable[CallFacts], targets_of: Callable[[CallFacts], Targets]) -> list[FlaggedCall]:
    """The calls that miss a per-call target, newest first, each with what it missed."""
    flagged = []
    for call in calls:
        misses = call_misses(call, targets_of(call))
        if misses:
            flagged.append(FlaggedCall(call=call, misses=misses))
    flagged.sort(key=lambda item: (item.call.occurred_at, item.call.call_id), reverse=True)
    return flagged
