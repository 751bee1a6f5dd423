"""Pages of the scoring app: versions and their editor, approvals, the diff, borderline reviews.

Thin, as everywhere (STYLE.md): forms check the input, the governance and review services act, selectors read.
What is here besides is presentation: rules in words, the histogram's geometry, labels.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, HttpResponseClientRefresh

from leadops.permissions import require_perm
from leadops.selectors import lead_list
from scoring import rules as engine
from scoring import selectors
from scoring.facts import engine_model, facts_for_leads
from scoring.forms import (
    OPERATOR_LABELS,
    RULE_FORMS,
    BorderlineDecisionForm,
    DecisionForm,
    SubmitForm,
    TryLeadForm,
    VersionSettingsForm,
    plain_number,
    rule_summary,
)
from scoring.models import BorderlineReview, ImpactPreview, RuleKind, ScoringModel, ScoringRule, VersionStatus
from scoring.services import governance, reviews
from scoring.services.governance import GovernanceError

EDIT = "leadops.edit_scoring_rules"
APPROVE = "leadops.approve_scoring_rules"
REVIEW = "leadops.review_borderline"
SERVICE_ERRORS = (GovernanceError, engine.RuleError)

TIER_LABELS = {
    "disqualified": "Disqualified",
    "sql": "SQL",
    "borderline": "Borderline (review)",
    "mql": "MQL",
    "below_mql": "Below MQL",
    "unscored": "Not scored yet",
}
TIER_ORDER = ["unscored", "disqualified", "below_mql", "mql", "borderline", "sql"]
STAGE_CHANGES = [
    ("to_mql", "would become MQLs"),
    ("to_sql", "would become SQLs and be routed"),
    ("to_review", "would go to a manager's borderline review"),
    ("to_disqualified", "would be disqualified"),
    ("to_nurture", "would fall back from MQL to nurture"),
]
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
GROUPS = [*engine.PILLARS, "disqualify"]
GROUP_LABELS = {**engine.PILLAR_LABELS, "disqualify": "Disqualifiers"}


# --- version list, detail and the editor ---------------------------------------------------------------------


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
            "can_edit": request.user.has_perm(EDIT),
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


@require_perm(EDIT)
@require_POST
def version_submit(request, version_id: int):
    version = _version_for(request.user, version_id)
    form = SubmitForm(request.POST)
    if form.is_valid():
        note = form.cleaned_data["change_note"].strip()
        try:
            if note != version.change_note:
                governance.version_settings_update(version=version, by=request.user, values={}, change_note=note)
            governance.version_submit(version=version, by=request.user)
        except SERVICE_ERRORS as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                f"{version.label} is submitted. Its impact preview is being computed; a manager other than you "
                "approves or rejects it.",
            )
            return redirect("scoring:version_detail", version.pk)
    return _version_page(request, _version_for(request.user, version_id), submit_form=form)


@require_perm(APPROVE)
@require_POST
def version_approve(request, version_id: int):
    return _decide(request, version_id, approve=True)


@require_perm(APPROVE)
@require_POST
def version_reject(request, version_id: int):
    return _decide(request, version_id, approve=False)


def _decide(request, version_id: int, *, approve: bool):
    version = _version_for(request.user, version_id)
    form = DecisionForm(request.POST)
    if form.is_valid():
        comment = form.cleaned_data["comment"].strip()
        try:
            if approve:
                governance.version_approve(version=version, by=request.user, comment=comment)
            else:
                governance.version_reject(version=version, by=request.user, comment=comment)
        except SERVICE_ERRORS as error:
            form.add_error("comment" if "Say why" in str(error) else None, str(error))
        else:
            if approve:
                messages.success(
                    request, f"{version.label} is approved and active; every lead is being re-scored in the background."
                )
            else:
                messages.success(request, f"{version.label} is rejected; marketing sees your comment.")
            return redirect("scoring:version_detail", version.pk)
    return _version_page(request, _version_for(request.user, version_id), decision_form=form)


@require_perm(EDIT)
@require_POST
def version_rollback(request, version_id: int):
    version = _version_for(request.user, version_id)
    try:
        copy = governance.version_rollback_submit(version=version, by=request.user)
    except SERVICE_ERRORS as error:
        messages.error(request, str(error))
        return redirect("scoring:version_detail", version.pk)
    messages.success(
        request, f"{copy.label} copies {version.label} and is submitted for approval, like any other change."
    )
    return redirect("scoring:version_detail", copy.pk)


@require_perm(EDIT, APPROVE)
@require_GET
def version_preview(request, version_id: int):
    version = _version_for(request.user, version_id)
    preview = getattr(version, "preview", None)
    if request.htmx and request.GET.get("poll") and preview is not None and preview.status != preview.Status.PENDING:
        # Reload the whole page: the approve button waits for the preview too.
        return HttpResponseClientRefresh()
    return render(request, "scoring/partials/_preview.html", {"version": version, **preview_context(preview)})


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


def _version_page(request, version, **forms):
    user = request.user
    can_edit = user.has_perm(EDIT)
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
        "can_decide": user.has_perm(APPROVE) and status == VersionStatus.SUBMITTED and version.author_id != user.pk,
        "own_submission": status == VersionStatus.SUBMITTED and version.author_id == user.pk,
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


def _version_for(user, version_id):
    versions = selectors.version_list(user=user).select_related("preview", "based_on").prefetch_related("rules")
    return get_object_or_404(versions, pk=version_id)


def _redirect(request, url: str):
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


# --- compare, approvals, borderline ---------------------------------------------------------------------------


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


@require_perm(APPROVE)
@require_GET
def approval_inbox(request):
    versions = list(selectors.approval_inbox(user=request.user).annotate(n_rules=Count("rules")))
    active = dict(
        selectors.version_list(user=request.user).filter(status=VersionStatus.ACTIVE).values_list("model_id", "pk")
    )
    for version in versions:
        version.summary = preview_summary(getattr(version, "preview", None))
        version.stale_base = version.based_on_id != active.get(version.model_id)
    own_waiting = (
        selectors.version_list(user=request.user).filter(status=VersionStatus.SUBMITTED, author=request.user).count()
    )
    return render(request, "scoring/approval_inbox.html", {"versions": versions, "own_waiting": own_waiting})


@require_perm(REVIEW)
@require_GET
def borderline_queue(request):
    page = Paginator(selectors.borderline_queue(user=request.user), 50).get_page(request.GET.get("page"))
    for review in page.object_list:
        _review_row(review)
    return render(request, "scoring/borderline_queue.html", {"page": page})


@require_perm(REVIEW)
@require_POST
def borderline_decide(request, review_id: int):
    scoped = BorderlineReview.objects.filter(lead__in=lead_list(user=request.user)).select_related(
        "lead__account", "lead__owner", "version", "decided_by"
    )
    review = get_object_or_404(scoped, pk=review_id)
    form = BorderlineDecisionForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            review = reviews.borderline_review_decide(
                review=review,
                by=request.user,
                promote=form.cleaned_data["decision"] == "promote",
                note=form.cleaned_data["note"],
            )
        except reviews.ReviewError as exc:
            error = str(exc)
    else:
        error = "Choose to promote the lead to SQL or to keep it as an MQL."
    if request.htmx:
        review = scoped.get(pk=review.pk)
        _review_row(review)
        return render(
            request,
            "scoring/partials/_borderline_row.html",
            {"review": review, "error": error, "note": request.POST.get("note", "")},
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"{review.lead}: {review.get_status_display().lower()}.")
    return redirect("scoring:borderline_queue")


def _review_row(review: BorderlineReview) -> None:
    version = review.version
    segment = (review.lead.account.segment if review.lead.account else None) or "smb"
    review.cutoff = {
        "smb": version.sql_cutoff_smb,
        "mid_market": version.sql_cutoff_mid_market,
        "enterprise": version.sql_cutoff_enterprise,
    }.get(segment, version.sql_cutoff_smb)
    review.delta = review.score - review.cutoff
    review.segment_label = {"smb": "SMB", "mid_market": "Mid-Market", "enterprise": "Enterprise"}.get(segment, "SMB")


# --- presentation helpers -------------------------------------------------------------------------------------


def rule_groups(rules: list[ScoringRule]) -> list[dict]:
    groups = {group: [] for group in GROUPS}
    for rule in rules:
        group = "disqualify" if rule.kind == RuleKind.DISQUALIFY else rule.pillar
        groups.setdefault(group, []).append(
            {
                "rule": rule,
                "summary": rule_summary(rule),
                "points": plain_number(rule.points),
                "per_event": rule.kind == RuleKind.BEHAVIOUR,
            }
        )
    return [{"key": g, "label": GROUP_LABELS.get(g, g), "rules": groups[g]} for g in groups]


def preview_summary(preview: ImpactPreview | None) -> dict:
    if preview is None or preview.status != ImpactPreview.Status.DONE:
        return {"ready": False, "status": preview.get_status_display() if preview else "Not requested"}
    results = preview.results
    outcomes = results.get("outcomes", {})
    return {
        "ready": True,
        "leads": results.get("leads", 0),
        "tier_changed": results.get("tier_changed", 0),
        "to_sql": results.get("stage_changes", {}).get("to_sql", 0),
        "precision": _percent(outcomes.get("precision")),
        "lift": _times(outcomes.get("lift")),
    }


def preview_context(preview: ImpactPreview | None) -> dict:
    if preview is None:
        return {"preview": None}
    context = {"preview": preview}
    if preview.status != ImpactPreview.Status.DONE:
        return context
    results = preview.results
    tier_changes = [
        {
            "from": TIER_LABELS.get(row["from"], row["from"]),
            "to": TIER_LABELS.get(row["to"], row["to"]),
            "leads": row["leads"],
        }
        for row in results.get("tier_changes", [])
    ]
    stage_changes = results.get("stage_changes", {})
    outcomes = results.get("outcomes", {})
    context.update(
        {
            "results": results,
            "chart": histogram_chart(results.get("histogram", {})),
            "tier_changes": tier_changes,
            "stage_changes": [(stage_changes.get(key, 0), label) for key, label in STAGE_CHANGES],
            "outcomes": {
                **outcomes,
                "precision_pct": _percent(outcomes.get("precision")),
                "recall_pct": _percent(outcomes.get("recall")),
                "base_rate_pct": _percent(outcomes.get("base_rate")),
                "lift_x": _times(outcomes.get("lift")),
            },
        }
    )
    return context


def histogram_chart(histogram: dict, *, width: int = 640, height: int = 230) -> dict:
    """Bar geometry for the old vs new score distribution, drawn as inline SVG (no chart library, no CDN)."""
    buckets = histogram.get("buckets", [])
    new, old = histogram.get("new", []), histogram.get("old", [])
    left, right, top, bottom = 44, 8, 14, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = _nice_ceiling(max([*new, *old, 1]))
    group_w = plot_w / max(len(buckets), 1)
    bar_w = group_w * 0.36

    def bar(value: int, x: float) -> dict:
        h = plot_h * value / top_value
        return {
            "x": round(x, 1),
            "y": round(top + plot_h - h, 1),
            "h": round(h, 1),
            "w": round(bar_w, 1),
            "value": value,
        }

    groups = []
    for i, label in enumerate(buckets):
        x0 = left + i * group_w + group_w * 0.12
        groups.append(
            {
                "label": label,
                "label_x": round(left + i * group_w + group_w / 2, 1),
                "old": bar(old[i] if i < len(old) else 0, x0),
                "new": bar(new[i] if i < len(new) else 0, x0 + bar_w + 2),
            }
        )
    ticks = [{"value": round(top_value * f), "y": round(top + plot_h - plot_h * f, 1)} for f in (0, 0.25, 0.5, 0.75, 1)]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "base_y": top + plot_h,
        "label_y": top + plot_h + 18,
        "axis_label_y": height - 2,
        "groups": groups,
        "ticks": ticks,
        "rows": list(zip(buckets, old, new, strict=False)),
    }


def _nice_ceiling(value: int) -> int:
    """A round top for the axis that splits into four whole ticks: 7 -> 8, 130 -> 160, 2400 -> 2400."""
    magnitude = 1
    while True:
        for multiple in (1, 2, 2.5, 4, 5):
            step = multiple * magnitude
            if step == int(step) and 4 * step >= value:
                return int(4 * step)
        magnitude *= 10


def _percent(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _times(value) -> str:
    return "—" if value is None else f"{value:.2f}×"


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
