"""Next-best-action: which touch a rep owes a lead next, when, and why. Pure (no ORM, no settings, no now()).

The rules are data (`DEFAULT_RULES`, stored per team and edited by managers), validated by `rules_from_data`, which
names the field of each problem:

- By score band: 80-100 call now and invite to a demo; 50-79 a nurture e-mail with a case study, then a LinkedIn
  touch; 0-49 a two-week content drip, then a re-score.
- By segment cadence, in business days (the lead's work calendar: a cadence across a weekend or a holiday skips it):
  Enterprise every 7-10, Mid-Market every 5-7 (between the two the playbook names), SMB every 3-5. A step that waits
  for "cadence" is due after the segment's shortest interval; the longest is named in the reason as the latest.
- No reply to an e-mail within 48 hours escalates to a call, due at the next working opening after the 48 hours.

A sequence belongs to the lead's current stage: it starts when the lead entered the stage (`started_at`), and a
reply, a meeting booked or held, or a stage change stops it for good (the stage change starts the next stage's
sequence, if that stage has one). The band follows the score as it is now: a lead whose score moves to another band
continues with that band's steps, from its last touch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

KINDS = ("call", "email", "linkedin", "content", "rescore")
KIND_LABELS = {
    "call": "Call",
    "email": "E-mail",
    "linkedin": "LinkedIn touch",
    "content": "Content",
    "rescore": "Re-score",
}
SEGMENTS = ("smb", "mid_market", "enterprise")
SEGMENT_LABELS = {"smb": "SMB", "mid_market": "Mid-Market", "enterprise": "Enterprise"}
CADENCE = "cadence"
ESCALATION_SUFFIX = ":no-reply"
MAX_WAIT_DAYS = 60
MAX_STEPS = 10

DEFAULT_RULES: dict = {
    "bands": [
        {
            "name": "hot",
            "min_score": 80,
            "max_score": 100,
            "steps": [{"kind": "call", "wait": 0, "label": "Call now and invite to a demo"}],
        },
        {
            "name": "warm",
            "min_score": 50,
            "max_score": 79,
            "steps": [
                {"kind": "email", "wait": 0, "label": "Nurture e-mail with a case study"},
                {"kind": "linkedin", "wait": CADENCE, "label": "LinkedIn touch"},
            ],
        },
        {
            "name": "cold",
            "min_score": 0,
            "max_score": 49,
            "steps": [
                {"kind": "content", "wait": 0, "label": "Content drip: first piece"},
                {"kind": "content", "wait": 5, "label": "Content drip: second piece"},
                {"kind": "rescore", "wait": 5, "label": "Re-score after the two-week drip"},
            ],
        },
    ],
    "cadence_days": {"enterprise": [7, 10], "mid_market": [5, 7], "smb": [3, 5]},
    "email_no_reply_hours": 48,
}


class CadenceRulesError(ValueError):
    """Rules that cannot be used: `problems` maps each field (e.g. "bands.1.steps.0.kind") to its messages."""

    def __init__(self, problems: dict[str, list[str]]):
        self.problems = problems
        self.field = next(iter(problems))
        super().__init__(f"{self.field}: {problems[self.field][0]}")


@dataclass(frozen=True)
class Step:
    kind: str
    wait: int | str  # business days after the previous touch, or CADENCE
    label: str


@dataclass(frozen=True)
class Band:
    name: str
    min_score: int
    max_score: int
    steps: tuple[Step, ...]

    def key(self, index: int) -> str:
        return f"{self.name}:{index}:{self.steps[index].kind}"


@dataclass(frozen=True)
class CadenceRules:
    bands: tuple[Band, ...]
    cadence_days: dict[str, tuple[int, int]]
    email_no_reply_hours: int

    def band_of(self, score: int | None) -> Band:
        value = 0 if score is None else score
        for band in self.bands:
            if band.min_score <= value <= band.max_score:
                return band
        raise AssertionError("validated bands cover 0-100")  # pragma: no cover


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def rules_problems(data) -> dict[str, list[str]]:
    """Every problem of a rules document, by field; empty when it can be used."""
    problems: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        problems.setdefault(name, []).append(message)

    if not isinstance(data, dict):
        return {"rules": ["The rules are an object with bands, cadence_days and email_no_reply_hours."]}
    unknown = set(data) - {"bands", "cadence_days", "email_no_reply_hours"}
    if unknown:
        add("rules", f"Unknown keys: {', '.join(sorted(unknown))}.")
    bands = data.get("bands")
    if not isinstance(bands, list) or not bands:
        add("bands", "Give at least one score band.")
        bands = []
    names = set()
    covered = []
    for index, band in enumerate(bands):
        where = f"bands.{index}"
        if not isinstance(band, dict):
            add(where, "A band is an object with name, min_score, max_score and steps.")
            continue
        name = band.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 30 or ":" in name:
            add(f"{where}.name", "A band needs a name of at most 30 characters, without ':'.")
        elif name in names:
            add(f"{where}.name", f"The band name {name!r} is used twice.")
        else:
            names.add(name)
        low, high = band.get("min_score"), band.get("max_score")
        if not _is_int(low) or not 0 <= low <= 100:
            add(f"{where}.min_score", "A score from 0 to 100.")
        elif not _is_int(high) or not 0 <= high <= 100:
            add(f"{where}.max_score", "A score from 0 to 100.")
        elif high < low:
            add(f"{where}.max_score", "The highest score must not be below the lowest.")
        else:
            covered.append((low, high, where))
        steps = band.get("steps")
        if not isinstance(steps, list) or not steps or len(steps) > MAX_STEPS:
            add(f"{where}.steps", f"Give 1 to {MAX_STEPS} steps.")
            continue
        for number, step in enumerate(steps):
            at = f"{where}.steps.{number}"
            if not isinstance(step, dict):
                add(at, "A step is an object with kind, wait and label.")
                continue
            if step.get("kind") not in KINDS:
                add(f"{at}.kind", f"Choose one of: {', '.join(KINDS)}.")
            wait = step.get("wait")
            if wait != CADENCE and (not _is_int(wait) or not 0 <= wait <= MAX_WAIT_DAYS):
                add(f"{at}.wait", f'Business days from 0 to {MAX_WAIT_DAYS}, or "{CADENCE}" (the segment\'s).')
            label = step.get("label")
            if not isinstance(label, str) or not label.strip() or len(label) > 120:
                add(f"{at}.label", "Say what to do, in at most 120 characters.")
    if covered and len(covered) == len(bands):
        covered.sort()
        expected = 0
        for low, high, where in covered:
            if low > expected:
                add(f"{where}.min_score", f"Scores {expected}-{low - 1} belong to no band.")
            elif low < expected:
                add(f"{where}.min_score", f"Overlaps another band (scores up to {expected - 1} are taken).")
            expected = max(expected, high + 1)
        if expected <= 100:
            add(f"{covered[-1][2]}.max_score", f"Scores {expected}-100 belong to no band.")
    cadence = data.get("cadence_days")
    if not isinstance(cadence, dict):
        add("cadence_days", "Give the cadence of each segment: smb, mid_market, enterprise.")
    else:
        for segment in SEGMENTS:
            span = cadence.get(segment)
            if not isinstance(span, list | tuple) or len(span) != 2 or not all(_is_int(day) for day in span):
                add(f"cadence_days.{segment}", "Give [shortest, longest] in business days.")
            elif not 1 <= span[0] <= span[1] <= MAX_WAIT_DAYS:
                add(f"cadence_days.{segment}", f"1 <= shortest <= longest <= {MAX_WAIT_DAYS} business days.")
        for segment in set(cadence) - set(SEGMENTS):
            add(f"cadence_days.{segment}", "Not a segment (smb, mid_market, enterprise).")
    hours = data.get("email_no_reply_hours")
    if not _is_int(hours) or not 1 <= hours <= 336:
        add("email_no_reply_hours", "Hours from 1 to 336 before an unanswered e-mail escalates to a call.")
    return problems


def rules_from_data(data) -> CadenceRules:
    """The rules of a validated document; CadenceRulesError names each problem's field."""
    problems = rules_problems(data)
    if problems:
        raise CadenceRulesError(problems)
    bands = tuple(
        Band(
            name=band["name"].strip(),
            min_score=band["min_score"],
            max_score=band["max_score"],
            steps=tuple(Step(kind=s["kind"], wait=s["wait"], label=s["label"].strip()) for s in band["steps"]),
        )
        for band in sorted(data["bands"], key=lambda band: -band["min_score"])
    )
    return CadenceRules(
        bands=bands,
        cadence_days={segment: tuple(data["cadence_days"][segment]) for segment in SEGMENTS},
        email_no_reply_hours=data["email_no_reply_hours"],
    )


