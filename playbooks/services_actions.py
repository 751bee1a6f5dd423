"""Writes of next-best-action: the cadence sweep that creates due actions, reps completing or skipping them, and the
sequence stopping on a reply, a meeting or a stage change. The decisions are playbooks.cadence's."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from leadops.models import Activity, Lead
from leadops.rules import Stage
from leadops.services import Actor, audit_log
from playbooks import cadence
from playbooks.models import CadenceRules, NextAction, NextActionState, SequenceEnd

# The stages a rep works a lead in by touches: an SDR's MQLs and SQLs, an AE's accepted leads (opportunities are
# worked through discovery calls and deals, not a nurture cadence).
CADENCE_STAGES = (Stage.MQL, Stage.SQL, Stage.ACCEPTED)
SWEEP_LIMIT = 500
SWEEP_ACTOR = "playbooks next-best-action sweep"


class ActionError(ValueError):
    def __init__(self, message: str, *, field: str = ""):
        super().__init__(message)
        self.field = field


# --- rules ---------------------------------------------------------------------------------------------------------


def rules_by_team() -> dict[int | None, cadence.CadenceRules]:
    """Every team's rules (None: the defaults; the shipped ones when that row is missing). One query."""
    found: dict[int | None, cadence.CadenceRules] = {None: cadence.rules_from_data(cadence.DEFAULT_RULES)}
    for team_id, data in CadenceRules.objects.values_list("team_id", "rules"):
        try:
            found[team_id] = cadence.rules_from_data(data)
        except cadence.CadenceRulesError:
            continue  # saved rules are validated; a row edited around the service falls back to the defaults
    return found


def cadence_rules_save(*, by, team, data) -> CadenceRules:
    """Save a team's rules (team None: the defaults) after validating them; CadenceRulesError names the fields."""
    cadence.rules_from_data(data)
    now = timezone.now()
    with transaction.atomic():
        row, _created = CadenceRules.objects.update_or_create(
            team=team, defaults={"rules": data, "updated_by": by, "updated_at": now}
        )
        audit_log(
            actor=Actor(user=by),
            action="playbooks.cadence_rules_save",
            object_type="playbooks.cadencerules",
            object_id=row.pk,
            object_repr=str(row),
            changes={"rules": data},
            at=now,
        )
    return row


# --- the sweep -----------------------------------------------------------------------------------------------------


@dataclass
class SweepResult:
    leads: int = 0
    created: int = 0
    ended: int = 0
    kinds: dict[str, int] = field(default_factory=dict)


def _due_leads(*, lead_ids=None):
    """Leads in a cadence stage with an owner, no open action and no ended sequence for their current stage."""
    open_action = NextAction.objects.filter(lead=OuterRef("pk"), state=NextActionState.OPEN)
    ended = SequenceEnd.objects.filter(lead=OuterRef("pk"), sequence_started_at=OuterRef("stage_changed_at"))
    leads = Lead.objects.filter(stage__in=CADENCE_STAGES, owner__isnull=False)
    if lead_ids is not None:
        leads = leads.filter(pk__in=lead_ids)
    return (
        leads.filter(~Exists(open_action), ~Exists(ended))
        .select_related("account", "owner__profile")
        .order_by("stage_changed_at", "pk")
    )


def _stops(leads: list[Lead]) -> dict[int, str]:
    """What stopped each lead's sequence since it entered its stage: a reply or a meeting, in words."""
    if not leads:
        return {}
    earliest = min(lead.stage_changed_at for lead in leads)
    started = {lead.pk: lead.stage_changed_at for lead in leads}
    rows = (
        Activity.objects.filter(lead_id__in=started, occurred_at__gte=earliest)
        .filter(Q(kind="meeting") | Q(outcome__iexact="replied") | Q(outcome__iexact="meeting booked"))
        .order_by("occurred_at")
        .values_list("lead_id", "kind", "outcome", "occurred_at")
    )
    stops: dict[int, str] = {}
    for lead_id, kind, outcome, occurred_at in rows:
        if lead_id not in stops and occurred_at >= started[lead_id]:
            stops[lead_id] = _stop_words(kind=kind, outcome=outcome, at=occurred_at)
    return stops


def _stop_words(*, kind: str, outcome: str, at: datetime) -> str:
    if kind == "meeting":
        return f"meeting on {at:%Y-%m-%d}"
    if outcome.lower() == "meeting booked":
        return f"meeting booked on {at:%Y-%m-%d}"
    return f"the lead replied on {at:%Y-%m-%d}"


