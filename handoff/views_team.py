"""The managers' team queues: each rep's open leads, load against capacity and service levels; one rep's work with
its clocks; accepted leads waiting for an AE; reassigning one lead or a selection with a reason (RevOps: all teams).
Thin: handoff.selectors_team reads, handoff.services.leads_reassign writes."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from handoff import rules, selectors_team, services
from leadops import roles
from leadops.permissions import has_role_perm, require_perm
from leadops.selectors import lead_list

TEAM_PERMS = (rules.PERM_TEAM, rules.PERM_CONFIGURE)
REP_PAGE_SIZE = 100
WAITING_LIMIT = 100
REFUSALS_SHOWN = 20


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


@require_perm(*TEAM_PERMS)
def team_queues(request):
    user, now = request.user, timezone.now()
    rows = selectors_team.rep_queues(user=user, reps=selectors_team.team_reps(user=user), now=now)
    waiting = list(selectors_team.waiting_for_ae(user=user)[: WAITING_LIMIT + 1])
    borderline = None
    if has_role_perm(user, "leadops.review_borderline"):
        from scoring.selectors import borderline_queue

        borderline = borderline_queue(user=user).count()
    return render(
        request,
        "handoff/team_queues.html",
        {
            "rows": rows,
            "all_teams": selectors_team.sees_all_teams(user),
            "totals": {
                name: sum(getattr(row, name) for row in rows)
                for name in ("mql", "sql", "accepted", "clocks_open", "at_risk", "breached_today")
            },
            "waiting": waiting[:WAITING_LIMIT],
            "waiting_more": len(waiting) > WAITING_LIMIT,
            "aes": list(selectors_team.assignable_reps(user=user, role=roles.AE)) if waiting else [],
            "borderline": borderline,
            "now": now,
            "here": reverse("handoff:team_queues"),
        },
    )


@require_perm(*TEAM_PERMS)
def team_rep(request, user_id: int):
    user, now = request.user, timezone.now()
    try:
        rep = selectors_team.team_rep_get(user=user, rep_id=user_id)
    except get_user_model().DoesNotExist:
        raise Http404("No rep with that id in the teams you oversee.") from None
    row = selectors_team.rep_queues(user=user, reps=selectors_team.team_reps(user=user).filter(pk=rep.pk), now=now)[0]
    page = Paginator(selectors_team.rep_leads(user=user, rep=rep), REP_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "handoff/team_rep.html",
        {
            "rep": rep,
            "row": row,
            "page": page,
            "targets": [other for other in selectors_team.assignable_reps(user=user) if other.pk != rep.pk],
            "now": now,
            "here": request.get_full_path(),
        },
    )


class LeadIdsField(forms.Field):
    """The ticked checkboxes: lead ids as whole numbers. Whether the person may move each lead is the service's
    decision, lead by lead, so any id is accepted here."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"required": "Select at least one lead.", "invalid": "A lead id is a whole number."}

    def to_python(self, value):
        ids = []
        for item in value or []:
            text = str(item).strip()
            if not (text.isascii() and text.isdigit()) or len(text) > 18:
                raise ValidationError(self.error_messages["invalid"], code="invalid")
            ids.append(int(text))
        return list(dict.fromkeys(ids))


class ReassignForm(forms.Form):
    lead_ids = LeadIdsField()
    to_user = forms.TypedChoiceField(
        coerce=int,
        choices=(),
        error_messages={
            "required": "Choose who gets them.",
            "invalid_choice": "Choose a rep of the teams you oversee.",
        },
    )
    reason = forms.CharField(max_length=500, strip=True, error_messages={"required": "A reassignment needs a reason."})

    def __init__(self, *args, targets, **kwargs):
        super().__init__(*args, **kwargs)
        self.targets = {person.pk: person for person in targets}
        self.fields["to_user"].choices = [(pk, _name(person)) for pk, person in self.targets.items()]

    def clean_to_user(self):
        pk = self.cleaned_data["to_user"]
        if pk not in self.targets:
            raise ValidationError("Choose a rep of the teams you oversee.")
        return self.targets[pk]


def _back(request):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("handoff:team_queues")


@require_POST
@require_perm(*TEAM_PERMS)
def team_reassign(request):
    """Reassign the selected leads to a rep of the person's teams, each lead decided on its own; the page says how
    many moved and why each of the others did not."""
    user = request.user
    form = ReassignForm(request.POST, targets=selectors_team.assignable_reps(user=user))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, f"Nothing was reassigned: {error}")
        return _back(request)
    to_user, lead_ids = form.cleaned_data["to_user"], form.cleaned_data["lead_ids"]
    try:
        result = services.leads_reassign(
            lead_ids=lead_ids, to_user=to_user, by=user, reason=form.cleaned_data["reason"]
        )
    except ValidationError as problem:
        for error in problem.messages:
            messages.error(request, f"Nothing was reassigned: {error}")
        return _back(request)
    # Leads that do not exist or that this person may not see are named by id only, never by name.
    missing = set(lead_ids) - set(result.done) - set(result.refused)
    names = {lead.pk: str(lead) for lead in lead_list(user=user).filter(pk__in=[*result.done, *result.refused])}
    if result.done:
        count = len(result.done)
        messages.success(request, f"{count} lead{'s' if count != 1 else ''} reassigned to {_name(to_user)}.")
    refusals = [(pk, why) for pk, why in sorted(result.refused.items())]
    refusals += [(pk, "No lead with that id is visible to you.") for pk in sorted(missing)]
    for pk, why in refusals[:REFUSALS_SHOWN]:
        messages.warning(request, f"Not reassigned: {names.get(pk, f'lead {pk}')}: {why}")
    if len(refusals) > REFUSALS_SHOWN:
        messages.warning(request, f"…and {len(refusals) - REFUSALS_SHOWN} more not reassigned.")
    return _back(request)
