"""Next-best-action pages: a rep's due actions (/playbooks/actions/), closing one, the cadence rules (managers their
team's, admins the defaults), and the API list of a lead's next actions."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound

from leadops.api import HasLeadAccess
from leadops.models import Lead, Team
from leadops.permissions import has_role_perm, require_perm
from leadops.selectors import lead_get, team_member_ids
from playbooks import cadence, services_actions
from playbooks.models import CadenceRules, NextAction, NextActionState

WORK_QUEUE = "leadops.work_lead_queue"
TEAM = "leadops.view_team_leads"
CONFIGURE = "leadops.configure_territories"
UPCOMING_MAX = 200


def _end_of_today(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return datetime.combine(local.date() + timedelta(days=1), time.min, tzinfo=local.tzinfo)


def due_actions(*, user, now: datetime):
    """Open actions owed by this person (a manager: by their team) due by the end of today, oldest first."""
    actions = NextAction.objects.filter(state=NextActionState.OPEN).select_related("lead__account", "owner")
    if has_role_perm(user, WORK_QUEUE):
        actions = actions.filter(owner=user)
    elif has_role_perm(user, TEAM):
        actions = actions.filter(owner__in=team_member_ids(manager=user))
    else:
        actions = actions.none()
    return actions.filter(due_at__lt=_end_of_today(now)).order_by("due_at", "pk")


def due_today_count(*, user) -> int:
    """How many actions this rep owes by the end of today (for a badge on the queue page): one COUNT."""
    return due_actions(user=user, now=timezone.now()).count()


@require_perm(WORK_QUEUE, TEAM)
def action_list(request):
    now = timezone.now()
    due = list(due_actions(user=request.user, now=now)[:UPCOMING_MAX])
    upcoming = []
    if has_role_perm(request.user, WORK_QUEUE):
        upcoming = list(
            NextAction.objects.filter(owner=request.user, state=NextActionState.OPEN, due_at__gte=_end_of_today(now))
            .select_related("lead__account")
            .order_by("due_at", "pk")[:UPCOMING_MAX]
        )
    return render(request, "playbooks/next_actions.html", {"due": due, "upcoming": upcoming, "now": now})


@require_POST
@require_perm(WORK_QUEUE)
def action_close(request, pk: int):
    action = get_object_or_404(NextAction, pk=pk, owner=request.user)
    done = request.POST.get("done") == "1"
    try:
        services_actions.next_action_close(action=action, by=request.user, done=done, note=request.POST.get("note", ""))
    except services_actions.ActionError as problem:
        messages.error(request, str(problem))
    else:
        messages.success(request, f"{action.label}: {'done' if done else 'skipped'}.")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "playbooks:actions"
    return redirect(target)


def _editable_teams(user) -> list[Team | None]:
    teams: list[Team | None] = [None] if has_role_perm(user, CONFIGURE) else []
    if has_role_perm(user, TEAM):
        teams += list(Team.objects.filter(manager=user).order_by("name"))
    return teams


@require_perm(TEAM, CONFIGURE)
def cadence_rules(request):
    teams = _editable_teams(request.user)
    rows = {row.team_id: row for row in CadenceRules.objects.filter(team__in=[t for t in teams if t])}
    default = CadenceRules.objects.filter(team__isnull=True).first()
    problems, posted = {}, None
    if request.method == "POST":
        key = request.POST.get("team", "")
        team = next((t for t in teams if (str(t.pk) if t else "default") == key), "missing")
        if team == "missing":
            raise PermissionDenied("You may not edit these rules.")
        posted = request.POST.get("rules", "")
        try:
            data = json.loads(posted)
        except ValueError as error:
            problems = {"rules": [f"Not JSON: {error}."]}
        else:
            try:
                services_actions.cadence_rules_save(by=request.user, team=team, data=data)
            except cadence.CadenceRulesError as error:
                problems = error.problems
            else:
                messages.success(request, f"Cadence rules of {team or 'every team'} saved.")
                return redirect("playbooks:cadence_rules")
    editors = []
    for team in teams:
        row = rows.get(team.pk) if team else default
        source = row.rules if row else (default.rules if default else cadence.DEFAULT_RULES)
        editors.append(
            {
                "team": team,
                "key": str(team.pk) if team else "default",
                "own": row is not None,
                "text": json.dumps(source, indent=2),
            }
        )
    return render(
        request, "playbooks/next_actions_rules.html", {"editors": editors, "problems": problems, "posted": posted}
    )


class NextActionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    step_key = serializers.CharField()
    kind = serializers.CharField()
    label = serializers.CharField()
    due_at = serializers.DateTimeField()
    reason = serializers.CharField()
    state = serializers.CharField()
    owner = serializers.CharField(source="owner.username")
    closed_at = serializers.DateTimeField()
    closed_reason = serializers.CharField()


class LeadNextActionsApi(generics.ListAPIView):
    """GET /api/playbooks/leads/<id>/next-actions/: the lead's actions, open first, then the latest closed; only for a
    lead the caller may see."""

    permission_classes = [HasLeadAccess]
    serializer_class = NextActionOutput

    def get_queryset(self):
        try:
            lead = lead_get(user=self.request.user, lead_id=self.kwargs["lead_id"])
        except Lead.DoesNotExist:
            raise NotFound("No lead with that id is visible to you.") from None
        return NextAction.objects.filter(lead=lead).select_related("owner").order_by("-state", "due_at", "pk")
