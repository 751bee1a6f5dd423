"""REST API of scoring: a lead's score with its explanation, versions (read), and the approval steps.

Same selectors and services as the pages, so who may do what, what is visible and the refusal messages are the
same whichever way a person comes in.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from leadops.api import HasLeadAccess
from leadops.models import Lead
from leadops.permissions import has_any_role_perm
from leadops.selectors import lead_get
from scoring import rules as engine
from scoring import selectors
from scoring.facts import engine_model
from scoring.forms.summaries import rule_summary
from scoring.services import governance
from scoring.services.governance import GovernanceError

EDIT = "leadops.edit_scoring_rules"
APPROVE = "leadops.approve_scoring_rules"


class _HasAnyPerm(BasePermission):
    perms: tuple[str, ...] = ()

    def has_permission(self, request, view):
        return has_any_role_perm(request.user, self.perms)


class CanReadScoringVersions(_HasAnyPerm):
    message = "Your role does not give access to scoring models."
    perms = (EDIT, APPROVE)


class CanEditScoring(_HasAnyPerm):
    message = "Your role does not allow you to edit or submit scoring changes."
    perms = (EDIT,)


class CanApproveScoring(_HasAnyPerm):
    message = "Your role does not allow you to approve or reject scoring changes."
    perms = (APPROVE,)


# --- serializers shared by the version endpoints ----------------------------------------------------------------


class ContributionSerializer(serializers.Serializer):
    rule_key = serializers.CharField()
    rule_name = serializers.CharField()
    pillar = serializers.CharField()
    points = serializers.FloatField()
    matched = serializers.CharField(help_text="The fact that matched, in words.")


class VersionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    model = serializers.CharField(source="model.name")
    number = serializers.IntegerField()
    label = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    change_note = serializers.CharField()
    based_on = serializers.IntegerField(source="based_on_id", allow_null=True)
    author = serializers.CharField(source="author.username", default=None)
    created_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    decided_by = serializers.CharField(source="decided_by.username", default=None)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_comment = serializers.CharField()
    activated_at = serializers.DateTimeField(allow_null=True)
    retired_at = serializers.DateTimeField(allow_null=True)
    weights = serializers.SerializerMethodField()
    thresholds = serializers.SerializerMethodField()
    preview_status = serializers.SerializerMethodField()

    def get_weights(self, version) -> dict[str, float]:
        return {p: float(getattr(version, f"weight_{p}")) for p in engine.PILLARS}

    def get_thresholds(self, version) -> dict[str, int]:
        return {name: getattr(version, name) for name in governance.VERSION_FIELDS if not name.startswith("weight_")}

    def get_preview_status(self, version) -> str | None:
        preview = getattr(version, "preview", None)
        return preview.status if preview else None


class RuleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    pillar = serializers.CharField()
    points = serializers.FloatField()
    description = serializers.SerializerMethodField()
    field = serializers.CharField()
    operator = serializers.CharField()
    value = serializers.JSONField()
    event_kind = serializers.CharField()
    property_name = serializers.CharField()
    property_value = serializers.CharField()
    cap = serializers.FloatField(allow_null=True)
    half_life_days = serializers.FloatField(allow_null=True)
    min_count = serializers.IntegerField()
    min_surge = serializers.IntegerField(allow_null=True)
    topics = serializers.ListField(child=serializers.CharField())
    within_days = serializers.IntegerField(allow_null=True)
    days = serializers.IntegerField(allow_null=True)

    def get_description(self, rule) -> str:
        return rule_summary(rule)


class VersionDetailSerializer(VersionSerializer):
    rules = RuleSerializer(many=True, source="rules.all")
    preview = serializers.SerializerMethodField()

    def get_preview(self, version) -> dict | None:
        preview = getattr(version, "preview", None)
        if preview is None:
            return None
        return {"status": preview.status, "computed_at": preview.computed_at, "results": preview.results}


def _versions(user):
    return selectors.version_list(user=user).select_related("preview").prefetch_related("rules")


def _refused(error: Exception) -> Response:
    body = {"detail": str(error)}
    if getattr(error, "field", ""):  # what the refusal is about, as the engine names it (e.g. "thresholds.mql")
        body["field"] = error.field
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


# --- endpoints ----------------------------------------------------------------------------------------------


class LeadScoreApi(APIView):
    """A lead's stored score with the contributions that add up to it (recomputed from the same facts)."""

    permission_classes = [HasLeadAccess]

    @extend_schema_serializer(component_name="LeadScore")
    class OutputSerializer(serializers.Serializer):
        lead = serializers.IntegerField()
        scored = serializers.BooleanField()
        total = serializers.IntegerField(allow_null=True)
        pillars = serializers.DictField(child=serializers.IntegerField(allow_null=True))
        tier = serializers.CharField()
        temperature = serializers.CharField()
        scored_at = serializers.DateTimeField(allow_null=True)
        version = serializers.DictField(allow_null=True)
        explanation = serializers.DictField(allow_null=True)

    @extend_schema(responses=OutputSerializer)
    def get(self, request, lead_id: int):
        try:
            lead = lead_get(user=request.user, lead_id=lead_id)
        except Lead.DoesNotExist:
            raise NotFound("No lead with that id is visible to you.") from None
        explanation = selectors.lead_score_explanation(lead=lead)
        data = {
            "lead": lead.pk,
            "scored": explanation is not None,
            "total": lead.score_total,
            "pillars": {p: getattr(lead, f"score_{p}") for p in engine.PILLARS},
            "tier": lead.score_tier,
            "temperature": lead.temperature,
            "scored_at": lead.scored_at,
            "version": None,
            "explanation": None,
        }
        if explanation is not None:
            result = explanation.result
            weights = engine_model(explanation.version).weights
            data["version"] = {"id": explanation.version.pk, "label": explanation.version.label}
            data["explanation"] = {
                "matches_stored": explanation.matches_stored,
                "weights": dict(weights),
                "sum": " + ".join(f"{weights[p]:g} x {result.pillars[p]}" for p in engine.PILLARS)
                + f" = {result.total}",
                "disqualified_by": result.disqualified_by,
                "top_positive": ContributionSerializer(result.top_positive, many=True).data,
                "top_negative": ContributionSerializer(result.top_negative, many=True).data,
                "contributions": ContributionSerializer(result.contributions, many=True).data,
            }
        return Response(self.OutputSerializer(data).data)


