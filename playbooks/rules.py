"""Playbook decisions, pure: who may log a discovery call on a lead, whether a call qualifies the lead (and what is
missing), and what makes a call log or a template edit invalid. Plain data in, results in words out; no ORM, no
clock (the caller passes `now`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from leadops.rules import Stage

PERM_AE = "leadops.log_discovery_call"
PERM_MANAGER = "leadops.view_team_leads"
# Who reads templates, the objection library and calls: AEs and sales managers.
READ_PERMS = (PERM_AE, PERM_MANAGER)
# Who edits templates, objections and next-step templates: sales managers.
EDIT_PERMS = (PERM_MANAGER,)

MET, PARTIAL, NOT_MET, UNKNOWN = "met", "partial", "not_met", "unknown"
STATUSES = (MET, PARTIAL, NOT_MET, UNKNOWN)
STATUS_LABELS = {MET: "met", PARTIAL: "partial", NOT_MET: "not met", UNKNOWN: "unknown"}
NEXT_STEPS = ("demo", "proposal", "poc", "follow_up", "none")
PERSONAS = ("it_director", "cfo", "operations_lead", "vp_sales")

DURATION_MIN, DURATION_MAX = 1, 240  # minutes; a discovery call of four hours is a typing mistake
QUESTIONS_MAX = 100
TEXT_MAX = 4000
# A call logged this far ahead of now is a typing mistake (a clock skew of a few minutes is not).
FUTURE_TOLERANCE = timedelta(minutes=5)
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


# --- who may log a call --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallActor:
    user_id: int
    perms: frozenset[str]


@dataclass(frozen=True)
class CallLead:
    stage: str
    owner_id: int | None
    sal: bool


def call_refusal(actor: CallActor, lead: CallLead) -> str | None:
    """Why this person may not log a discovery call on this lead now; None when they may. The AE who owns the lead
    logs calls on it once they took it on as an SAL, and while it is an opportunity."""
    if PERM_AE not in actor.perms:
        return "Only account executives log discovery calls."
    if lead.owner_id != actor.user_id:
        return "Only the lead's AE logs discovery calls on it."
    if lead.stage == Stage.ACCEPTED and not lead.sal:
        return "Take the lead on as an SAL before logging a discovery call."
    if lead.stage not in (Stage.ACCEPTED, Stage.OPPORTUNITY):
        label = Stage.LABELS.get(lead.stage, lead.stage)
        return f"A {label} lead is not in discovery; calls are logged on SALs and opportunities."
    return None


def nurture_refusal(actor: CallActor, lead: CallLead, *, qualified: bool) -> str | None:
    """Why the AE may not send the lead back to nurture after a call; None when they may."""
    refusal = call_refusal(actor, lead)
    if refusal:
        return refusal
    if qualified:
        return "This call qualified the lead; open the opportunity instead."
    if lead.stage != Stage.ACCEPTED:
        return "Only an accepted lead goes back to nurture; an opportunity is closed as lost instead."
    return None


def opportunity_refusal(actor: CallActor, lead: CallLead, *, qualified: bool) -> str | None:
    refusal = call_refusal(actor, lead)
    if refusal:
        return refusal
    if not qualified:
        return "This call did not qualify the lead: every required criterion must be met."
    if lead.stage != Stage.ACCEPTED:
        return "This lead already has its opportunity."
    return None


# --- the outcome ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionFacts:
    key: str
    name: str
    required: bool = True


@dataclass(frozen=True)
class Outcome:
    qualified: bool
    missing: tuple[str, ...]  # keys of the required criteria not met
    reasons: tuple[str, ...]

    @property
    def summary(self) -> str:
        return "; ".join(self.reasons)


def qualification_outcome(criteria, answers: dict[str, str]) -> Outcome:
    """Qualified when every required criterion is met; otherwise the required criteria not met, each with what
    was found ("Budget: partial"). Optional criteria are reported but never decide."""
    missing, reasons = [], []
    for criterion in criteria:
        status = answers.get(criterion.key, UNKNOWN)
        label = STATUS_LABELS.get(status, status)
        if status == MET:
            reasons.append(f"{criterion.name}: met")
        elif criterion.required:
            missing.append(criterion.key)
            reasons.append(f"{criterion.name}: {label} (required)")
        else:
            reasons.append(f"{criterion.name}: {label} (optional)")
    if not any(c.required for c in criteria):
        return Outcome(False, (), ("the template has no required criterion", *reasons))
    if missing:
        names = [c.name for c in criteria if c.key in missing]
        return Outcome(False, tuple(missing), (f"not qualified: missing {', '.join(names)}", *reasons))
    return Outcome(True, (), ("qualified: every required criterion met", *reasons))


# --- validation of a call log --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectionEntry:
    key: str
    steps: tuple[str, ...] = ()  # of listen, acknowledge, clarify, respond, confirm
    resolved: bool = False


@dataclass(frozen=True)
class CallInput:
    occurred_at: datetime | None
    duration_minutes: int | None
    questions_asked: int | None
    questions_list: str = ""
    decision_maker_present: bool = False
    persona: str = ""
    answers: dict[str, str] = field(default_factory=dict)  # criterion key -> status
    answer_notes: dict[str, str] = field(default_factory=dict)
    objections: tuple[ObjectionEntry, ...] = ()
    next_step: str = ""
    next_step_on: date | None = None
    next_step_owner_id: int | None = None
    no_next_step_reason: str = ""


HANDLING_STEPS = ("listen", "acknowledge", "clarify", "respond", "confirm")


def call_problems(call: CallInput, *, criteria_keys, objection_keys, owner_ids, now: datetime) -> dict[str, list[str]]:
    """Everything wrong with a call log, by field ("answer:<key>", "objection:<key>" for per-item fields)."""
    problems: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        problems.setdefault(name, []).append(message)

    if call.occurred_at is None:
        add("occurred_at", "When did the call take place?")
    elif call.occurred_at > now + FUTURE_TOLERANCE:
        add("occurred_at", "A call cannot be in the future.")
    if call.duration_minutes is None:
        add("duration_minutes", "How long did the call last, in minutes?")
    elif not DURATION_MIN <= call.duration_minutes <= DURATION_MAX:
        add("duration_minutes", f"Give a duration between {DURATION_MIN} and {DURATION_MAX} minutes.")
    listed = [line for line in (call.questions_list or "").splitlines() if line.strip()]
    if call.questions_asked is None:
        add("questions_asked", "How many questions did you ask?")
    elif not 0 <= call.questions_asked <= QUESTIONS_MAX:
        add("questions_asked", f"Give a number of questions between 0 and {QUESTIONS_MAX}.")
    elif call.questions_asked < len(listed):
        add("questions_asked", f"You listed {len(listed)} questions; the count cannot be lower.")
    if call.persona and call.persona not in PERSONAS:
        add("persona", "Choose a persona from the list.")
    for key in criteria_keys:
        status = call.answers.get(key)
        if status not in STATUSES:
            add(f"answer:{key}", "Choose met, partial, not met or unknown.")
    for key in call.answers:
        if key not in criteria_keys:
            add("answers", f"'{key}' is not a criterion of this template.")
    for key, note in call.answer_notes.items():
        if len(note or "") > TEXT_MAX:
            add(f"answer:{key}", f"Keep the notes under {TEXT_MAX} characters.")
    seen = set()
    for entry in call.objections:
        if entry.key not in objection_keys:
            add("objections", f"'{entry.key}' is not an objection of the library.")
        elif entry.key in seen:
            add(f"objection:{entry.key}", "Each objection is recorded once per call.")
        seen.add(entry.key)
        unknown_steps = [step for step in entry.steps if step not in HANDLING_STEPS]
        if unknown_steps:
            add(f"objection:{entry.key}", f"Unknown handling step: {', '.join(unknown_steps)}.")
        if entry.resolved and "confirm" not in entry.steps:
            add(f"objection:{entry.key}", "An objection is resolved only once you confirmed it with the buyer.")
    if call.next_step not in NEXT_STEPS:
        add("next_step", "Choose the next step (or none, with the reason).")
    elif call.next_step == "none":
        if not (call.no_next_step_reason or "").strip():
            add("no_next_step_reason", "Say why there is no next step.")
    else:
        if call.next_step_on is None:
            add("next_step_on", "When is the next step?")
        elif call.occurred_at is not None and call.next_step_on < call.occurred_at.date():
            add("next_step_on", "The next step cannot be before the call.")
        if call.next_step_owner_id is None:
            add("next_step_owner", "Who owns the next step?")
        elif call.next_step_owner_id not in owner_ids:
            add("next_step_owner", "Choose the owner from the list.")
    if len(call.no_next_step_reason or "") > TEXT_MAX:
        add("no_next_step_reason", f"Keep the reason under {TEXT_MAX} characters.")
    return problems


# --- validation of a template edit ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionInput:
    key: str
    name: str
    description: str
    met_means: str
    required: bool = True
    questions: dict[str, list[str]] = field(default_factory=dict)


def template_problems(*, name: str, criteria) -> dict[str, list[str]]:
    """What is wrong with an edited template, by field ("criteria", "criterion:<index>:<field>")."""
    problems: dict[str, list[str]] = {}

    def add(name_: str, message: str) -> None:
        problems.setdefault(name_, []).append(message)

    if not (name or "").strip():
        add("name", "Give the template a name.")
    if not criteria:
        add("criteria", "A template needs at least one criterion.")
    elif not any(c.required for c in criteria):
        add("criteria", "Mark at least one criterion as required, or no call could ever qualify a lead.")
    keys_seen: dict[str, int] = {}
    for index, criterion in enumerate(criteria):
        prefix = f"criterion:{index}"
        key = (criterion.key or "").strip()
        if not key:
            add(f"{prefix}:key", "Give the criterion a key, e.g. budget.")
        elif not KEY_RE.match(key):
            add(f"{prefix}:key", "Use lower-case letters, digits, - and _ (up to 40).")
        elif key in keys_seen:
            add(f"{prefix}:key", f"The key '{key}' is used by criterion {keys_seen[key] + 1} already.")
        else:
            keys_seen[key] = index
        for attr, message in (
            ("name", "Give the criterion a name."),
            ("description", "Describe the criterion."),
            ("met_means", 'Say what "met" means.'),
        ):
            if not (getattr(criterion, attr) or "").strip():
                add(f"{prefix}:{attr}", message)
        for persona, questions in (criterion.questions or {}).items():
            if persona not in PERSONAS:
                add(f"{prefix}:questions", f"'{persona}' is not a persona.")
            elif any(not (q or "").strip() for q in questions):
                add(f"{prefix}:questions", "A guiding question cannot be empty.")
    return problems