# --- business days -------------------------------------------------------------------------------------------------


def add_business_days(calendar, start: datetime, days: int) -> datetime:
    """`days` working days after `start` at the same local time, landed in working hours: the days without working
    hours (weekends, holidays) are skipped. Zero days is the next working opening (or `start` itself in hours)."""
    local = start.astimezone(calendar.zone)
    day = local.date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if calendar.day_periods(day):
            counted += 1
    moment = local if days == 0 else local.replace(year=day.year, month=day.month, day=day.day)
    return calendar.next_opening(moment)


# --- the decision --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeadFacts:
    lead_id: int
    score: int | None
    segment: str
    started_at: datetime  # when the lead entered its current stage: the sequence's start
    stopped_by: str = ""  # what stopped the sequence since started_at, in words ("replied on 2026-03-04"), or ""


@dataclass(frozen=True)
class StepRecord:
    """An action of this sequence already created: its step key, kind, state (open, done, cancelled), and when it
    was done or skipped."""

    step_key: str
    kind: str
    state: str
    due_at: datetime
    closed_at: datetime | None = None


@dataclass(frozen=True)
class Action:
    step_key: str
    kind: str
    due_at: datetime
    reason: str
    label: str


@dataclass(frozen=True)
class Decision:
    """`action` to create, or none with `reason` (waiting for the open one, stopped, finished)."""

    action: Action | None
    reason: str
    waiting_on: str = ""  # step key of the open action the rep owes first
    finished: bool = False  # the sequence is over (stopped or every step taken): nothing more until the stage changes