class VersionListApi(APIView):
    permission_classes = [CanReadScoringVersions]

    @extend_schema_serializer(component_name="VersionListItem")
    class OutputSerializer(VersionSerializer):
        rule_count = serializers.SerializerMethodField()

        def get_rule_count(self, version) -> int:
            return len(version.rules.all())

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request):
        return Response(self.OutputSerializer(_versions(request.user), many=True).data)


class VersionDetailApi(APIView):
    permission_classes = [CanReadScoringVersions]

    OutputSerializer = VersionDetailSerializer

    @extend_schema(responses=OutputSerializer)
    def get(self, request, version_id: int):
        version = get_object_or_404(_versions(request.user), pk=version_id)
        return Response(self.OutputSerializer(version).data)


class VersionSubmitApi(APIView):
    """Submit a draft for approval; its impact preview is computed in the background."""

    permission_classes = [CanEditScoring]

    @extend_schema_serializer(component_name="VersionSubmitInput")
    class InputSerializer(serializers.Serializer):
        change_note = serializers.CharField(required=False, allow_blank=True)

    OutputSerializer = VersionDetailSerializer

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request, version_id: int):
        version = get_object_or_404(_versions(request.user), pk=version_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note = serializer.validated_data.get("change_note")
        try:
            if note is not None and note.strip() != version.change_note:
                governance.version_settings_update(
                    version=version, by=request.user, values={}, change_note=note.strip()
                )
            governance.version_submit(version=version, by=request.user)
        except (GovernanceError, engine.RuleError) as error:
            return _refused(error)
        return Response(self.OutputSerializer(_versions(request.user).get(pk=version.pk)).data)


class _DecisionApi(APIView):
    permission_classes = [CanApproveScoring]

    @extend_schema_serializer(component_name="VersionDecisionInput")
    class InputSerializer(serializers.Serializer):
        comment = serializers.CharField(required=False, allow_blank=True, default="")

    OutputSerializer = VersionDetailSerializer

    def decide(self, *, version, by, comment: str):
        raise NotImplementedError

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request, version_id: int):
        version = get_object_or_404(_versions(request.user), pk=version_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            self.decide(version=version, by=request.user, comment=serializer.validated_data["comment"].strip())
        except (GovernanceError, engine.RuleError) as error:
            return _refused(error)
        return Response(self.OutputSerializer(_versions(request.user).get(pk=version.pk)).data)


class VersionApproveApi(_DecisionApi):
    """Approve (and so activate) a submitted version; the approver cannot be its author."""

    def decide(self, *, version, by, comment):
        governance.version_approve(version=version, by=by, comment=comment)


class VersionRejectApi(_DecisionApi):
    """Reject a submitted version; the comment says what to fix and is required."""

    def decide(self, *, version, by, comment):
        governance.version_reject(version=version, by=by, comment=comment)
