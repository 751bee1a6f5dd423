"""REST API of the SLA: a lead's clocks (whoever may see the lead), team compliance by policy and period."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from leadops.api import HasLeadAccess
from leadops.models import Lead
from leadops.permissions import has_any_role_perm
from sla import selectors

COMPLIANCE_PERMS = ("leadops.view_team_leads", "leadops.configure_territories")


class ClockOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    policy = serializers.CharField(source="policy.key")
    policy_name = serializers.CharField(source="policy.name")
    owner = serializers.CharField(source="owner.username", default=None)
    state = serializers.CharField()
    started_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    met_at = serializers.DateTimeField()
    breached_at = serializers.DateTimeField()
    stopped_at = serializers.DateTimeField()
    escalation_step = serializers.IntegerField()
    calendar_note = serializers.CharField()
    outcome = serializers.CharField()
    steps = serializers.SerializerMethodField()

    def get_steps(self, clock) -> list[dict]:
        return [
            {"step": e.step, "action": e.action, "at": e.at.isoformat(), "detail": e.detail}
            for e in clock.escalations.all()
        ]


class LeadClocksApi(generics.ListAPIView):
    """A lead's service-level clocks, newest first; only for a lead the caller may see."""

    permission_classes = [HasLeadAccess]
    serializer_class = ClockOutputSerializer

    def get_queryset(self):
        try:
            return selectors.clock_list_for_lead(user=self.request.user, lead_id=self.kwargs["lead_id"])
        except Lead.DoesNotExist:
            raise NotFound("No lead with that id is visible to you.") from None


class CanSeeCompliance(BasePermission):
    message = "Your role does not give access to team compliance."

    def has_permission(self, request, view):
        return has_any_role_perm(request.user, COMPLIANCE_PERMS)


class PolicyComplianceSerializer(serializers.Serializer):
    policy = serializers.CharField()
    met = serializers.IntegerField()
    breached = serializers.IntegerField()
    compliance_pct = serializers.FloatField(allow_null=True)


class ComplianceOutputSerializer(serializers.Serializer):
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    policies = PolicyComplianceSerializer(many=True)


class ComplianceApi(APIView):
    """Clocks met and breached per policy in a period (default: the last 7 days) on the leads the caller sees."""

    permission_classes = [CanSeeCompliance]

    class InputSerializer(serializers.Serializer):
        since = serializers.DateTimeField(required=False)
        until = serializers.DateTimeField(required=False)

    @extend_schema(parameters=[InputSerializer], responses=ComplianceOutputSerializer)
    def get(self, request):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        until = params.validated_data.get("until") or timezone.now()
        since = params.validated_data.get("since") or until - timedelta(days=7)
        rows = selectors.compliance(clocks=selectors.team_clocks(user=request.user), since=since, until=until)
        return Response(
            {
                "since": since.isoformat(),
                "until": until.isoformat(),
                "policies": [
                    {"policy": r.policy.key, "met": r.met, "breached": r.breached, "compliance_pct": r.rate}
                    for r in rows
                ],
            }
        )