def _when(moment: datetime) -> str:
    return f"{moment:%a %Y-%m-%d %H:%M}"


def next_action(*, facts: LeadFacts, history: list[StepRecord], rules: CadenceRules, calendar) -> Decision:
    """The next touch a rep owes this lead, with its due time and the reason in words."""
    if facts.stopped_by:
        return Decision(action=None, reason=f"Sequence stopped: {facts.stopped_by}.", finished=True)
    open_steps = [record for record in history if record.state == "open"]
    if open_steps:
        first = min(open_steps, key=lambda record: record.due_at)
        return Decision(action=None, reason="Waiting for the open action.", waiting_on=first.step_key)
    by_key = {record.step_key: record for record in history}
    band = rules.band_of(facts.score)
    score_words = "not scored yet" if facts.score is None else f"score {facts.score}"
    band_words = f"{score_words} ({band.min_score}-{band.max_score}: {band.name})"
    segment = facts.segment if facts.segment in rules.cadence_days else "smb"
    shortest, longest = rules.cadence_days[segment]
    closed = [record.closed_at for record in history if record.closed_at is not None]
    anchor = max([facts.started_at, *closed])
    for index, step in enumerate(band.steps):
        key = band.key(index)
        record = by_key.get(key)
        if record is None:
            if index == 0 or step.wait == 0:
                due = add_business_days(calendar, anchor, 0)
                timing = "now" if index == 0 else "straight after the previous step"
            elif step.wait == CADENCE:
                due = add_business_days(calendar, anchor, shortest)
                latest = add_business_days(calendar, anchor, longest)
                timing = (
                    f"{SEGMENT_LABELS[segment]} cadence every {shortest}-{longest} business days after the last touch "
                    f"on {anchor:%a %Y-%m-%d} (at the latest {latest:%a %Y-%m-%d})"
                )
            else:
                due = add_business_days(calendar, anchor, step.wait)
                timing = f"{step.wait} business days after the last touch on {anchor:%a %Y-%m-%d}"
            reason = f"{band_words}: step {index + 1} of {len(band.steps)}, {step.label.lower()}; {timing}."
            return Decision(
                action=Action(step_key=key, kind=step.kind, due_at=due, reason=reason, label=step.label),
                reason=reason,
            )
        if step.kind == "email" and record.state == "done" and record.closed_at is not None:
            escalation = key + ESCALATION_SUFFIX
            if escalation not in by_key:
                waited = record.closed_at + timedelta(hours=rules.email_no_reply_hours)
                due = add_business_days(calendar, waited, 0)
                reason = (
                    f"{band_words}: no reply to the e-mail sent {_when(record.closed_at)} within "
                    f"{rules.email_no_reply_hours} hours: call instead."
                )
                return Decision(
                    action=Action(
                        step_key=escalation,
                        kind="call",
                        due_at=due,
                        reason=reason,
                        label="Call: the e-mail got no reply",
                    ),
                    reason=reason,
                )
    return Decision(
        action=None,
        reason=f"{band_words}: every step of the {band.name} sequence is taken; nothing due until the stage changes.",
        finished=True,
    )


def stops_sequence(*, kind: str, outcome: str) -> bool:
    """A reply or a meeting stops the sequence: an e-mail answered, a meeting held or booked."""
    outcome = (outcome or "").strip().lower()
    return kind == "meeting" or outcome in ("replied", "meeting booked")
