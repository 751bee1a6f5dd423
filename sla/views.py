"""SLA pages: my open clocks (reps), the team board (managers, admins), the policies with a calendar preview (admins),
and the loosening policy changes waiting for a second person (admins and managers approve or reject them).
Forms validate, services act; every list is scoped to the person asking."""

from __future__ import annotations

import json
from datetime import UTC, timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from leadops.permissions import has_any_role_perm, require_perm
from sla import selectors, services
from sla.calendars import CalendarSpecError, WorkCalendar
from sla.forms import PolicyChangeDecisionForm, PolicyForm, PreviewForm
from sla.models import SlaPolicy, SlaPolicyChange

WORK_QUEUE = "leadops.work_lead_queue"
TEAM = "leadops.view_team_leads"
CONFIGURE = "leadops.configure_territories"
APPROVE = "leadops.approve_scoring_rules"
RECENT_CHANGES = 10


@require_perm(WORK_QUEUE)
def my_clocks(request):
    clocks = list(selectors.my_open_clocks(user=request.user)[:200])
    return render(request, "sla/my_clocks.html", {"clocks": clocks, "now": timezone.now()})


@require_perm(TEAM, CONFIGURE)
def team_board(request):
    now = timezone.now()
    to_decide = (
        selectors.policy_changes_to_decide(user=request.user).count()
        if has_any_role_perm(request.user, services.POLICY_APPROVE_PERMS)
        else 0
    )
    return render(
        request,
        "sla/team_board.html",
        {"board": selectors.team_board(user=request.user, now=now), "now": now, "policy_changes_to_decide": to_decide},
    )


def _with_refusals(changes, user) -> list[SlaPolicyChange]:
    """The changes, each with `refusal` (why this person may not decide it, None when they may) and `mine` (they
    proposed it or a change it replaced)."""
    changes = list(changes)
    for change in changes:
        change.refusal = services.policy_change_refusal(change=change, by=user)
        change.mine = change.proposed_by_id == user.pk or any(u.pk == user.pk for u in change.contributors.all())
    return changes


@require_perm(CONFIGURE)
def policy_list(request):
    preview = None
    form = PreviewForm(request.GET if "start" in request.GET else None)
    if form.is_bound and form.is_valid():
        try:
            calendar = WorkCalendar.from_spec(form.cleaned_data["calendar"])
        except CalendarSpecError as problem:
            for field, errors in problem.problems.items():
                form.add_error("calendar", f"{field}: {' '.join(errors)}")
        else:
            start = form.cleaned_data["start"].astimezone(UTC)
            try:
                due = calendar.add(start, timedelta(minutes=form.cleaned_data["minutes"]))
            except (ValueError, OverflowError) as problem:
                form.add_error("minutes", f"No due time can be worked out on this calendar: {problem}.")
            else:
                preview = {"start": start, "due": due}
    pending = _with_refusals(selectors.pending_policy_changes(user=request.user), request.user)
    return render(
        request,
        "sla/policies.html",
        {
            "policies": SlaPolicy.objects.order_by("order", "key"),
            "form": form,
            "preview": preview,
            "pending": pending,
            "pending_policy_ids": {change.policy_id for change in pending},
            "decision_form": PolicyChangeDecisionForm(),
        },
    )


@require_perm(CONFIGURE)
def policy_edit(request, key: str):
    policy = get_object_or_404(SlaPolicy, key=key)
    initial = {
        "name": policy.name,
        "target_minutes": int(policy.target.total_seconds() // 60),
        "business_time": policy.business_time,
        "active": policy.active,
        "ladder": json.dumps(policy.ladder),
    }
    form = PolicyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = services.sla_policy_save(
                by=request.user,
                policy=policy,
                data={
                    "name": data["name"],
                    "target": timedelta(minutes=data["target_minutes"]),
                    "business_time": data["business_time"],
                    "active": data["active"],
                    "ladder": data["ladder"],
                },
            )
        except ValidationError as refused:
            for field, errors in refused.message_dict.items():
                form.add_error(
                    "target_minutes" if field == "target" else field if field in form.fields else None, errors
                )
        else:
            if result.applied:
                messages.success(request, f"{policy.name} saved.")
            else:
                replaced = " It replaces the change proposed earlier." if result.change.replaces_id else ""
                messages.warning(
                    request,
                    f"This change loosens {policy.name} ({result.change.loosens}), so it is waiting for a second "
                    "person's approval: an admin or a sales manager who did not propose it. Until then the policy "
                    f"stays as it was.{replaced}",
                )
            return redirect("sla:policy_list")
    pending = _with_refusals(selectors.pending_policy_changes(user=request.user, policy=policy), request.user)
    return render(
        request,
        "sla/policy_edit.html",
        {"policy": policy, "form": form, "pending": pending, "decision_form": PolicyChangeDecisionForm()},
    )


@require_perm(CONFIGURE, APPROVE)
def policy_changes(request):
    """Loosening policy changes: those waiting for a second person, then the latest decided."""
    changes = selectors.policy_changes(user=request.user)
    return render(
        request,
        "sla/policy_changes.html",
        {
            "pending": _with_refusals(changes.filter(status="pending"), request.user),
            "decided": list(changes.exclude(status="pending").prefetch_related(None)[:RECENT_CHANGES]),
            "decision_form": PolicyChangeDecisionForm(),
        },
    )


def _back(request):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("sla:policy_changes")


@require_POST
@require_perm(CONFIGURE, APPROVE)
def policy_change_decide(request, pk: int, decision: str):
    change = get_object_or_404(selectors.policy_changes(user=request.user), pk=pk)
    form = PolicyChangeDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("note", ["The note is not valid."])))
        return _back(request)
    decide = services.sla_policy_change_approve if decision == "approve" else services.sla_policy_change_reject
    try:
        decide(change=change, by=request.user, note=form.cleaned_data["note"])
    except services.PolicyChangeError as refused:
        messages.error(request, str(refused))
    else:
        if decision == "approve":
            messages.success(request, f"Change approved: {change.policy.name} now applies it ({change.loosens}).")
        else:
            messages.success(request, f"Change rejected: {change.policy.name} stays as it was.")
    return _back(request)
