"""Writes of the playbooks: a manager edits a template (a new version), an objection's talk track or a next-step
template; an AE logs a discovery call, and from a qualified call opens the opportunity (handoff.opportunity_save,
the lead moves to Opportunity) or from one that did not qualify sends the lead back to nurture with what was
missing (Accepted -> Rejected -> Nurture through the lifecycle service).

Why nurture and not back to the SDR (handoff's lead_return): a return says the handoff was wrong, the lead should
not have been accepted, and it puts the lead back in the SDR's accept queue with a fresh clock. A discovery call that
finds no budget or no timeline does not blame the SDR: the buyer is not ready, which is what nurture is for (the lead
is re-scored and comes back as an MQL when it warms up). An AE who thinks the SDR erred still has the return button.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from handoff.services import LeadChanged, opportunity_save
from leadops.models import Lead, Opportunity
from leadops.rules import Stage
from leadops.services import as_actor, audit_log, lead_transition
from playbooks import rules, selectors
from playbooks.models import (
    HANDLING_STEPS,
    Criterion,
    CriterionAnswer,
    DiscoveryCall,
    NextStepTemplate,
    Objection,
    ObjectionRaised,
    QualificationTemplate,
)

NOTE_MAX = rules.TEXT_MAX
STEP_FIELD = {
    "listen": "listened",
    "acknowledge": "acknowledged",
    "clarify": "clarified",
    "respond": "responded",
    "confirm": "confirmed",
}


def _require_edit(by) -> None:
    if not selectors.can_edit(by):
        raise PermissionDenied("Only sales managers edit the playbook.")


# --- managers: templates, objections, next-step templates ----------------------------------------------------------


def template_edit(
    *,
    template: QualificationTemplate,
    by,
    name: str,
    description: str,
    criteria: list[rules.CriterionInput],
    change_note: str = "",
    now: datetime | None = None,
) -> QualificationTemplate:
    """Save an edit of the active version as the next version, which becomes the active one. The old version and
    its criteria stay untouched, so calls logged against it keep what they were logged against."""
    _require_edit(by)
    problems = rules.template_problems(name=name, criteria=criteria)
    if problems:
        raise ValidationError(problems)
    now = now or timezone.now()
    with transaction.atomic():
        versions = list(QualificationTemplate.objects.select_for_update().filter(key=template.key))
        current = next((v for v in versions if v.active), None)
        if current is None or current.pk != template.pk:
            newest = max(v.version for v in versions) if versions else template.version
            raise LeadChanged(
                f"{template.name} was edited in the meantime: version {newest} is the current one; "
                "reload it and make your change there."
            )
        number = max(v.version for v in versions) + 1
        QualificationTemplate.objects.filter(pk=current.pk).update(active=False)
        new = QualificationTemplate.objects.create(
            key=current.key,
            name=name.strip()[:100],
            version=number,
            active=True,
            description=(description or "").strip(),
            change_note=(change_note or "").strip(),
            created_by=by,
            created_at=now,
        )
        Criterion.objects.bulk_create(
            Criterion(
                template=new,
                key=c.key.strip(),
                name=c.name.strip()[:100],
                description=c.description.strip(),
                met_means=c.met_means.strip(),
                required=c.required,
                order=order,
                questions={p: [q.strip() for q in qs if q.strip()] for p, qs in (c.questions or {}).items() if qs},
            )
            for order, c in enumerate(criteria, start=1)
        )
        audit_log(
            actor=_actor(by),
            action="playbook.template_edit",
            obj=new,
            reason=new.change_note,
            at=now,
            changes={"version": [current.version, number], "criteria": [c.key for c in criteria]},
        )
    return new


def _actor(by):
    return as_actor(by)


def objection_edit(*, objection: Objection, by, name: str, track: dict[str, str], now=None) -> Objection:
    """Change an objection's name and talk track (one text per handling step, none empty)."""
    _require_edit(by)
    problems: dict[str, list[str]] = {}
    if not (name or "").strip():
        problems["name"] = ["Give the objection a name."]
    for stem, label in HANDLING_STEPS:
        text = (track.get(stem) or "").strip()
        if not text:
            problems[stem] = [f"Write what the rep says or does to {label.lower()}."]
        elif len(text) > NOTE_MAX:
            problems[stem] = [f"Keep it under {NOTE_MAX} characters."]
    if problems:
        raise ValidationError(problems)
    now = now or timezone.now()
    with transaction.atomic():
        objection.name = name.strip()[:100]
        for stem, _label in HANDLING_STEPS:
            setattr(objection, stem, track[stem].strip())
        objection.updated_by, objection.updated_at = by, now
        objection.save()
        audit_log(actor=_actor(by), action="playbook.objection_edit", obj=objection, at=now)
    return objection


