"""The version list, a version's page, new drafts, and the compare page with its diff in words."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from leadops.permissions import has_role_perm, require_perm
from scoring import rules as engine
from scoring import selectors
from scoring.forms.common import OPERATOR_LABELS, plain_number
from scoring.forms.decisions import DecisionForm, SubmitForm
from scoring.forms.rule_forms import RULE_FORMS
from scoring.forms.summaries import rule_summary
from scoring.forms.try_lead import TryLeadForm
from scoring.forms.version_settings import VersionSettingsForm
from scoring.models import RuleKind, ScoringModel, ScoringRule, VersionStatus
from scoring.services import governance
from scoring.views.common import APPROVE, EDIT, SERVICE_ERRORS, _version_for
from scoring.views.preview import preview_context

SETTING_LABELS = {
    "weight_fit": "Fit weight",
    "weight_engagement": "Engagement weight",
    "weight_intent": "Intent weight",
    "weight_buying": "Buying signals weight",
    "mql_cutoff": "MQL cut-off",
    "sql_cutoff_smb": "SQL cut-off, SMB",
    "sql_cutoff_mid_market": "SQL cut-off, Mid-Market",
    "sql_cutoff_enterprise": "SQL cut-off, Enterprise",
    "hot_above": "Hot above",
    "warm_from": "Warm from",
    "borderline_band": "Borderline band (±)",
    "fast_track_fit_floor": "Fast-track fit floor",
}
RULE_FIELD_LABELS = {
    "name": "name",
    "pillar": "pillar",
    "points": "points",
    "field": "field",
    "operator": "condition",
    "value": "value",
    "event_kind": "event",
    "property_name": "property",
    "property_value": "property starts with",
    "cap": "cap",
    "half_life_days": "half-life (days)",
    "min_count": "counts from",
    "min_surge": "surge at least",
    "topics": "topics",
    "within_days": "seen within (days)",
    "days": "inactive for (days)",
}
GROUPS = [*engine.PILLARS, "fast_track", "disqualify"]
GROUP_LABELS = {**engine.PILLAR_LABELS, "fast_track": "Fast-track to SQL (hand-raisers)", "disqualify": "Disqualifiers"}


@require_perm(EDIT, APPROVE)
def version_list(request):
    versions = selectors.version_list(user=request.user).select_related("preview").annotate(n_rules=Count("rules"))
    versions = list(versions)
    models = {}
    for version in versions:
        models.setdefault(version.model, []).append(version)
    return render(
        request,
        "scoring/version_list.html",
        {
            "models": models,
            "all_versions": versions,
            "empty_models": ScoringModel.objects.exclude(pk__in=[m.pk for m in models]).order_by("name"),
            "can_edit": has_role_perm(request.user, EDIT),
        },
    )


@require_perm(EDIT)
@require_POST
def draft_create(request):
    based_on = None
    if request.POST.get("based_on", "").isdigit():
        based_on = _version_for(request.user, request.POST["based_on"])
        model = based_on.model  # a copy always stays within the model it comes from
    else:
        model_id = request.POST.get("model", "")
        model = get_object_or_404(ScoringModel, pk=int(model_id) if model_id.isdigit() else 0)
    try:
        draft = governance.version_draft_create(model=model, by=request.user, based_on=based_on)
    except SERVICE_ERRORS as error:
        messages.error(request, str(error))
        return redirect("scoring:version_list")
    source = draft.based_on.label if draft.based_on else "scratch"
    messages.success(request, f"{draft.label} is a new draft copied from {source}. Change it, then submit it.")
    return redirect("scoring:version_detail", draft.pk)


@require_perm(EDIT, APPROVE)
@require_GET
def version_detail(request, version_id: int):
    return _version_page(request, _version_for(request.user, version_id))


def _version_page(request, version, **forms):
    user = request.user
    can_edit = has_role_perm(user, EDIT)
    rules = list(version.rules.all())
    preview = getattr(version, "preview", None)
    status = version.status
    active = selectors.version_list(user=user).filter(model_id=version.model_id, status=VersionStatus.ACTIVE).first()
    context = {
        "version": version,
        "active_version": active,
        # A version copied from an older one would, once approved, silently undo what changed since.
        "stale_base": status == VersionStatus.SUBMITTED and active is not None and version.based_on_id != active.pk,
        "rule_groups": rule_groups(rules),
        "rule_count": len(rules),
        "weights": [
            {"label": engine.PILLAR_LABELS[p], "percent": int(getattr(version, f"weight_{p}") * 100)}
            for p in engine.PILLARS
        ],
        "can_edit": can_edit and version.is_editable,
        "can_submit": can_edit and status == VersionStatus.DRAFT,
        "can_decide": governance.decision_refusal(version=version, by=user) is None,
        "own_submission": status == VersionStatus.SUBMITTED
        and governance.version_changed_by(version=version, user=user),
        "can_rollback": can_edit and status in (VersionStatus.RETIRED, VersionStatus.REJECTED, VersionStatus.APPROVED),
        "can_copy": can_edit and status != VersionStatus.DRAFT,
        "can_try": True,
        "rule_kinds": [(kind, RULE_FORMS[kind].title, RULE_FORMS[kind].help) for kind in RULE_FORMS],
        "settings_form": forms.get("settings_form")
        or VersionSettingsForm(initial=VersionSettingsForm.initial_for(version)),
        "submit_form": forms.get("submit_form") or SubmitForm(initial={"change_note": version.change_note}),
        "decision_form": forms.get("decision_form") or DecisionForm(),
        "try_form": forms.get("try_form") or TryLeadForm(user=user),
        "tried": forms.get("tried"),
        **preview_context(preview),
    }
    return render(request, "scoring/version_detail.html", context)


@require_perm(EDIT, APPROVE)
@require_GET
def version_compare(request):
    versions = list(selectors.version_list(user=request.user))
    by_id = {str(v.pk): v for v in versions}
    new = by_id.get(request.GET.get("new", ""))
    old = by_id.get(request.GET.get("old", ""))
    if new is not None and old is None:
        # Comparing with what a version was copied from is what people want to see first.
        old = by_id.get(str(new.based_on_id))
    diff = None
    if old is not None and new is not None:
        diff = diff_rows(selectors.version_diff(old=old, new=new))
    return render(
        request,
        "scoring/version_compare.html",
        {"versions": versions, "old": old, "new": new, "diff": diff},
    )


def rule_groups(rules: list[ScoringRule]) -> list[dict]:
    groups = {group: [] for group in GROUPS}
    for rule in rules:
        group = rule.kind if rule.kind in (RuleKind.DISQUALIFY, RuleKind.FAST_TRACK) else rule.pillar
        groups.setdefault(group, []).append(
            {
                "rule": rule,
                "summary": rule_summary(rule),
                "points": plain_number(rule.points),
                "per_event": rule.kind == RuleKind.BEHAVIOUR,
            }
        )
    return [{"key": g, "label": GROUP_LABELS.get(g, g), "rules": groups[g]} for g in groups]


def diff_rows(diff: dict) -> dict:
    """The selector's diff with labels and values a person reads (weights in %, lists joined)."""

    def setting(name, value):
        return f"{int(value * 100)}%" if name.startswith("weight_") else value

    def value_text(value):
        if value is None or value == "" or value == []:
            return "—"
        if isinstance(value, list | tuple):
            return ", ".join(str(plain_number(v)) for v in value)
        if isinstance(value, str) and value in OPERATOR_LABELS:
            return OPERATOR_LABELS[value]
        return str(plain_number(value))

    return {
        "settings": [
            {
                "label": SETTING_LABELS.get(row["setting"], row["setting"]),
                "old": setting(row["setting"], row["old"]),
                "new": setting(row["setting"], row["new"]),
            }
            for row in diff["settings"]
        ],
        "added": [{"rule": r, "summary": rule_summary(r), "points": plain_number(r.points)} for r in diff["added"]],
        "removed": [{"rule": r, "summary": rule_summary(r), "points": plain_number(r.points)} for r in diff["removed"]],
        "changed": [
            {
                "rule": row["rule"],
                "fields": [
                    {
                        "label": RULE_FIELD_LABELS.get(f["field"], f["field"]),
                        "old": value_text(f["old"]),
                        "new": value_text(f["new"]),
                    }
                    for f in row["fields"]
                ],
            }
            for row in diff["changed"]
        ],
        "count": len(diff["settings"]) + len(diff["added"]) + len(diff["removed"]) + len(diff["changed"]),
    }
