"""A version's way to active: submit, approve or reject, roll back, and the managers' approval inbox."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from leadops.permissions import require_perm
from scoring import selectors
from scoring.forms.decisions import DecisionForm, SubmitForm
from scoring.models import VersionStatus
from scoring.services import governance
from scoring.views.common import APPROVE, EDIT, SERVICE_ERRORS, _version_for
from scoring.views.preview import preview_summary
from scoring.views.versions import _version_page


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
        selectors.version_list(user=request.user)
        .filter(governance.changed_by(request.user), status=VersionStatus.SUBMITTED)
        .count()
    )
    return render(request, "scoring/approval_inbox.html", {"versions": versions, "own_waiting": own_waiting})