def next_step_template_edit(*, template: NextStepTemplate, by, name: str, body: str, now=None) -> NextStepTemplate:
    _require_edit(by)
    problems = {}
    if not (name or "").strip():
        problems["name"] = ["Give the template a name."]
    if not (body or "").strip():
        problems["body"] = ["Write the text a rep copies."]
    elif len(body) > NOTE_MAX:
        problems["body"] = [f"Keep it under {NOTE_MAX} characters."]
    if problems:
        raise ValidationError(problems)
    now = now or timezone.now()
    with transaction.atomic():
        template.name, template.body = name.strip()[:100], body.strip()
        template.updated_by, template.updated_at = by, now
        template.save()
        audit_log(actor=_actor(by), action="playbook.next_step_template_edit", obj=template, at=now)
    return template


# --- the AE: discovery calls ---------------------------------------------------------------------------------------


def _locked(lead: Lead) -> Lead:
    return Lead.objects.select_for_update(no_key=True).get(pk=lead.pk)


def _check_call(by, current: Lead) -> None:
    refusal = rules.call_refusal(selectors.call_actor(by), selectors.call_lead(current))
    if refusal:
        raise PermissionDenied(refusal)


def call_log(
    *,
    lead: Lead,
    by,
    template: QualificationTemplate,
    call: rules.CallInput,
    notes: str = "",
    next_step_notes: str = "",
    objection_notes: dict[str, str] | None = None,
    now: datetime | None = None,
) -> DiscoveryCall:
    """The lead's AE logs a discovery call against a template version: validated as a whole (every problem on its
    field), the outcome decided by playbooks.rules (qualified, or which required criteria are missing and why).
    The lead does not move here: the AE opens the opportunity or sends the lead to nurture from the result."""
    now = now or timezone.now()
    criteria = list(template.criteria.order_by("order", "pk"))
    objections = {o.key: o for o in Objection.objects.all()}
    owner_ids = set(selectors.next_step_owners(user=by).values_list("pk", flat=True))
    problems = rules.call_problems(
        call,
        criteria_keys=[c.key for c in criteria],
        objection_keys=set(objections),
        owner_ids=owner_ids,
        now=now,
    )
    if len(notes or "") > NOTE_MAX:
        problems.setdefault("notes", []).append(f"Keep the notes under {NOTE_MAX} characters.")
    if problems:
        raise ValidationError(problems)
    outcome = rules.qualification_outcome(
        [rules.CriterionFacts(key=c.key, name=c.name, required=c.required) for c in criteria], call.answers
    )
    objection_notes = objection_notes or {}
    with transaction.atomic():
        current = _locked(lead)
        _check_call(by, current)
        none = call.next_step == "none"
        record = DiscoveryCall.objects.create(
            lead=current,
            ae=by,
            template=template,
            persona=call.persona,
            occurred_at=call.occurred_at,
            duration_minutes=call.duration_minutes,
            questions_asked=call.questions_asked,
            questions_list=(call.questions_list or "").strip(),
            decision_maker_present=call.decision_maker_present,
            notes=(notes or "").strip(),
            next_step=call.next_step,
            next_step_on=None if none else call.next_step_on,
            next_step_owner_id=None if none else call.next_step_owner_id,
            next_step_notes="" if none else (next_step_notes or "").strip(),
            no_next_step_reason=(call.no_next_step_reason or "").strip() if none else "",
            outcome="qualified" if outcome.qualified else "not_qualified",
            outcome_reason=outcome.summary,
            missing=list(outcome.missing),
            created_at=now,
        )
        CriterionAnswer.objects.bulk_create(
            CriterionAnswer(
                call=record,
                criterion=c,
                status=call.answers[c.key],
                notes=(call.answer_notes.get(c.key) or "").strip(),
            )
            for c in criteria
        )
        ObjectionRaised.objects.bulk_create(
            ObjectionRaised(
                call=record,
                objection=objections[entry.key],
                resolved=entry.resolved,
                notes=(objection_notes.get(entry.key) or "").strip()[:NOTE_MAX],
                **{STEP_FIELD[step]: True for step in entry.steps},
            )
            for entry in call.objections
        )
        audit_log(
            actor=_actor(by),
            action="playbook.call_log",
            obj=record,
            reason=outcome.summary,
            at=now,
            changes={"template": str(template), "outcome": record.outcome, "next_step": call.next_step},
        )
    return record


