"""Ownership disputes: a rep opens one on a lead they own; RevOps resolves it; everyone concerned reads the list."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from leadops.models import Lead
from leadops.permissions import has_role_perm, require_perm
from leadops.selectors import lead_get
from routing import forms as routing_forms
from routing import services_disputes as disputes
from routing.models import DisputeStatus


@require_perm(disputes.RESOLVE, disputes.TEAM, disputes.DISPUTE)
def dispute_list(request):
    now = timezone.now()
    status = request.GET.get("status", "")
    everything = list(disputes.dispute_list(user=request.user)[:500])
    report = disputes.dispute_report(everything, now=now)
    shown = [d for d in everything if not status or d.status == status]
    for dispute in shown:
        dispute.age = disputes.resolution_time(dispute, now=now)
        dispute.late = disputes.is_late(dispute, now=now)
        dispute.age_text = disputes.duration_text(dispute.age)
    return render(
        request,
        "routing/disputes/list.html",
        {
            "disputes": shown,
            "report": report,
            "status": status,
            "target_hours": int(disputes.TARGET.total_seconds() // 3600),
            "can_resolve": has_role_perm(request.user, disputes.RESOLVE),
        },
    )


@require_perm(disputes.DISPUTE)
def dispute_new(request, lead_id: int):
    try:
        lead = lead_get(user=request.user, lead_id=lead_id)
    except Lead.DoesNotExist:
        raise Http404("No such lead.") from None
    if not disputes.dispute_can_open(user=request.user, lead=lead):
        raise PermissionDenied("Only the rep who owns this lead can dispute its assignment.")
    form = routing_forms.DisputeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            dispute = disputes.dispute_open(lead=lead, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            routing_forms.add_errors(form, error)
        else:
            messages.success(request, "Dispute opened: RevOps resolves it within 48 hours and lets you know.")
            return redirect("routing:dispute_detail", dispute_id=dispute.pk)
    latest = lead.routing_decisions.order_by("-decided_at", "-id").first()
    return render(request, "routing/disputes/new.html", {"form": form, "lead": lead, "latest": latest})


@require_perm(disputes.RESOLVE, disputes.TEAM, disputes.DISPUTE)
def dispute_detail(request, dispute_id: int):
    dispute = get_object_or_404(disputes.dispute_list(user=request.user), pk=dispute_id)
    can_resolve = has_role_perm(request.user, disputes.RESOLVE) and dispute.status == DisputeStatus.OPEN
    form = None
    if can_resolve or request.method == "POST":
        form = routing_forms.DisputeResolveForm(request.POST or None)
    if request.method == "POST":
        if not has_role_perm(request.user, disputes.RESOLVE):
            raise PermissionDenied("Only RevOps resolves ownership disputes.")
        if form.is_valid():
            try:
                disputes.dispute_resolve(
                    dispute=dispute,
                    by=request.user,
                    outcome=form.cleaned_data["outcome"],
                    note=form.cleaned_data["note"],
                    other_rep=form.cleaned_data["other_rep"],
                )
            except ValidationError as error:
                routing_forms.add_errors(form, error)
            else:
                messages.success(request, "Dispute resolved; the rep has been told.")
                return redirect("routing:dispute_list")
    now = timezone.now()
    decisions = list(dispute.lead.routing_decisions.select_related("assignee", "territory")[:5])
    return render(
        request,
        "routing/disputes/detail.html",
        {
            "dispute": dispute,
            "form": form,
            "can_resolve": can_resolve,
            "age": disputes.duration_text(disputes.resolution_time(dispute, now=now)),
            "late": disputes.is_late(dispute, now=now),
            "decisions": decisions,
        },
    )
