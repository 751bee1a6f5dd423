"""The SDR queue page (/work/queue/): the leads a rep works, soonest SLA first, with what they need to decide on each
row, one-click claims, bulk reject (and, for managers, bulk reassign), CSV export and keyboard shortcuts.

Views stay thin: handoff.selectors_queue reads, handoff.services acts (the per-row accept, reject, log and claim
forms post to the lead actions in handoff.views, which come back here through `next`)."""

from __future__ import annotations

from datetime import UTC
from itertools import islice

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from handoff import rules, services
from handoff import selectors as handoff_selectors
from handoff import selectors_queue as queue
from leadops import selectors as lead_selectors
from leadops.csv_export import csv_response
from leadops.models import Activity, Lead
from leadops.permissions import has_any_role_perm, require_perm

QUEUE_PERMS = (rules.PERM_WORK, rules.PERM_TEAM)
EXPORT_CHUNK = 500
# htmx stops polling on this status: a signed-out or refused badge must not keep asking (nor swap a login page in).
HTMX_STOP_POLLING = 286


def _queue_page(request):
    """The scope, the cleaned filters, the sort and the filtered leads of the request's query string."""
    scope = queue.queue_scope(user=request.user)
    team = queue.team_reps(scope=scope)
    options = queue.filter_options(scope=scope, team=team)
    filters = queue.clean_filters(request.GET, options)
    leads = queue.queue_filter(queue.queue_leads(scope=scope), filters=filters, scope=scope)
    leads, sort = queue.queue_sort(leads, request.GET.get("sort", ""))
    return scope, team, options, filters, leads, sort


def _per_page(request) -> int:
    try:
        size = int(request.GET.get("per_page", ""))
    except ValueError:
        return queue.PAGE_SIZES[0]
    return size if size in queue.PAGE_SIZES else queue.PAGE_SIZES[0]


@require_GET
@require_perm(*QUEUE_PERMS)
def queue_page(request):
    scope, team, options, filters, leads, sort = _queue_page(request)
    per_page = _per_page(request)
    page = Paginator(leads, per_page).get_page(request.GET.get("page"))
    known = {int(pk): name for pk, name in options.territory}
    rows = queue.queue_rows(scope=scope, leads=page.object_list, territory_names=known)
    can_reject = rules.PERM_ACCEPT in scope.perms
    context = {
        "scope": scope,
        "rows": rows,
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        "filters": filters,
        "options": options,
        "filtered": bool(filters),
        "sort": sort,
        "sort_key": sort.lstrip("-") or "due",
        "sort_desc": sort.startswith("-"),
        "sort_label": queue.SORT_LABELS.get(sort.lstrip("-"), ""),
        "per_page": per_page,
        "page_sizes": queue.PAGE_SIZES,
        "team": team,
        "reasons": list(handoff_selectors.rejection_reasons()) if can_reject else [],
        "can_reject": can_reject,
        "activity_kinds": Activity.Kind.choices,
        "outcomes": services.ACTIVITY_OUTCOMES,
        "territory_names": [name for _, name in options.territory],
        "now": timezone.now(),
        "here": request.get_full_path(),
    }
    # Filters, sorting and page links swap only the results (#queue-results); a history restore needs the page.
    partial = request.htmx and not request.htmx.history_restore_request
    return render(request, "handoff/partials/_queue_table.html" if partial else "handoff/queue.html", context)


@require_GET
def queue_count(request):
    """The navigation badge's number, polled by htmx."""
    if not request.user.is_authenticated or not has_any_role_perm(request.user, (rules.PERM_WORK,)):
        return HttpResponse(status=HTMX_STOP_POLLING)
    count = queue.queue_open_count(user=request.user)
    return render(request, "handoff/partials/_queue_badge.html", {"count": count})


EXPORT_HEADERS = [
    "Lead id",
    "Name",
    "E-mail",
    "Title",
    "Company",
    "Segment",
    "Stage",
    "Owner",
    "Territory",
    "Score",
    "Fit",
    "Engagement",
    "Intent",
    "Buying signals",
    "Tier",
    "Temperature",
    "Fast-tracked",
    "Top reason",
    "SLA due (UTC)",
    "Last activity (UTC)",
    "Source",
]


def _iso(value) -> str:
    return timezone.localtime(value, UTC).strftime("%Y-%m-%d %H:%M") if value else ""