def _calendars(leads: list[Lead]) -> dict[int, object]:
    """Each lead's work calendar (its last territory's, else the default office hours): one query."""
    from routing.models import RoutingDecision
    from sla.services import calendar_of_territory

    territory_of: dict[int, object] = {}
    decisions = (
        RoutingDecision.objects.filter(lead_id__in=[lead.pk for lead in leads], territory__isnull=False)
        .select_related("territory")
        .order_by("lead_id", "-decided_at", "-pk")
    )
    for decision in decisions:
        territory_of.setdefault(decision.lead_id, decision.territory)
    by_territory: dict[int | None, object] = {}
    calendars = {}
    for lead in leads:
        territory = territory_of.get(lead.pk)
        key = territory.pk if territory else None
        if key not in by_territory:
            by_territory[key] = calendar_of_territory(territory)[0]
        calendars[lead.pk] = by_territory[key]
    return calendars


def _team_of(lead: Lead) -> int | None:
    profile = getattr(lead.owner, "profile", None) if lead.owner_id else None
    return profile.team_id if profile else None


def lead_facts(lead: Lead, stopped_by: str = "") -> cadence.LeadFacts:
    return cadence.LeadFacts(
        lead_id=lead.pk,
        score=lead.score_total,
        segment=lead.account.segment if lead.account_id else "smb",
        started_at=lead.stage_changed_at,
        stopped_by=stopped_by,
    )


def _history(leads: list[Lead]) -> dict[int, list[cadence.StepRecord]]:
    started = {lead.pk: lead.stage_changed_at for lead in leads}
    history: dict[int, list[cadence.StepRecord]] = {lead_id: [] for lead_id in started}
    rows = NextAction.objects.filter(lead_id__in=started).values_list(
        "lead_id", "sequence_started_at", "step_key", "kind", "state", "due_at", "closed_at"
    )
    for lead_id, sequence_started_at, step_key, kind, state, due_at, closed_at in rows:
        if sequence_started_at == started[lead_id]:
            history[lead_id].append(cadence.StepRecord(step_key, kind, state, due_at, closed_at))
    return history


def next_actions_create(*, now: datetime | None = None, limit: int = SWEEP_LIMIT, lead_ids=None) -> SweepResult:
    """Create the next due action of every lead that owes one (at most `limit` leads, longest in their stage first),
    and end the sequences that are over. Safe to run twice or twice at once: an action is unique per lead, sequence
    and step, and the open one per lead and step; a run cut short is finished by the next one."""
    now = now or timezone.now()
    leads = list(_due_leads(lead_ids=lead_ids)[:limit])  # one query
    result = SweepResult(leads=len(leads))
    if not leads:
        return result
    stops = _stops(leads)
    history = _history(leads)
    calendars = _calendars(leads)
    rules = rules_by_team()
    actions, ends = [], []
    for lead in leads:
        team_rules = rules.get(_team_of(lead), rules[None])
        decision = cadence.next_action(
            facts=lead_facts(lead, stops.get(lead.pk, "")),
            history=history[lead.pk],
            rules=team_rules,
            calendar=calendars[lead.pk],
        )
        if decision.action is not None:
            action = decision.action
            actions.append(
                NextAction(
                    lead=lead,
                    owner_id=lead.owner_id,
                    sequence_started_at=lead.stage_changed_at,
                    step_key=action.step_key,
                    kind=action.kind,
                    label=action.label,
                    due_at=action.due_at,
                    reason=action.reason,
                    created_at=now,
                )
            )
            result.kinds[action.kind] = result.kinds.get(action.kind, 0) + 1
        elif decision.finished:
            ends.append(
                SequenceEnd(lead=lead, sequence_started_at=lead.stage_changed_at, reason=decision.reason[:300], at=now)
            )
    ids = [lead.pk for lead in leads]
    with transaction.atomic():
        # ignore_conflicts returns every object given, inserted or not: count what the run really added.
        before = NextAction.objects.filter(lead_id__in=ids).count() if actions else 0
        NextAction.objects.bulk_create(actions, ignore_conflicts=True, batch_size=500)
        result.created = NextAction.objects.filter(lead_id__in=ids).count() - before if actions else 0
        ended_before = SequenceEnd.objects.filter(lead_id__in=ids).count() if ends else 0
        SequenceEnd.objects.bulk_create(ends, ignore_conflicts=True, batch_size=500)
        result.ended = SequenceEnd.objects.filter(lead_id__in=ids).count() - ended_before if ends else 0
    return result


