"""The demo world's discovery calls, so that a fresh `make run` shows coaching figures and flagged calls for every
AE and manager, and the lead pages of SALs and opportunities show the calls behind them.

Connected to leadops.demo.signals.demo_world_seeded in playbooks/apps.py, after handoff's answer (app order), which
marks the accepted leads the AEs have taken on as SALs. Every call goes through `playbooks.services.call_log` with
explicit times, as the lead's AE would have logged it, so it is validated and audited like any other.

Which leads: those the service lets an AE log a call on, the SALs and the open opportunities of the AEs who own
them. Won and lost deals get no calls: the service refuses calls on a closed lead, and the demo does not go around
it (those deals are mostly older than the coaching page's 90 days anyway). An opportunity's last call qualified it,
some had an earlier call that did not; an SAL's call qualified it or says what is still missing (the AE opens the
opportunity or sends the lead to nurture from it in the demo). Each AE's calls follow a mix of habits, so some
meet the coaching targets and some miss them (short or long calls, few questions, no decision-maker, no next step
with a reason, an unresolved pricing objection). Drawn from the demo's seed: the same seed gives the same calls.
"""

from __future__ import annotations

import logging
import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from leadops.models import Lead
from leadops.rules import Stage
from playbooks import rules
from playbooks.models import Objection, QualificationTemplate
from playbooks.services import call_log

logger = logging.getLogger(__name__)

MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
# The calls, AE by AE and in time order, take these habits in turn, so any three calls in a row have one that meets
# every target and one flagged for the manager (a short or long call, few questions, no next step); a missing
# decision-maker or an unresolved pricing objection shows in the figures rather than as a flag.
HABITS = (
    "on_target",
    "short",
    "no_decision_maker",
    "on_target",
    "few_questions",
    "pricing_unresolved",
    "on_target",
    "no_next_step",
    "on_target",
    "long",
)
# A call that qualified the lead always has a next step; the habit it would have missed becomes a short call.
QUALIFIED_INSTEAD_OF_NO_NEXT_STEP = "short"
FIRST_CALL_SHARE = 0.35  # of opportunities had a first call that did not qualify them yet
SAL_QUALIFIED_SHARE = 0.4
NO_NEXT_STEP_REASONS = (
    "The buyer wants to talk to their board first; they will come back to us.",
    "No project before the next budget round; agreed to check in next quarter.",
    "The champion is leaving the company; we need a new contact first.",
)
NOTES = {
    "met": "Confirmed on the call.",
    "partial": "Partly: the buyer is still checking.",
    "not_met": "Not there yet.",
    "unknown": "Did not come up.",
}


def demo_playbooks_seeded(sender=None, *, anchor: date, seed: int, **kwargs) -> dict[str, int]:
    """Receiver of demo_world_seeded: log the demo's discovery calls; returns how many, qualified or not."""
    templates = list(QualificationTemplate.objects.filter(active=True).order_by("key"))
    objections = set(Objection.objects.values_list("key", flat=True))
    if not templates:
        logger.info("Demo discovery calls skipped: no qualification template.")
        return {}
    # The history ends at midnight at the start of the anchor day; a call is never later than that or than now.
    end = min(datetime(anchor.year, anchor.month, anchor.day, tzinfo=UTC), timezone.now())
    rng = random.Random(f"{seed}:playbooks")
    planned: dict[int, list[tuple[datetime, Lead, bool]]] = {}  # AE id -> (when, lead, qualifies)
    leads = (
        Lead.objects.filter(owner__isnull=False, sal_at__isnull=False, stage__in=(Stage.ACCEPTED, Stage.OPPORTUNITY))
        .select_related("owner__profile")
        .order_by("pk")
    )
    for lead in leads:
        profile = getattr(lead.owner, "profile", None)
        time_zone = profile.time_zone if profile else "UTC"

        def draw(low, high, time_zone=time_zone):
            return _in_office(rng, _between(rng, low, high), time_zone, low, high)

        start = lead.sal_at + HOUR
        if lead.stage == Stage.OPPORTUNITY:
            last = min(lead.opportunity_at or end, end) - HOUR
            if last <= start:
                continue
            when = draw(start + (last - start) / 2, last)
            if rng.random() < FIRST_CALL_SHARE and when - start > 2 * DAY:
                planned.setdefault(lead.owner_id, []).append((draw(start, when - DAY), lead, False))
            planned.setdefault(lead.owner_id, []).append((when, lead, True))
        else:
            last = min(start + 5 * DAY, end - 10 * MINUTE)
            if last <= start:
                continue  # taken on a moment ago: the AE has not called yet
            planned.setdefault(lead.owner_id, []).append((draw(start, last), lead, rng.random() < SAL_QUALIFIED_SHARE))
    counts = {"calls": 0, "qualified": 0, "not_qualified": 0}
    turn = rng.randrange(len(HABITS))
    for ae_id in sorted(planned):
        for when, lead, qualifies in sorted(planned[ae_id], key=lambda item: (item[0], item[1].pk)):
            habit = HABITS[turn % len(HABITS)]
            turn += 1
            if qualifies and habit == "no_next_step":
                habit = QUALIFIED_INSTEAD_OF_NO_NEXT_STEP
            template = templates[rng.randrange(len(templates))]
            call = _call(
                rng, template, habit=habit, qualifies=qualifies, when=when, ae=lead.owner, objections=objections
            )
            record = call_log(
                lead=lead,
                by=lead.owner,
                template=template,
                call=call,
                notes=_notes(qualifies),
                next_step_notes="" if call.next_step == "none" else "Invite sent from the call.",
                now=when + timedelta(minutes=call.duration_minutes + rng.randint(5, 90)),
            )
            counts["calls"] += 1
            counts[record.outcome] += 1
    return counts


