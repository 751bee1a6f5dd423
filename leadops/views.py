"""Pages of the core domain. Thin: selectors read, services write, templates show."""

from __future__ import annotations

from datetime import timedelta

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from leadops import roles, selectors
from leadops.models import AuditEntry, Lead, LeadSource
from leadops.panels import lead_panels_render
from leadops.permissions import require_perm
from leadops.rules import Stage
from scoring.selectors import lead_score_explanation


@require_perm()
def home(request):
    role = roles.primary_role(request.user)
    builder = {
        roles.SDR: _sdr_home,
        roles.AE: _ae_home,
        roles.MARKETING: _marketing_home,
        roles.MANAGER: _manager_home,
        roles.ADMIN: _admin_home,
    }.get(role)
    if builder is None:
        return render(request, "leadops/home_no_role.html", status=200)
    template, context = builder(request)
    return render(request, template, {"role": role, **context})


def _sdr_home(request):
    queue = selectors.lead_queue(user=request.user)
    return "leadops/home_sdr.html", {
        "sql_waiting": queue.filter(stage=Stage.SQL)[:50],
        "mqls": queue.filter(stage=Stage.MQL)[:50],
        "counts": selectors.stage_counts(queue),
    }


def _ae_home(request):
    return "leadops/home_ae.html", {
        "accepted": selectors.lead_queue(user=request.user, stages=[Stage.ACCEPTED])[:50],
        "opportunities": selectors.open_opportunities(user=request.user)[:50],
    }


def _marketing_home(request):
    leads = selectors.lead_list(user=request.user)
    since = timezone.now() - timedelta(days=30)
    counts = selectors.stage_counts(leads)
    source_labels = dict(LeadSource.CHOICES)
    by_source = (
        leads.filter(created_at__gte=since)
        .order_by()
        .values("source")
        .annotate(n=Count("pk"), mqls=Count("pk", filter=Q(mql_at__isnull=False)))
        .order_by("-n")
    )
    return "leadops/home_marketing.html", {
        "funnel": selectors.funnel(leads),
        "by_source": [{**row, "label": source_labels.get(row["source"], row["source"])} for row in by_source],
        "recent_mqls": leads.filter(stage=Stage.MQL).order_by("-mql_at")[:10],
        "counts": counts,
    }


def _manager_home(request):
    leads = selectors.lead_list(user=request.user)
    return "leadops/home_manager.html", {
        "teams": selectors.managed_teams(manager=request.user),
        "reps": selectors.team_rep_summary(manager=request.user),
        "stale_sqls": selectors.sqls_waiting_too_long(leads=leads, now=timezone.now())[:20],
        "funnel": selectors.funnel(leads),
    }


def _admin_home(request):
    role_counts = selectors.active_users_by_role()
    return "leadops/home_admin.html", {
        "role_counts": [(roles.ROLE_LABELS[role], role_counts.get(role, 0)) for role in roles.ROLE_ORDER],
        "teams": selectors.team_list(),
        "recent_audit": selectors.audit_entry_list(user=request.user)[:10],
        "unassigned": Lead.objects.filter(owner__isnull=True, stage=Stage.SQL).count(),
        "lead_total": Lead.objects.count(),
    }


@require_perm("leadops.view_lead")
def lead_list(request):
    leads = selectors.lead_list(user=request.user)
    stage = request.GET.get("stage", "")
    query = request.GET.get("q", "").strip()
    if stage in Stage.ALL:
        leads = leads.filter(stage=stage)
    if query:
        leads = leads.filter(
            Q(email__icontains=query)
            | Q(last_name__icontains=query)
            | Q(first_name__icontains=query)
            | Q(account__name__icontains=query)
        )
    leads = leads.order_by("-score_total", "-created_at", "pk")
    page = Paginator(leads, 50).get_page(request.GET.get("page"))
    template = "leadops/partials/_lead_rows.html" if request.htmx else "leadops/lead_list.html"
    return render(request, template, {"page": page, "stage": stage, "q": query, "stages": Stage.CHOICES})


@require_perm("leadops.view_lead")
def lead_detail(request, lead_id: int):
    try:
        lead = selectors.lead_get(user=request.user, lead_id=lead_id)
    except Lead.DoesNotExist:
        raise Http404("No lead with that id is visible to you.") from None
    return render(
        request,
        "leadops/lead_detail.html",
        {
            "lead": lead,
            "transitions": lead.transitions.select_related("by_user").order_by("-at", "-id")[:50],
            "events": lead.events.order_by("-occurred_at")[:50],
            "event_total": lead.events.count(),
            "activities": lead.activities.select_related("rep").order_by("-occurred_at")[:20],
            # Third-party intent about the lead or its company, newest first.
            "intent_signals": selectors.intent_signals_of(lead=lead)[:20],
            "opportunities": lead.opportunities.order_by("-created_at"),
            "explanation": lead_score_explanation(lead=lead),
            # What feature apps (routing, SLA, playbooks) know about the lead, each as its own panel.
            "panels": lead_panels_render(lead=lead, user=request.user, request=request),
        },
    )


@require_perm("leadops.view_audit_log")
def audit_log(request):
    action = request.GET.get("action", "")
    entries = selectors.audit_entry_list(user=request.user, action=action)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    actions = AuditEntry.objects.order_by("action").values_list("action", flat=True).distinct()
    return render(request, "leadops/audit_log.html", {"page": page, "action": action, "actions": actions})