def _export_rows(leads, scope):
    from routing.models import Territory

    names = dict(Territory.objects.filter(pk__in=scope.pool_territory_ids).values_list("pk", "name"))
    iterator = leads.iterator(chunk_size=EXPORT_CHUNK)
    while chunk := list(islice(iterator, EXPORT_CHUNK)):
        missing = {lead.queue_territory_id for lead in chunk} - set(names) - {None}
        if missing:
            names.update(Territory.objects.filter(pk__in=missing).values_list("pk", "name"))
        reasons = queue.top_reasons(chunk)
        for lead in chunk:
            reason = reasons.get(lead.pk)
            yield [
                lead.pk,
                lead.full_name,
                lead.email,
                lead.title,
                lead.account.name if lead.account else "",
                lead.account.segment_label if lead.account else "",
                lead.stage_label,
                (lead.owner.get_full_name() or lead.owner.get_username()) if lead.owner else "",
                names.get(lead.queue_territory_id, ""),
                lead.score_total,
                lead.score_fit,
                lead.score_engagement,
                lead.score_intent,
                lead.score_buying,
                lead.get_score_tier_display(),
                lead.get_temperature_display(),
                "yes" if lead.fast_tracked_at else "",
                reason.text if reason else "",
                _iso(lead.sla_due),
                _iso(lead.last_activity_at),
                lead.get_source_display(),
            ]


@require_GET
@require_perm(*QUEUE_PERMS)
def queue_export(request):
    """The filtered queue, in the page's order, as CSV (formula-like cells neutralised by leadops.csv_export)."""
    scope, _team, _options, _filters, leads, _sort = _queue_page(request)
    stamp = timezone.localtime().strftime("%Y-%m-%d")
    return csv_response(_export_rows(leads, scope), EXPORT_HEADERS, filename=f"leadops-queue-{stamp}.csv")


# --- bulk actions -----------------------------------------------------------------------------------------------------


def _back_to_queue(request):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("handoff:queue")


def _selected_ids(request) -> list[int]:
    ids = []
    for value in request.POST.getlist("lead_ids"):
        text = value.strip()
        # Only ids a lead can have: a tampered value (letters, 30 digits past the database's integers) is dropped.
        if text.isascii() and text.isdigit() and len(text) <= 18:
            ids.append(int(text))
    return ids[:500]


def _report(request, result: services.BulkResult, *, done_words: str, unseen: int) -> None:
    """Done and refused, each refused lead by name with why."""
    if result.done:
        messages.success(request, f"{len(result.done)} lead{'' if len(result.done) == 1 else 's'} {done_words}.")
    if result.refused:
        names = {lead.pk: str(lead) for lead in Lead.objects.filter(pk__in=list(result.refused))}
        for lead_id, why in sorted(result.refused.items()):
            messages.warning(request, f"Not {done_words}: {names.get(lead_id, lead_id)}: {why}")
    if unseen:
        messages.warning(request, f"{unseen} selected lead{'' if unseen == 1 else 's'} could not be found among yours.")
    if not (result.done or result.refused or unseen):
        messages.info(request, "No lead was selected.")


def _visible(request, ids: list[int]) -> tuple[list[int], int]:
    """The selected ids the person may see (lead_list); ids of others' leads are not named, only counted."""
    visible = list(lead_selectors.lead_list(user=request.user).filter(pk__in=ids).values_list("pk", flat=True))
    return visible, len(set(ids)) - len(visible)


@require_POST
@require_perm(rules.PERM_ACCEPT)
def queue_bulk_reject(request):
    ids, unseen = _visible(request, _selected_ids(request))
    if not ids and not unseen:
        messages.info(request, "Select the leads to reject first (x or the row's checkbox).")
        return _back_to_queue(request)
    # The service decides each lead as it stands now (a selected MQL is told it is not an SQL) and says why.
    try:
        result = services.leads_reject(
            lead_ids=ids,
            by=request.user,
            reason_code=request.POST.get("reason", ""),
            note=request.POST.get("note", ""),
        )
    except ValidationError as problem:
        words = " ".join(message for messages_ in problem.message_dict.values() for message in messages_)
        messages.error(request, f"Nothing was rejected: {words}")
        return _back_to_queue(request)
    _report(request, result, done_words="rejected", unseen=unseen)
    return _back_to_queue(request)


@require_POST
@require_perm(rules.PERM_TEAM)
def queue_bulk_reassign(request):
    ids, unseen = _visible(request, _selected_ids(request))
    scope = queue.queue_scope(user=request.user)
    try:
        to_id = int(request.POST.get("to_user", ""))
    except ValueError:
        to_id = None
    to_user = get_user_model().objects.filter(pk=to_id, is_active=True).first() if to_id in scope.team_ids else None
    if to_user is None:
        messages.error(request, "Nothing was reassigned: choose a rep of your team.")
        return _back_to_queue(request)
    if not ids and not unseen:
        messages.info(request, "Select the leads to reassign first (x or the row's checkbox).")
        return _back_to_queue(request)
    try:
        result = services.leads_reassign(
            lead_ids=ids, to_user=to_user, by=request.user, reason=request.POST.get("reason", "")
        )
    except ValidationError as problem:
        words = " ".join(message for messages_ in problem.message_dict.values() for message in messages_)
        messages.error(request, f"Nothing was reassigned: {words}")
        return _back_to_queue(request)
    _report(request, result, done_words=f"reassigned to {to_user.get_full_name() or to_user}", unseen=unseen)
    return _back_to_queue(request)
