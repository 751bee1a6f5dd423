"""Turning posted fields into the plain inputs playbooks.rules validates. Only parsing lives here (a number that is
not a number, a date that is not a date); what makes a call or a template valid is decided in rules."""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone

from playbooks import rules

CRITERIA_FORM_MAX = 20  # rows on the template edit page


def _int(value, name: str, problems: dict) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        problems.setdefault(name, []).append("Give a whole number.")
        return None


def _date(value, name: str, problems: dict) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        problems.setdefault(name, []).append("Give the date as YYYY-MM-DD.")
        return None


def _datetime(value, name: str, problems: dict) -> datetime | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        problems.setdefault(name, []).append("Give the date and time as YYYY-MM-DD HH:MM.")
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def call_input_parse(data, *, criteria_keys, objection_keys) -> tuple[rules.CallInput, dict, dict, dict]:
    """(CallInput, answer notes by key, objection notes by key, parse problems by field) from a posted call form.
    Objections ticked: `objection` (repeated keys); per objection `step:<key>` (repeated steps), `resolved:<key>`."""
    problems: dict[str, list[str]] = {}
    answers = {key: data.get(f"answer:{key}", "") for key in criteria_keys}
    answer_notes = {key: data.get(f"answer_notes:{key}", "") for key in criteria_keys}
    objections, objection_notes = [], {}
    for key in data.getlist("objection"):
        steps = tuple(data.getlist(f"step:{key}"))
        objections.append(rules.ObjectionEntry(key=key, steps=steps, resolved=data.get(f"resolved:{key}") == "yes"))
        objection_notes[key] = data.get(f"objection_notes:{key}", "")
    owner = data.get("next_step_owner", "").strip()
    owner_id = None
    if owner:
        owner_id = _int(owner, "next_step_owner", problems)
    call = rules.CallInput(
        occurred_at=_datetime(data.get("occurred_at"), "occurred_at", problems),
        duration_minutes=_int(data.get("duration_minutes"), "duration_minutes", problems),
        questions_asked=_int(data.get("questions_asked"), "questions_asked", problems),
        questions_list=data.get("questions_list", ""),
        decision_maker_present=data.get("decision_maker_present") in ("on", "yes", "true", "1"),
        persona=data.get("persona", ""),
        answers=answers,
        answer_notes=answer_notes,
        objections=tuple(objections),
        next_step=data.get("next_step", ""),
        next_step_on=_date(data.get("next_step_on"), "next_step_on", problems),
        next_step_owner_id=owner_id,
        no_next_step_reason=data.get("no_next_step_reason", ""),
    )
    return call, answer_notes, objection_notes, problems


def template_input_parse(data) -> tuple[list[rules.CriterionInput], list[dict]]:
    """The criteria rows of the edit page (`c-<i>-key`, `-name`, `-description`, `-met_means`, `-required`,
    `-q-<persona>` one question a line, `-remove`), blank and removed rows left out; and the rows as posted, to
    show the form again."""
    criteria, rows = [], []
    for index in range(CRITERIA_FORM_MAX):
        prefix = f"c-{index}-"
        if f"{prefix}key" not in data:
            continue
        row = {
            "key": data.get(f"{prefix}key", "").strip(),
            "name": data.get(f"{prefix}name", ""),
            "description": data.get(f"{prefix}description", ""),
            "met_means": data.get(f"{prefix}met_means", ""),
            "required": data.get(f"{prefix}required") == "on",
            "remove": data.get(f"{prefix}remove") == "on",
            "questions": {
                persona: [line.strip() for line in data.get(f"{prefix}q-{persona}", "").splitlines() if line.strip()]
                for persona in rules.PERSONAS
            },
        }
        blank = not any((row["key"], row["name"].strip(), row["description"].strip(), row["met_means"].strip()))
        if row["remove"] or blank:
            continue
        rows.append(row)
        criteria.append(
            rules.CriterionInput(
                key=row["key"],
                name=row["name"],
                description=row["description"],
                met_means=row["met_means"],
                required=row["required"],
                questions={p: qs for p, qs in row["questions"].items() if qs},
            )
        )
    return criteria, rows
