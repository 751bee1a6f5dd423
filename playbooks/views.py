"""Playbook pages: the library (templates, objections, next-step templates) for AEs and managers, managers' edit
pages, and the AE's discovery call: the form, the result with its outcome, and the two ways on from it."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from handoff.services import LeadChanged
from leadops.models import Lead
from leadops.permissions import require_perm
from leadops.rules import IllegalTransition
from leadops.selectors import lead_get
from playbooks import forms, rules, selectors, services
from playbooks.models import (
    HANDLING_STEPS,
    CriterionStatus,
    DiscoveryCall,
    NextStep,
    NextStepTemplate,
    Objection,
    Persona,
    QualificationTemplate,
)

READ = rules.READ_PERMS
EDIT = rules.EDIT_PERMS


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {name: [m for e in errs for m in e.messages] for name, errs in exc.error_dict.items()}
    return {"form": exc.messages}


@require_perm(*READ)
def library(request):
    return render(
        request,
        "playbooks/library.html",
        {
            "templates": list(selectors.template_list(user=request.user)),
            "objections": list(selectors.objection_list()),
            "next_steps": list(selectors.next_step_template_list()),
            "can_edit": selectors.can_edit(request.user),
            "personas": Persona.choices,
        },
    )


@require_perm(*READ)
def template_detail(request, template_id: int):
    try:
        template = selectors.template_get(user=request.user, template_id=template_id)
    except QualificationTemplate.DoesNotExist:
        raise Http404 from None
    return render(
        request,
        "playbooks/template_detail.html",
        {
            "template": template,
            "versions": list(selectors.template_versions(key=template.key)),
            "personas": Persona.choices,
            "can_edit": selectors.can_edit(request.user) and template.active,
        },
    )


def _criterion_rows(template) -> list[dict]:
    return [
        {
            "key": c.key,
            "name": c.name,
            "description": c.description,
            "met_means": c.met_means,
            "required": c.required,
            "questions": {p: c.questions_for(p) for p in rules.PERSONAS},
        }
        for c in template.criteria.all()
    ]


@require_perm(*EDIT)
def template_edit(request, template_id: int):
    template = get_object_or_404(QualificationTemplate.objects.prefetch_related("criteria"), pk=template_id)
    if not template.active:
        messages.info(request, f"Version {template.version} is not the current one; edit the current version.")
        current = QualificationTemplate.objects.get(key=template.key, active=True)
        return redirect("playbooks:template_edit", current.pk)
    errors, data = (
        {},
        {
            "name": template.name,
            "description": template.description,
            "change_note": "",
        },
    )
    rows = _criterion_rows(template)
    if request.method == "POST":
        criteria, rows = forms.template_input_parse(request.POST)
        data = {key: request.POST.get(key, "") for key in ("name", "description", "change_note")}
        try:
            new = services.template_edit(
                template=template,
                by=request.user,
                name=data["name"],
                description=data["description"],
                change_note=data["change_note"],
                criteria=criteria,
            )
        except ValidationError as exc:
            errors = _errors(exc)
        except LeadChanged as exc:
            errors = {"form": [str(exc)]}
        else:
            messages.success(request, f"Saved {new.name} as version {new.version}; new calls use it.")
            return redirect("playbooks:template_detail", new.pk)
    blank = {"key": "", "name": "", "description": "", "met_means": "", "required": True, "questions": {}}
    rows = rows + [dict(blank) for _ in range(2)]
    for index, row in enumerate(rows):
        row["index"] = index
        row["errors"] = {
            name.rsplit(":", 1)[1]: messages_
            for name, messages_ in errors.items()
            if name.startswith(f"criterion:{index}:")
        }
        row["persona_questions"] = [
            (value, label, "\n".join(row["questions"].get(value, []))) for value, label in Persona.choices
        ]
    return render(
        request,
        "playbooks/template_edit.html",
        {"template": template, "rows": rows, "errors": errors, "data": data},
        status=400 if errors else 200,
    )


@require_perm(*EDIT)
def objection_edit(request, objection_id: int):
    objection = get_object_or_404(Objection, pk=objection_id)
    errors = {}
    data = {"name": objection.name, **{stem: getattr(objection, stem) for stem, _ in HANDLING_STEPS}}
    if request.method == "POST":
        data = {key: request.POST.get(key, "") for key in data}
        try:
            services.objection_edit(
                objection=objection, by=request.user, name=data["name"], track={k: data[k] for k, _ in HANDLING_STEPS}
            )
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, f"Saved the talk track for {objection.name}.")
            return redirect("playbooks:library")
    steps = [(stem, label, data[stem], errors.get(stem)) for stem, label in HANDLING_STEPS]
    return render(
        request,
        "playbooks/objection_edit.html",
        {"objection": objection, "data": data, "steps": steps, "errors": errors},
        status=400 if errors else 200,
    )


@require_perm(*EDIT)
def next_step_template_edit(request, template_id: int):
    template = get_object_or_404(NextStepTemplate, pk=template_id)
    errors, data = {}, {"name": template.name, "body": template.body}
    if request.method == "POST":
        data = {key: request.POST.get(key, "") for key in data}
        try:
            services.next_step_template_edit(template=template, by=request.user, name=data["name"], body=data["body"])
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, f"Saved the {template.get_kind_display().lower()} template.")
            return redirect("playbooks:library")
    return render(
        request,
        "playbooks/next_step_edit.html",
        {"template": template, "data": data, "errors": errors},
        status=400 if errors else 200,
    )


# --- the AE's discovery call ---------------------------------------------------------------------------------------


def _visible_lead(user, lead_id: int) -> Lead:
    try:
        return lead_get(user=user, lead_id=lead_id)
    except Lead.DoesNotExist:
        raise Http404 from None


@require_perm(rules.PERM_AE)
def call_new(request, lead_id: int):
    lead = _visible_lead(request.user, lead_id)
    refusal = selectors.call_refusal(user=request.user, lead=lead)
    if refusal:
        raise PermissionDenied(refusal)
    templates = list(selectors.template_list(user=request.user))
    chosen = request.POST.get("template") or request.GET.get("template")
    template = next((t for t in templates if str(t.pk) == chosen), None)
    if template is None:
        template = next((t for t in templates if t.key == "champ"), templates[0] if templates else None)
    if template is None:
        raise Http404("No qualification template is active.")
    criteria = list(template.criteria.all())
    objections = list(selectors.objection_list())
    owners = list(selectors.next_step_owners(user=request.user))
    errors: dict[str, list[str]] = {}
    post = request.POST if request.method == "POST" and "save" in request.POST else None
    if post is not None:
        call, answer_notes, objection_notes, errors = forms.call_input_parse(
            post, criteria_keys=[c.key for c in criteria], objection_keys={o.key for o in objections}
        )
        if not errors:
            try:
                record = services.call_log(
                    lead=lead,
                    by=request.user,
                    template=template,
                    call=call,
                    notes=post.get("notes", ""),
                    next_step_notes=post.get("next_step_notes", ""),
                    objection_notes=objection_notes,
                )
            except ValidationError as exc:
                errors = _errors(exc)
            else:
                messages.success(request, "Discovery call logged.")
                return redirect("playbooks:call_detail", record.pk)
    source = post if post is not None else request.POST if request.method == "POST" else {}
    persona = (source.get("persona") if source else "") or ""
    ticked = set(source.getlist("objection")) if source else set()
    now = timezone.localtime()
    criterion_rows = [
        {
            "criterion": c,
            "status": source.get(f"answer:{c.key}", "") if source else "",
            "notes": source.get(f"answer_notes:{c.key}", "") if source else "",
            "errors": errors.get(f"answer:{c.key}"),
            "personas": [(value, label, c.questions_for(value)) for value, label in Persona.choices],
        }
        for c in criteria
    ]
    objection_rows = [
        {
            "objection": o,
            "ticked": o.key in ticked,
            "steps": set(source.getlist(f"step:{o.key}")) if source else set(),
            "resolved": source.get(f"resolved:{o.key}", "") if source else "",
            "notes": source.get(f"objection_notes:{o.key}", "") if source else "",
            "errors": errors.get(f"objection:{o.key}"),
        }
        for o in objections
    ]
    defaults = {
        "occurred_at": now.strftime("%Y-%m-%dT%H:%M"),
        "next_step_owner": str(request.user.pk),
    }
    data = {key: source.get(key, "") for key in source} if source else defaults
    return render(
        request,
        "playbooks/call_form.html",
        {
            "lead": lead,
            "templates": templates,
            "template": template,
            "criterion_rows": criterion_rows,
            "objection_rows": objection_rows,
            "statuses": CriterionStatus.choices,
            "steps": HANDLING_STEPS,
            "personas": Persona.choices,
            "persona": persona,
            "next_steps": NextStep.choices,
            "next_step_templates": list(selectors.next_step_template_list()),
            "owners": owners,
            "errors": errors,
            "data": data,
            "duration_min": rules.DURATION_MIN,
            "duration_max": rules.DURATION_MAX,
        },
        status=400 if errors else 200,
    )


def _call_or_404(user, call_id: int) -> DiscoveryCall:
    try:
        return selectors.call_get(user=user, call_id=call_id)
    except DiscoveryCall.DoesNotExist:
        raise Http404 from None


def _call_context(request, call: DiscoveryCall, **extra) -> dict:
    actor, lead = selectors.call_actor(request.user), selectors.call_lead(call.lead)
    is_latest = not DiscoveryCall.objects.filter(lead_id=call.lead_id, occurred_at__gt=call.occurred_at).exists()
    can_open = is_latest and rules.opportunity_refusal(actor, lead, qualified=call.qualified) is None
    can_nurture = is_latest and rules.nurture_refusal(actor, lead, qualified=call.qualified) is None
    return {
        "call": call,
        "lead": call.lead,
        "can_open": can_open,
        "can_nurture": can_nurture,
        "can_log": rules.call_refusal(actor, lead) is None,
        "next_step_templates": list(selectors.next_step_template_list()),
        "errors": {},
        "data": {},
        **extra,
    }


@require_perm(*READ)
def call_detail(request, call_id: int):
    call = _call_or_404(request.user, call_id)
    return render(request, "playbooks/call_detail.html", _call_context(request, call))


@require_perm(rules.PERM_AE)
def call_opportunity(request, call_id: int):
    call = _call_or_404(request.user, call_id)
    if request.method != "POST":
        return redirect("playbooks:call_detail", call.pk)
    data = {key: request.POST.get(key, "") for key in ("amount", "expected_close", "name")}
    try:
        opportunity = services.call_opportunity_open(
            call=call,
            by=request.user,
            amount=data["amount"],
            expected_close=data["expected_close"],
            name=data["name"],
        )
    except ValidationError as exc:
        context = _call_context(request, call, errors=_errors(exc), data=data, failed="opportunity")
        return render(request, "playbooks/call_detail.html", context, status=400)
    except (LeadChanged, IllegalTransition) as exc:
        messages.error(request, str(exc))
        return redirect("playbooks:call_detail", call.pk)
    messages.success(request, f"Opportunity {opportunity.name} opened; the lead is now an opportunity.")
    return redirect("lead_detail", call.lead_id)


@require_perm(rules.PERM_AE)
def call_nurture(request, call_id: int):
    call = _call_or_404(request.user, call_id)
    if request.method != "POST":
        return redirect("playbooks:call_detail", call.pk)
    note = request.POST.get("note", "")
    try:
        services.call_nurture(call=call, by=request.user, note=note)
    except ValidationError as exc:
        context = _call_context(request, call, errors=_errors(exc), data={"note": note}, failed="nurture")
        return render(request, "playbooks/call_detail.html", context, status=400)
    except (LeadChanged, IllegalTransition) as exc:
        messages.error(request, str(exc))
        return redirect("playbooks:call_detail", call.pk)
    messages.success(request, "The lead went back to nurture with what the call found missing.")
    return redirect("lead_detail", call.lead_id)
