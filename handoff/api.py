"""REST API of the handoff: the same actions as the lead page (accept, reject with a reason, log an activity, claim,
take on as SAL, return, save the opportunity, reassign) with the same permissions, since both call handoff.services,
which check handoff.rules. Errors: 400 with the problems by field, 403 with why not, 404 for a lead the caller cannot
see, 409 when the lead changed since the caller read it (`expected_stage`)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from handoff import selectors, services
from leadops import selectors as lead_selectors
from leadops.models import Lead
from leadops.permissions import has_any_role_perm
from leadops.rules import IllegalTransition, Stage

WORK_PERMS = ("leadops.work_lead_queue", "leadops.accept_sql", "leadops.log_discovery_call")
REASSIGN_PERMS = ("leadops.view_team_leads", "leadops.configure_territories")


class WorksLeads(BasePermission):
    message = "Your role does not work leads."

    def has_permission(self, request, view):
        return has_any_role_perm(request.user, WORK_PERMS)


class ReassignsLeads(BasePermission):
    message = "Only managers and RevOps reassign leads."

    def has_permission(self, request, view):
        return has_any_role_perm(request.user, REASSIGN_PERMS)


class LeadStateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    stage = serializers.CharField()
    owner = serializers.CharField(source="owner.username", default=None)
    sdr = serializers.CharField(source="sdr.username", default=None)
    accepted_at = serializers.DateTimeField()
    sal_at = serializers.DateTimeField()
    first_activity_at = serializers.DateTimeField()


def _answer(perform, lead: Lead, *, created=False):
    try:
        result = perform()
    except ValidationError as problem:
        detail = problem.message_dict if hasattr(problem, "error_dict") else {"detail": problem.messages}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    except (services.LeadChanged, IllegalTransition) as stale:
        lead.refresh_from_db()
        return Response({"detail": str(stale), "lead": LeadStateSerializer(lead).data}, status=status.HTTP_409_CONFLICT)
    except PermissionDenied as refused:
        return Response({"detail": str(refused)}, status=status.HTTP_403_FORBIDDEN)
    lead.refresh_from_db()
    body = {"lead": LeadStateSerializer(lead).data}
    if result is not None and not isinstance(result, Lead):
        body["id"] = result.pk
    return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class _LeadAction(APIView):
    permission_classes = [IsAuthenticated, WorksLeads]

    def lead(self, request, lead_id: int) -> Lead:
        try:
            return lead_selectors.lead_get(user=request.user, lead_id=lead_id)
        except Lead.DoesNotExist:
            raise NotFound("No lead with that id is visible to you.") from None


class ExpectedStageSerializer(serializers.Serializer):
    expected_stage = serializers.ChoiceField(choices=Stage.ALL, required=False)


class AcceptApi(_LeadAction):
    """Accept an SQL you own: it goes to the AE routing chooses."""

    @extend_schema(request=ExpectedStageSerializer, responses=LeadStateSerializer)
    def post(self, request, lead_id: int):
        lead = self.lead(request, lead_id)
        data = ExpectedStageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        expected = data.validated_data.get("expected_stage", Stage.SQL)
        return _answer(lambda: services.lead_accept(lead=lead, by=request.user, expected_stage=expected), lead)


class RejectSerializer(ExpectedStageSerializer):
    reason = serializers.CharField(allow_blank=True, help_text="A reason code from /api/handoff/reasons/.")
    note = serializers.CharField(allow_blank=True, max_length=services.NOTE_MAX)


class RejectApi(_LeadAction):
    """Reject an SQL you own with a reason code and a note (both required)."""

    @extend_schema(request=RejectSerializer, responses=LeadStateSerializer)
    def post(self, request, lead_id: int):
        lead = self.lead(request, lead_id)
        data = RejectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        return _answer(
            lambda: services.lead_reject(
                lead=lead,
                by=request.user,
                reason_code=values["reason"],
                note=values["note"],
                expected_stage=values.get("expected_stage", Stage.SQL),
            ),
            lead,
        )


class ActivitySerializer(serializers.Serializer):
    kind = serializers.CharField()
    outcome = serializers.CharField(allow_blank=True)
    note = serializers.CharField(allow_blank=True, required=False, default="")
    occurred_at = serializers.DateTimeField(required=False)
    duration_minutes = serializers.IntegerField(required=False, allow_null=True)


class ActivityApi(_LeadAction):
    """Log a call, e-mail or meeting on a lead you own (the first one stops the contact clock)."""

    @extend_schema(request=ActivitySerializer, responses=LeadStateSerializer)
    def post(self, request, lead_id: int):
        lead = self.lead(request, lead_id)
        data = ActivitySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        return _answer(
            lambda: services.activity_record(
                lead=lead,
                by=request.user,
                kind=values["kind"],
                outcome=values["outcome"],
                note=values.get("note", ""),
                occurred_at=values.get("occurred_at"),
                duration_minutes=values.get("duration_minutes"),
            ),
            lead,
            created=True,
        )


class ClaimApi(_LeadAction):
    """Claim an unowned lead from the queue of a territory you belong to, within your capacity."""

    @extend_schema(request=None, responses=LeadStateSerializer)
    def post(self, request, lead_id: int):
        # Not yet the caller's, so not in their list: the service decides whether they may claim it.
        lead = Lead.objects.filter(pk=lead_id).first()
        if lead is None:
            raise NotFound("No such lead.")
        if lead.owner_id is None and selectors.lead_territory(lead.pk) is None:
            raise NotFound("No lead with that id waits in a territory queue.")
        return _answer(lambda: services.lead_claim(lead=lead, by=request.user), lead)


class SalApi(_LeadAction):
    """Take an accepted lead handed to you on as a sales-accepted lead (AEs)."""

    @extend_schema(request=None, responses=LeadStateSerializer)
    def post(self, request, lead_id: int):
        lead = self.lead(request, lead_id)
        return _answer(lambda: services.lead_sal_accept(lead=lead, by=request.user), lead)


class ReturnSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True)
    note = serializers.CharField(allow_blank=True, max_length=services.NOTE_MAX)


class ReturnApi(_LeadAction):
    """Return an accepted lead to the SDR who accepted it, with a reason code and a note (AEs)."""

    @extend_schema(request=ReturnSerializer, responses=LeadStateSerializer)
    def post(self, request, lead_id: int):
        lead = self.lead(request, lead_id)
        data = ReturnSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        return _answer(
            lambda: services.lead_return(lead=lead, by=request.user, reason_code=values["reason"], note=values["note"]),
            lead,
        )


class OpportunitySerializer(serializers.Serializer):
    amount = serializers.CharField()
    stage = serializers.CharField()
    expected_close = serializers.CharField(allow_blank=True, required=False, default="")
    name = serializers.CharField(allow_blank=True, required=False, default="")
    loss_reason = serializers.CharField(allow_blank=True, required=False, default="")


class OpportunityApi(_LeadAction):
    """Open or update the opportunity of an SAL you own (AEs); won or lost closes the lead too."""

    @extend_schema(request=OpportunitySerializer, responses=LeadStateSerializer)
    def post(self, request, lead_id: int):
        lead = self.lead(request, lead_id)
        data = OpportunitySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return _answer(lambda: services.opportunity_save(lead=lead, by=request.user, **data.validated_data), lead)


class ReassignSerializer(serializers.Serializer):
    lead_ids = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=500)
    to_user = serializers.CharField(help_text="Username of the rep who takes the leads.")
    reason = serializers.CharField(allow_blank=True)


class ReassignOutputSerializer(serializers.Serializer):
    reassigned = serializers.ListField(child=serializers.IntegerField())
    refused = serializers.DictField(child=serializers.CharField(), help_text="Lead id -> why it was not moved.")


class ReassignApi(APIView):
    """Reassign one lead or a selection to another rep with a reason (managers of the leads' team, RevOps). Each
    lead is decided on its own; the answer lists those moved and why the others were not."""

    permission_classes = [IsAuthenticated, ReassignsLeads]

    @extend_schema(request=ReassignSerializer, responses=ReassignOutputSerializer)
    def post(self, request):
        data = ReassignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        to_user = get_user_model().objects.filter(username=values["to_user"], is_active=True).first()
        if to_user is None:
            return Response({"to_user": ["No active user with that username."]}, status=status.HTTP_400_BAD_REQUEST)
        visible = set(
            lead_selectors.lead_list(user=request.user).filter(pk__in=values["lead_ids"]).values_list("pk", flat=True)
        )
        try:
            result = services.leads_reassign(
                lead_ids=sorted(visible), to_user=to_user, by=request.user, reason=values["reason"]
            )
        except ValidationError as problem:
            return Response(problem.message_dict, status=status.HTTP_400_BAD_REQUEST)
        refused = {str(pk): why for pk, why in result.refused.items()}
        refused.update(
            {str(pk): "No lead with that id is visible to you." for pk in values["lead_ids"] if pk not in visible}
        )
        return Response({"reassigned": result.done, "refused": refused})


class ReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    disqualifies = serializers.BooleanField()


class ReasonsApi(APIView):
    """The rejection reason codes in use."""

    permission_classes = [IsAuthenticated, WorksLeads]

    @extend_schema(responses=ReasonSerializer(many=True))
    def get(self, request):
        return Response(ReasonSerializer(selectors.rejection_reasons(), many=True).data)
