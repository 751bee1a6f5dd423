"""Coaching pages: /playbooks/coaching/ (an AE their own calls, a manager their team's, an admin everyone's), the
targets (managers their team's, admins the defaults) and GET /api/playbooks/coaching/."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from leadops.permissions import require_perm
from playbooks import coaching, selectors_coaching, services_coaching
from playbooks.models import ObjectionKind

DEFAULT_DAYS = 90


class PeriodForm(forms.Form):
    days = forms.IntegerField(min_value=1, max_value=3650, required=False, initial=DEFAULT_DAYS)


@require_perm(*selectors_coaching.COACHING_PERMS)
def coaching_page(request):
    form = PeriodForm(request.GET or None)
    days = DEFAULT_DAYS
    if form.is_bound and form.is_valid() and form.cleaned_data["days"]:
        days = form.cleaned_data["days"]
    now = timezone.now()
    report = selectors_coaching.coaching_report(user=request.user, since=now - timedelta(days=days), until=now)
    return render(
        request,
        "playbooks/coaching.html",
        {
            "report": report,
            "form": form,
            "days": days,
            "editable": selectors_coaching.editable_targets(user=request.user),
            "objection_names": ObjectionKind.choices,
        },
    )


class TargetsForm(forms.Form):
    call_minutes_min = forms.IntegerField(label="Shortest call (min)", min_value=1, max_value=240)
    call_minutes_max = forms.IntegerField(label="Longest call (min)", min_value=1, max_value=240)
    questions_min = forms.IntegerField(label="Questions asked, at least", min_value=0, max_value=100)
    next_step_pct = forms.IntegerField(label="Next step documented (%)", min_value=0, max_value=100)
    decision_maker_pct = forms.IntegerField(label="Decision-maker present (%)", min_value=0, max_value=100)


@require_perm(selectors_coaching.PERM_TEAM, selectors_coaching.PERM_ALL)
def targets_edit(request):
    editable = selectors_coaching.editable_targets(user=request.user)
    forms_by_key = {}
    for team, targets in editable:
        key = str(team.pk) if team else "default"
        data = request.POST if request.method == "POST" and request.POST.get("team") == key else None
        initial = {name: getattr(targets, name) for name in services_coaching.FIELDS}
        forms_by_key[key] = (team, TargetsForm(data, initial=initial, prefix=key))
    if request.method == "POST":
        key = request.POST.get("team", "")
        if key not in forms_by_key:
            raise PermissionDenied("You may not edit these targets.")
        team, form = forms_by_key[key]
        if form.is_valid():
            try:
                services_coaching.coaching_targets_save(by=request.user, team=team, values=form.cleaned_data)
            except coaching.TargetsError as problem:
                form.add_error(problem.field, str(problem))
            else:
                messages.success(request, f"Coaching targets of {team or 'every team'} saved.")
                return redirect("playbooks:coaching")
    return render(
        request,
        "playbooks/coaching_targets.html",
        {"editors": [{"key": key, "team": team, "form": form} for key, (team, form) in forms_by_key.items()]},
    )


# --- API -----------------------------------------------------------------------------------------------------------


class MayCoach(BasePermission):
    message = "Your role does not give access to coaching metrics."

    def has_permission(self, request, view):
        return selectors_coaching.may_coach(request.user)


def _summary(summary: coaching.Summary) -> dict:
    return {
        "calls": summary.calls,
        "length_in_range_pct": summary.length_in_range.percent,
        "average_questions": summary.average_questions_display,
        "next_step_pct": summary.next_step.percent,
        "decision_maker_pct": summary.decision_maker.percent,
        "unresolved_objections": [{"objection": kind, "count": count} for kind, count in summary.unresolved_objections],
        "targets": {name: getattr(summary.targets, name) for name in services_coaching.FIELDS},
        "misses": list(summary.misses),
    }


class ObjectionCountSerializer(serializers.Serializer):
    objection = serializers.CharField()
    count = serializers.IntegerField()


class SummarySerializer(serializers.Serializer):
    calls = serializers.IntegerField()
    length_in_range_pct = serializers.FloatField(allow_null=True)
    average_questions = serializers.CharField(allow_null=True)
    next_step_pct = serializers.FloatField(allow_null=True)
    decision_maker_pct = serializers.FloatField(allow_null=True)
    unresolved_objections = ObjectionCountSerializer(many=True)
    targets = serializers.DictField()
    misses = serializers.ListField(child=serializers.CharField())


class AeSummarySerializer(SummarySerializer):
    ae = serializers.CharField()


class TeamSummarySerializer(SummarySerializer):
    team = serializers.CharField(allow_null=True)
    aes = AeSummarySerializer(many=True)


class FlaggedCallSerializer(serializers.Serializer):
    call = serializers.IntegerField()
    ae = serializers.CharField()
    lead = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    misses = serializers.ListField(child=serializers.CharField())


class CoachingOutputSerializer(serializers.Serializer):
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    teams = TeamSummarySerializer(many=True)
    flagged_calls = FlaggedCallSerializer(many=True)
    flagged_total = serializers.IntegerField()


class CoachingApi(APIView):
    """GET /api/playbooks/coaching/?since=&until=: the figures per team and AE and the flagged calls (default: the last
    90 days), for the calls the caller may coach."""

    permission_classes = [MayCoach]

    class InputSerializer(serializers.Serializer):
        since = serializers.DateTimeField(required=False)
        until = serializers.DateTimeField(required=False)

    @extend_schema(parameters=[InputSerializer], responses=CoachingOutputSerializer)
    def get(self, request):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        until = params.validated_data.get("until") or timezone.now()
        since = params.validated_data.get("since") or until - timedelta(days=DEFAULT_DAYS)
        report = selectors_coaching.coaching_report(user=request.user, since=since, until=until)
        return Response(
            {
                "since": since.isoformat(),
                "until": until.isoformat(),
                "teams": [
                    {
                        "team": row["team"].name if row["team"] else None,
                        **_summary(row["summary"]),
                        "aes": [{"ae": ae["ae"].get_username(), **_summary(ae["summary"])} for ae in row["aes"]],
                    }
                    for row in report.teams
                ],
                "flagged_calls": [
                    {
                        "call": item["call"].call_id,
                        "ae": item["ae"].get_username(),
                        "lead": item["call"].lead_id,
                        "occurred_at": item["call"].occurred_at.isoformat(),
                        "misses": list(item["misses"]),
                    }
                    for item in report.flagged
                ],
                "flagged_total": report.flagged_total,
            }
        )