def _locked_call(call: DiscoveryCall) -> tuple[DiscoveryCall, Lead]:
    current = _locked(call.lead)
    record = DiscoveryCall.objects.select_for_update().get(pk=call.pk)
    return record, current


def _latest(record: DiscoveryCall) -> None:
    newer = (
        DiscoveryCall.objects.filter(lead_id=record.lead_id, occurred_at__gt=record.occurred_at)
        .exclude(pk=record.pk)
        .exists()
    )
    if newer:
        raise LeadChanged("A later discovery call was logged on this lead; act on that one.")


def call_opportunity_open(
    *, call: DiscoveryCall, by, amount, expected_close, name: str = "", now: datetime | None = None
) -> Opportunity:
    """From a call that qualified the lead, its AE opens the opportunity: the lead moves to Opportunity through
    handoff's opportunity_save (which validates the amount and expected close and moves the lead)."""
    now = now or timezone.now()
    with transaction.atomic():
        record, current = _locked_call(call)
        refusal = rules.opportunity_refusal(
            selectors.call_actor(by), selectors.call_lead(current), qualified=record.qualified
        )
        if refusal:
            raise PermissionDenied(refusal)
        _latest(record)
        opportunity = opportunity_save(
            lead=current,
            by=by,
            amount=amount,
            stage=Opportunity.Stage.DISCOVERY,
            expected_close=expected_close,
            name=name,
            now=now,
        )
        DiscoveryCall.objects.filter(pk=record.pk).update(opportunity=opportunity)
    call.opportunity = opportunity
    call.lead.refresh_from_db()
    return opportunity


def call_nurture(*, call: DiscoveryCall, by, note: str = "", now: datetime | None = None) -> Lead:
    """From a call that did not qualify the lead, its AE sends it back to nurture: Accepted -> Rejected -> Nurture,
    with the missing criteria (and the AE's note) as the reason on both steps."""
    now = now or timezone.now()
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": [f"Keep the note under {NOTE_MAX} characters."]})
    with transaction.atomic():
        record, current = _locked_call(call)
        refusal = rules.nurture_refusal(
            selectors.call_actor(by), selectors.call_lead(current), qualified=record.qualified
        )
        if refusal:
            raise PermissionDenied(refusal)
        _latest(record)
        missing = [
            a.criterion.name for a in record.answers.select_related("criterion") if a.criterion.key in record.missing
        ]
        what = f"missing {', '.join(missing)}" if missing else "no required criterion"
        reason = f"discovery call {record.occurred_at:%Y-%m-%d}: not qualified, {what}"
        if note:
            reason = f"{reason}: {note}"
        actor = _actor(by)
        lead_transition(lead=current, to=Stage.REJECTED, by=actor, reason=reason, expected_from=Stage.ACCEPTED, at=now)
        lead_transition(lead=current, to=Stage.NURTURE, by=actor, reason=reason, expected_from=Stage.REJECTED, at=now)
        DiscoveryCall.objects.filter(pk=record.pk).update(nurtured_at=now)
    call.nurtured_at = now
    call.lead.refresh_from_db()
    return call.lead