# --- stopping and completing ---------------------------------------------------------------------------------------


def sequence_stop(*, lead_id: int, reason: str, at: datetime, end_sequence: bool = True) -> int:
    """Cancel the lead's open actions with `reason`; with `end_sequence`, the sweep also passes the lead by until
    its stage changes. Returns the number of actions cancelled; running it twice cancels nothing twice."""
    with transaction.atomic():
        cancelled = NextAction.objects.filter(lead_id=lead_id, state=NextActionState.OPEN).update(
            state=NextActionState.CANCELLED, closed_at=at, closed_reason=reason[:200]
        )
        if end_sequence:
            started = Lead.objects.filter(pk=lead_id).values_list("stage_changed_at", flat=True).first()
            if started is not None:
                SequenceEnd.objects.get_or_create(
                    lead_id=lead_id, sequence_started_at=started, defaults={"reason": reason[:300], "at": at}
                )
    return cancelled


def actions_for_activity(*, lead_id: int, activity_id: int) -> str:
    """A reply or a meeting stops the lead's sequence; a call or an e-mail the rep logs completes the open action of
    that kind, and the lead's next action is planned at once. Returns what happened: stopped, done or nothing."""
    activity = Activity.objects.filter(pk=activity_id).values("kind", "outcome", "occurred_at", "rep_id").first()
    if activity is None:
        return "nothing"
    if cadence.stops_sequence(kind=activity["kind"], outcome=activity["outcome"]):
        words = _stop_words(kind=activity["kind"], outcome=activity["outcome"], at=activity["occurred_at"])
        sequence_stop(lead_id=lead_id, reason=f"Sequence stopped: {words}", at=activity["occurred_at"])
        return "stopped"
    if activity["kind"] not in ("call", "email"):
        return "nothing"
    open_action = (
        NextAction.objects.filter(lead_id=lead_id, state=NextActionState.OPEN, kind=activity["kind"])
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    if open_action is None:
        return "nothing"
    done = NextAction.objects.filter(pk=open_action, state=NextActionState.OPEN).update(
        state=NextActionState.DONE,
        closed_at=activity["occurred_at"],
        closed_reason=f"{activity['kind']} logged",
    )
    if done:
        next_actions_create(lead_ids=[lead_id], limit=1)
    return "done" if done else "nothing"


def actions_for_stage_change(*, lead_ids, to_stage: str, at: datetime) -> int:
    """A stage change stops the sequences of the stage left: open actions started before `at` are cancelled (the
    next sweep starts the new stage's sequence when that stage has one)."""
    return NextAction.objects.filter(
        lead_id__in=list(lead_ids), state=NextActionState.OPEN, sequence_started_at__lt=at
    ).update(
        state=NextActionState.CANCELLED, closed_at=at, closed_reason=f"Sequence stopped: the lead moved to {to_stage}"
    )


def next_action_close(*, action: NextAction, by, done: bool, note: str = "", at: datetime | None = None) -> NextAction:
    """The owner marks an open action done, or skips it (a skip needs a note); the next one is planned at once."""
    at = at or timezone.now()
    note = (note or "").strip()
    if action.owner_id != by.pk:
        raise ActionError("Only the rep who owes this action can close it.")
    if not done and not note:
        raise ActionError("Say why you skip this action.", field="note")
    state = NextActionState.DONE if done else NextActionState.CANCELLED
    reason = (note or "done")[:200] if done else f"skipped: {note}"[:200]
    with transaction.atomic():
        updated = NextAction.objects.filter(pk=action.pk, state=NextActionState.OPEN).update(
            state=state, closed_at=at, closed_reason=reason
        )
        if not updated:
            raise ActionError("This action is no longer open.")
        audit_log(
            actor=Actor(user=by),
            action="playbooks.next_action_done" if done else "playbooks.next_action_skip",
            object_type="leadops.lead",
            object_id=action.lead_id,
            object_repr=f"lead {action.lead_id}",
            reason=reason,
            changes={"action": action.pk, "step": action.step_key},
            at=at,
        )
    next_actions_create(lead_ids=[action.lead_id], limit=1, now=at)
    action.refresh_from_db()
    return action
