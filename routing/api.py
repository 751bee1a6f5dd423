"""REST API of routing: a lead's decisions, a dry run for a described lead, territories (read all, write admins)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from leadops.api import HasLeadAccess
from leadops.models import Lead
from leadops.permissions import has_any_role_perm, has_role_perm
from leadops.rules import Segment, segment_for
from routing import rules, selectors, services
from routing.models import MemberRole, Territory

CONFIGURE = "leadops.configure_territories"
DRY_RUN_PERMS = (CONFIGURE, "leadops.view_team_leads")


class CanReadTerritories(BasePermission):
    message = "Your role does not give access to territories."

    def has_permission(self, request, view):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return has_role_perm(request.user, "leadops.view_lead")  # every LeadOps role
        return has_role_perm(request.user, CONFIGURE)


class CanDryRun(BasePermission):
    message = "Your role does not allow you to try routing."

    def has_permission(self, request, view):
        return has_any_role_perm(request.user, DRY_RUN_PERMS)


def _refused(error: ValidationError) -> Response:
    return Response(
        {"detail": "The territory was not saved; nothing changed.", "errors": error.message_dict},
        status=status.HTTP_400_BAD_REQUEST,
    )


def _person(user) -> dict | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.get_username(), "name": user.get_full_name()}


# --- a lead's decisions --------------------------------------------------------------------------------------------


class DecisionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    assignee = serializers.SerializerMethodField()
    queue = serializers.CharField()
    queue_owner = serializers.SerializerMethodField()
    territory = serializers.CharField(source="territory.name", default=None)
    path = serializers.ListField(child=serializers.CharField())
    reason = serializers.CharField()
    setup_version = serializers.IntegerField()
    decided_at = serializers.DateTimeField()
    by = serializers.CharField(source="actor_label")

    def get_assignee(self, decision) -> dict | None:
        return _person(decision.assignee)

    def get_queue_owner(self, decision) -> dict | None:
        return _person(decision.queue_owner)


class LeadRoutingDecisionsApi(generics.ListAPIView):
    """Where a lead went and why, newest first; only for a lead the caller may see."""

    permission_classes = [HasLeadAccess]
    serializer_class = DecisionOutputSerializer

    def get_queryset(self):
        try:
            return selectors.routing_decision_list(user=self.request.user, lead_id=self.kwargs["lead_id"])
        except Lead.DoesNotExist:
            raise NotFound("No lead with that id is visible to you.") from None


# --- dry run -----------------------------------------------------------------------------------------------------


class DryRunApi(APIView):
    """Where a described lead would go now under the published territories, and why. Nothing is written."""

    permission_classes = [CanDryRun]

    class InputSerializer(serializers.Serializer):
        score = serializers.IntegerField(min_value=0, max_value=100)
        fit = serializers.IntegerField(min_value=0, max_value=100)
        temperature = serializers.ChoiceField(choices=["hot", "warm", "cold", ""], default="")
        country = serializers.CharField(allow_blank=True, default="")
        region = serializers.CharField(allow_blank=True, default="")
        industry = serializers.CharField(allow_blank=True, default="")
        employees = serializers.IntegerField(min_value=0, allow_null=True, default=None)
        revenue = serializers.DecimalField(max_digits=16, decimal_places=2, min_value=0, allow_null=True, default=None)
        segment = serializers.ChoiceField(choices=Segment.CHOICES, required=False)
        last_signal_at = serializers.DateTimeField(
            allow_null=True, default=None, help_text="The latest intent or buying signal; null: none on record."
        )
        named_owner_id = serializers.IntegerField(allow_null=True, default=None)

    class OutputSerializer(serializers.Serializer):
        assignee_id = serializers.IntegerField(allow_null=True)
        queue = serializers.CharField()
        queue_owner_id = serializers.IntegerField(allow_null=True)
        territory_id = serializers.IntegerField(allow_null=True)
        path = serializers.ListField(child=serializers.CharField())
        reason = serializers.CharField()

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        segment = values.pop("segment", None) or segment_for(
            employees=values["employees"], annual_revenue=values["revenue"]
        )
        facts = rules.LeadFacts(lead_id=0, segment=segment, **values)
        decision = selectors.route_preview(lead=facts, now=timezone.now())
        return Response(self.OutputSerializer(decision).data)


# --- territories ---------------------------------------------------------------------------------------------------


class MemberSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    username = serializers.CharField(source="user.username", read_only=True)
    role = serializers.ChoiceField(choices=MemberRole.choices)
    weight = serializers.DecimalField(max_digits=5, decimal_places=2, default=1)
    monthly_capacity = serializers.IntegerField(required=False)
    active = serializers.BooleanField(default=True)


class TerritorySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=100)
    priority = serializers.IntegerField()
    team_id = serializers.IntegerField()
    countries = serializers.ListField(child=serializers.CharField(), default=list)
    regions = serializers.ListField(child=serializers.CharField(), default=list)
    industries = serializers.ListField(child=serializers.CharField(), default=list)
    segments = serializers.ListField(child=serializers.CharField(), default=list)
    employees_min = serializers.IntegerField(allow_null=True, default=None)
    employees_max = serializers.IntegerField(allow_null=True, default=None)
    revenue_min = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True, default=None)
    revenue_max = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True, default=None)
    calendar = serializers.JSONField(default=dict)
    active = serializers.BooleanField(default=True)
    setup_version = serializers.IntegerField(read_only=True)
    members = MemberSerializer(many=True, required=False)


def _territories():
    return selectors.territory_list().prefetch_related("members__user")


class TerritoryListApi(generics.ListCreateAPIView):
    """Every territory with its members (all LeadOps roles); an admin creates one (POST)."""

    permission_classes = [CanReadTerritories]
    serializer_class = TerritorySerializer

    def get_queryset(self):
        return _territories()

    def create(self, request, *args, **kwargs):
        return _save(request, territory=None, partial=False)


class TerritoryDetailApi(generics.RetrieveUpdateAPIView):
    permission_classes = [CanReadTerritories]
    serializer_class = TerritorySerializer
    lookup_url_kwarg = "territory_id"

    def get_queryset(self):
        return _territories()

    def update(self, request, *args, **kwargs):
        return _save(request, territory=self.get_object(), partial=kwargs.get("partial", False))


def _save(request, *, territory: Territory | None, partial: bool) -> Response:
    incoming = TerritorySerializer(data=request.data, partial=partial)
    incoming.is_valid(raise_exception=True)
    data = dict(incoming.validated_data)
    members = data.pop("members", None)
    try:
        saved = services.territory_save(by=request.user, data=data, members=members, territory=territory)
    except ValidationError as error:
        return _refused(error)
    except PermissionDenied as error:
        return Response({"detail": str(error)}, status=status.HTTP_403_FORBIDDEN)
    saved = _territories().get(pk=saved.pk)
    return Response(
        TerritorySerializer(saved).data, status=status.HTTP_201_CREATED if territory is None else status.HTTP_200_OK
    )