def _between(rng: random.Random, low: datetime, high: datetime) -> datetime:
    span = max(0, int((high - low).total_seconds()))
    return low + timedelta(seconds=rng.randint(0, span))


def _in_office(rng: random.Random, when: datetime, time_zone: str, low: datetime, high: datetime) -> datetime:
    """A working hour on a weekday of the AE's time zone, on the day drawn or the nearest one that stays within
    [low, high]; `when` as drawn when there is none (an SAL opened and qualified the same evening)."""
    local = when.astimezone(ZoneInfo(time_zone))
    hour, minute = rng.randint(9, 16), rng.randrange(0, 60, 5)
    for days in (0, 1, -1, 2, -2, 3, -3):
        day = local + timedelta(days=days)
        if day.weekday() >= 5:
            continue
        moved = day.replace(hour=hour, minute=minute, second=0, microsecond=0).astimezone(UTC)
        if low <= moved <= high:
            return moved
        for other in (9, 16):  # the window may hold only the start or the end of that day
            moved = day.replace(hour=other, minute=minute, second=0, microsecond=0).astimezone(UTC)
            if low <= moved <= high:
                return moved
    return when


def _call(rng, template, *, habit: str, qualifies: bool, when: datetime, ae, objections: set[str]) -> rules.CallInput:
    criteria = list(template.criteria.order_by("order", "pk"))
    answers = {c.key: "met" for c in criteria}
    if not qualifies:
        required = [c.key for c in criteria if c.required] or [c.key for c in criteria]
        for key in rng.sample(required, k=min(len(required), rng.choice((1, 1, 2)))):
            answers[key] = rng.choice(("partial", "partial", "not_met", "unknown"))
    raised = []
    if habit == "pricing_unresolved" and "pricing" in objections:
        raised.append(rules.ObjectionEntry(key="pricing", steps=("listen", "acknowledge", "clarify", "respond")))
    others = sorted(objections - {"other", *(entry.key for entry in raised)})
    if others and rng.random() < 0.5:
        key = rng.choice(others)
        resolved = rng.random() < 0.7
        steps = rules.HANDLING_STEPS if resolved else rules.HANDLING_STEPS[:3]
        raised.append(rules.ObjectionEntry(key=key, steps=steps, resolved=resolved))
    duration = {"short": rng.randint(8, 15), "long": rng.randint(38, 55)}.get(habit, rng.randint(20, 30))
    questions = rng.randint(3, 5) if habit == "few_questions" else rng.randint(7, 11)
    if habit == "no_next_step":
        next_step, on, reason = "none", None, rng.choice(NO_NEXT_STEP_REASONS)
    else:
        next_step = rng.choice(("demo", "proposal", "poc")) if qualifies else rng.choice(("follow_up", "demo"))
        on, reason = (when + timedelta(days=rng.randint(2, 10))).date(), ""
    return rules.CallInput(
        occurred_at=when,
        duration_minutes=duration,
        questions_asked=questions,
        decision_maker_present=habit != "no_decision_maker" and (qualifies or rng.random() < 0.8),
        persona=rng.choice(rules.PERSONAS),
        answers=answers,
        answer_notes={key: NOTES[status] for key, status in answers.items()},
        objections=tuple(raised),
        next_step=next_step,
        next_step_on=on,
        next_step_owner_id=None if next_step == "none" else ae.pk,
        no_next_step_reason=reason,
    )


def _notes(qualifies: bool) -> str:
    if qualifies:
        return "Every required criterion confirmed; the buyer wants to see it working on their data."
    return "Good conversation, but not every required criterion is there yet."
