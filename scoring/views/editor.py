"""Editing a draft: weights and thresholds, rules with their inline checks, and trying a version on one lead."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from leadops.permissions import require_perm
from scoring import rules as engine
from scoring.facts import engine_model, facts_for_leads
from scoring.forms.rule_forms import RULE_FORMS
from scoring.forms.try_lead import TryLeadForm
from scoring.forms.version_settings import VersionSettingsForm
from scoring.models import ScoringRule
from scoring.services import governance
from scoring.views.common import APPROVE, EDIT, SERVICE_ERRORS, TIER_LABELS, _redirect, _version_for
from scoring.views.versions import _version_page


@require_perm(EDIT)
@require_POST
def version_settings(request, version_id: int):
    version = _version_for(request.user, version_id)
    form = VersionSettingsForm(request.POST)
    validate_only = "_validate" in request.POST
    saved = False
    if form.is_valid() and not validate_only:
        try:
            governance.version_settings_update(version=version, by=request.user, values=form.values())
        except SERVICE_ERRORS as error:
            form.add_service_error(error)
        else:
            if not request.htmx:
                messages.success(request, "Weights and thresholds saved.")
                return redirect(reverse("scoring:version_detail", args=[version.pk]) + "#settings")
            saved = True
    if validate_only:
        form.quiet_untouched()
    if request.htmx:
        context = {"version": version, "settings_form": form, "saved": saved, "validating": validate_only}
        return render(request, "scoring/partials/_settings_form.html", context)
    return _version_page(request, version, settings_form=form)


@require_perm(EDIT)
def rule_create(request, version_id: int, kind: str):
    if kind not in RULE_FORMS:
        raise Http404("No such kind of rule.")
    return _rule_form_view(request, _version_for(request.user, version_id), RULE_FORMS[kind], rule=None)


@require_perm(EDIT)
def rule_edit(request, version_id: int, rule_id: int):
    version = _version_for(request.user, version_id)
    rule = get_object_or_404(ScoringRule, pk=rule_id, version=version)
    return _rule_form_view(request, version, RULE_FORMS[rule.kind], rule=rule)


def _rule_form_view(request, version, form_class, *, rule: ScoringRule | None):
    version_url = reverse("scoring:version_detail", args=[version.pk])
    if not version.is_editable:
        messages.error(request, f"{version.label} is {version.get_status_display().lower()}; only drafts change.")
        return _redirect(request, version_url)
    if request.method == "POST":
        form = form_class(request.POST, version=version, rule=rule)
        validate_only = "_validate" in request.POST
        if form.is_valid() and not validate_only:
            try:
                saved = governance.rule_save(version=version, by=request.user, data=form.data_for_service, rule=rule)
            except SERVICE_ERRORS as error:
                form.add_service_error(error)
            else:
                messages.success(request, f"Rule “{saved.name}” saved.")
                return _redirect(request, f"{version_url}#rule-{saved.pk}")
        if validate_only:
            form.quiet_untouched()
    else:
        form = form_class(version=version, rule=rule)
    validating = request.method == "POST" and "_validate" in request.POST
    context = {"version": version, "form": form, "rule": rule, "action": request.path, "validating": validating}
    if request.htmx:
        return render(request, "scoring/partials/_rule_form.html", context)
    return render(request, "scoring/rule_form.html", context)


@require_perm(EDIT)
@require_POST
def rule_delete(request, version_id: int, rule_id: int):
    version = _version_for(request.user, version_id)
    rule = get_object_or_404(ScoringRule, pk=rule_id, version=version)
    try:
        governance.rule_delete(rule=rule, by=request.user)
    except SERVICE_ERRORS as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Rule “{rule.name}” removed from this draft.")
    return _redirect(request, reverse("scoring:version_detail", args=[version.pk]) + "#rules")


@require_perm(EDIT, APPROVE)
@require_GET
def version_try(request, version_id: int):
    """Score one lead with this version, next to its stored score. Reads only: nothing is written."""
    version = _version_for(request.user, version_id)
    form = TryLeadForm(request.GET, user=request.user)
    tried = try_on_lead(version, form.cleaned_data["lead"]) if form.is_valid() else None
    if request.htmx:
        return render(
            request, "scoring/partials/_try_result.html", {"version": version, "try_form": form, "tried": tried}
        )
    return _version_page(request, version, try_form=form, tried=tried)


def try_on_lead(version, lead) -> dict:
    """This version's score for one lead, now, from the facts the real scoring reads; nothing is stored."""
    facts = facts_for_leads([lead.pk])[lead.pk]
    model = engine_model(version)
    result = engine.score_lead(facts, model, now=timezone.now())
    stored = {
        "fit": lead.score_fit,
        "engagement": lead.score_engagement,
        "intent": lead.score_intent,
        "buying": lead.score_buying,
    }
    return {
        "lead": lead,
        "result": result,
        "pillars": [
            {
                "label": engine.PILLAR_LABELS[p],
                "new": result.pillars[p],
                "stored": stored[p],
                "weight": model.weights[p],
            }
            for p in engine.PILLARS
        ],
        "tier_label": TIER_LABELS.get(result.tier, result.tier),
        "stored_tier_label": TIER_LABELS.get(lead.score_tier, "") if lead.score_tier else "",
        "contributions": sorted(result.contributions, key=lambda c: -abs(c.points)),
    }
