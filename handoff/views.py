"""The lead page's actions: thin views that call handoff.services and come back to the lead (or where `next` says).

A refused or stale action is not an error page: the person lands back on the lead, fresh from the database, with a
message saying what happened; a form with bad input is shown again with its errors and what they typed."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from handoff import services
from leadops import selectors as lead_selectors
from leadops.models import Lead
from leadops.permissions import require_perm
from leadops.rules import IllegalTransition
from leadops.views import lead_detail

WORK_PERMS = ("leadops.work_lead_queue", "leadops.accept_sql", "leadops.log_discovery_call")


def _lead(request, lead_id: int) -> Lead:
    try:
        return lead_selectors.lead_get(user=request.user, lead_id=lead_id)
    except Lead.DoesNotExist:
        raise Http404("No lead with that id is visible to you.") from None


def _back(request, lead: Lead):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("lead_detail", lead_id=lead.pk)


def _act(request, lead_id: int, action: str, perform, done: str):
    lead = _lead(request, lead_id)
    try:
        perform(lead)
    except ValidationError as problem:
        request.handoff_form = {
            "action": action,
            "errors": problem.message_dict if hasattr(problem, "error_dict") else {"__all__": problem.messages},
            "data": request.POST,
        }
        messages.error(request, "Nothing was saved: see the form below.")
        request.method = "GET"
        response = lead_detail(request, lead_id=lead_id)
        response.status_code = 400
        return response
    except (services.LeadChanged, IllegalTransition) as stale:
        messages.warning(request, f"{stale} Nothing was changed; this is the lead as it is now.")
        return redirect("lead_detail", lead_id=lead.pk)
    except PermissionDenied as refused:
        messages.error(request, str(refused))
        return redirect("lead_detail", lead_id=lead.pk)
    messages.success(request, done)
    return _back(request, lead)


def _expected_stage(request) -> str | None:
    return request.POST.get("stage") or None


@require_POST
@require_perm("leadops.accept_sql")
def lead_accept(request, lead_id: int):
    return _act(
        request,
        lead_id,
        "accept",
        lambda lead: services.lead_accept(lead=lead, by=request.user, expected_stage=_expected_stage(request)),
        "Accepted and handed to an AE.",
    )


@require_POST
@require_perm("leadops.accept_sql")
def lead_reject(request, lead_id: int):
    return _act(
        request,
        lead_id,
        "reject",
        lambda lead: services.lead_reject(
            lead=lead,
            by=request.user,
            reason_code=request.POST.get("reason", ""),
            note=request.POST.get("note", ""),
            expected_stage=_expected_stage(request),
        ),
        "Rejected; the reason goes to marketing's feedback view.",
    )


@require_POST
@require_perm("leadops.work_lead_queue")
def lead_activity(request, lead_id: int):
    return _act(
        request,
        lead_id,
        "activity",
        lambda lead: services.activity_record(
            lead=lead,
            by=request.user,
            kind=request.POST.get("kind", ""),
            outcome=request.POST.get("outcome", ""),
            note=request.POST.get("note", ""),
            duration_minutes=request.POST.get("duration_minutes") or None,
        ),
        "Activity logged.",
    )


@require_POST
@require_perm("leadops.work_lead_queue")
def lead_claim(request, lead_id: int):
    lead = Lead.objects.filter(pk=lead_id).first()
    if lead is None:
        raise Http404("No such lead.")
    # An unowned lead in a territory queue is not in the rep's own list yet: whether they may claim it is the
    # service's call (a member of its territory, under capacity), and a refusal says why.
    try:
        services.lead_claim(lead=lead, by=request.user)
    except services.LeadChanged as stale:
        messages.warning(request, str(stale))
        return redirect("handoff:queue")
    except PermissionDenied as refused:
        raise PermissionDenied(str(refused)) from None
    messages.success(request, f"{lead} is yours now.")
    return _back(request, lead)


@require_POST
@require_perm("leadops.log_discovery_call")
def lead_sal_accept(request, lead_id: int):
    return _act(
        request,
        lead_id,
        "sal",
        lambda lead: services.lead_sal_accept(lead=lead, by=request.user),
        "Taken on as a sales-accepted lead.",
    )


@require_POST
@require_perm("leadops.log_discovery_call")
def lead_return(request, lead_id: int):
    return _act(
        request,
        lead_id,
        "return",
        lambda lead: services.lead_return(
            lead=lead, by=request.user, reason_code=request.POST.get("reason", ""), note=request.POST.get("note", "")
        ),
        "Returned to the SDR with your reason.",
    )


@require_POST
@require_perm("leadops.log_discovery_call")
def lead_opportunity(request, lead_id: int):
    return _act(
        request,
        lead_id,
        "opportunity",
        lambda lead: services.opportunity_save(
            lead=lead,
            by=request.user,
            amount=request.POST.get("amount", ""),
            stage=request.POST.get("stage", ""),
            expected_close=request.POST.get("expected_close", ""),
            loss_reason=request.POST.get("loss_reason", ""),
        ),
        "Opportunity saved.",
    )
