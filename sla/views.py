"""SLA pages: my open clocks (reps), the team board (managers, admins), the policies with a calendar preview (admins).
Forms validate, services act; every list is scoped to the person asking."""

from __future__ import annotations

import json
from datetime import UTC, timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from leadops.permissions import require_perm
from sla import selectors, services
from sla.calendars import CalendarSpecError, WorkCalendar
from sla.forms import PolicyForm, PreviewForm
from sla.models import SlaPolicy

WORK_QUEUE = "leadops.work_lead_queue"
TEAM = "leadops.view_team_leads"
CONFIGURE = "leadops.configure_territories"


@require_perm(WORK_QUEUE)
def my_clocks(request):
    clocks = list(selectors.my_open_clocks(user=request.user)[:200])
    return render(request, "sla/my_clocks.html", {"clocks": clocks, "now": timezone.now()})


@require_perm(TEAM, CONFIGURE)
def team_board(request):
    now = timezone.now()
    return render(
        request, "sla/team_board.html", {"board": selectors.team_board(user=request.user, now=now), "now": now}
    )


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
    return render(
        request,
        "sla/policies.html",
        {"policies": SlaPolicy.objects.order_by("order", "key"), "form": form, "preview": preview},
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
            services.sla_policy_save(
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
            messages.success(request, f"{policy.name} saved.")
            return redirect("sla:policy_list")
    return render(request, "sla/policy_edit.html", {"policy": policy, "form": form})
