"""REST API of the playbooks: qualification templates (read), a lead's discovery calls (read) and logging one
(create), with the permissions of the pages since both call playbooks.services, which check playbooks.rules.
Errors: 400 with the problems by field, 403 with why not, 404 for a lead or template the caller cannot see."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from leadops.models import Lead
from leadops.permissions import has_any_role_perm
from leadops.selectors import lead_get
from playbooks import rules, selectors, services
from playbooks.models import NextStep, ObjectionKind, Persona


class ReadsPlaybooks(BasePermission):
    message = "Only account executives and sales managers use the playbooks."

    def has_permission(self, request, view):
        return has_any_role_perm(request.user, rules.READ_PERMS)


class LogsCalls(BasePermission):
    message = "Only account executives log discovery calls."

    def has_permission(self, request, view):
        return has_any_role_perm(request.user, (rules.PERM_AE,))


class CriterionOutputSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    met_means = serializers.CharField()
    required = serializers.BooleanField()
    order = serializers.IntegerField()
    questions = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class TemplateOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    name = serializers.CharField()
    version = serializers.IntegerField()
    active = serializers.BooleanField()
    description = serializers.CharField()
    created_at = serializers.DateTimeField()
    criteria = CriterionOutputSerializer(many=True)


class TemplateListApi(generics.ListAPIView):
    """The active version of each qualification template with its criteria and guiding questions."""

    permission_classes = [ReadsPlaybooks]
    serializer_class = TemplateOutputSerializer
    pagination_class = None

    def get_queryset(self):
        return selectors.template_list(user=self.request.user)


class TemplateDetailApi(generics.RetrieveAPIView):
    """Any version of a template (an old call's version too)."""

    permission_classes = [ReadsPlaybooks]
    serializer_class = TemplateOutputSerializer

    def get_object(self):
        from playbooks.models import QualificationTemplate

        try:
            return selectors.template_get(user=self.request.user, template_id=self.kwargs["template_id"])
        except QualificationTemplate.DoesNotExist:
            raise NotFound("No such template.") from None


class AnswerOutputSerializer(serializers.Serializer):
    criterion = serializers.CharField(source="criterion.key")
    status = serializers.CharField()
    notes = serializers.CharField()


class ObjectionRaisedOutputSerializer(serializers.Serializer):
    objection = serializers.CharField(source="objection.key")
    steps = serializers.SerializerMethodField()
    resolved = serializers.BooleanField()
    notes = serializers.CharField()

    def get_steps(self, raised) -> list[str]:
        return [step for step, field in services.STEP_FIELD.items() if getattr(raised, field)]


class CallOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    lead = serializers.IntegerField(source="lead_id")
    ae = serializers.CharField(source="ae.username")
    template = serializers.IntegerField(source="template_id")
    template_name = serializers.CharField(source="template.__str__")
    persona = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    duration_minutes = serializers.IntegerField()
    questions_asked = serializers.IntegerField()
    questions_list = serializers.CharField()
    decision_maker_present = serializers.BooleanField()
    notes = serializers.CharField()
    next_step = serializers.CharField()
    next_step_on = serializers.DateField()
    next_step_owner = serializers.CharField(source="next_step_owner.username", default=None)
    next_step_notes = serializers.CharField()
    no_next_step_reason = serializers.CharField()
    outcome = serializers.CharField()
    outcome_reason = serializers.CharField()
    missing = serializers.ListField(child=serializers.CharField())
    opportunity = serializers.IntegerField(source="opportunity_id", allow_null=True)
    nurtured_at = serializers.DateTimeField()
    answers = AnswerOutputSerializer(many=True)
    objections = ObjectionRaisedOutputSerializer(many=True)


class CallInputSerializer(serializers.Serializer):
    class AnswerInput(serializers.Serializer):
        criterion = serializers.CharField()
        status = serializers.CharField()
        notes = serializers.CharField(required=False, allow_blank=True, default="")

    class ObjectionInput(serializers.Serializer):
        objection = serializers.ChoiceField(choices=ObjectionKind.values)
        steps = serializers.ListField(child=serializers.CharField(), required=False, default=list)
        resolved = serializers.BooleanField(required=False, default=False)
        notes = serializers.CharField(required=False, allow_blank=True, default="")

    template = serializers.IntegerField()
    persona = serializers.ChoiceField(choices=Persona.values, required=False, allow_blank=True, default="")
    occurred_at = serializers.DateTimeField()
    duration_minutes = serializers.IntegerField()
    questions_asked = serializers.IntegerField()
    questions_list = serializers.CharField(required=False, allow_blank=True, default="")
    decision_maker_present = serializers.BooleanField(required=False, default=False)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    answers = AnswerInput(many=True)
    objections = ObjectionInput(many=True, required=False, default=list)
    next_step = serializers.ChoiceField(choices=NextStep.values)
    next_step_on = serializers.DateField(required=False, allow_null=True, default=None)
    next_step_owner = serializers.IntegerField(required=False, allow_null=True, default=None)
    next_step_notes = serializers.CharField(required=False, allow_blank=True, default="")
    no_next_step_reason = serializers.CharField(required=False, allow_blank=True, default="")


class LeadCallsApi(APIView):
    """GET: a lead's discovery calls, newest first. POST: the lead's AE logs one (201 with the call and its
    outcome)."""

    def get_permissions(self):
        return [LogsCalls()] if self.request.method == "POST" else [ReadsPlaybooks()]

    def _lead(self, lead_id: int) -> Lead:
        try:
            return lead_get(user=self.request.user, lead_id=lead_id)
        except Lead.DoesNotExist:
            raise NotFound("No lead with that id is visible to you.") from None

    @extend_schema(responses=CallOutputSerializer(many=True))
    def get(self, request, lead_id: int):
        try:
            calls = selectors.call_list_for_lead(user=request.user, lead_id=lead_id)
        except Lead.DoesNotExist:
            raise NotFound("No lead with that id is visible to you.") from None
        return Response(CallOutputSerializer(calls, many=True).data)

    @extend_schema(request=CallInputSerializer, responses={201: CallOutputSerializer})
    def post(self, request, lead_id: int):
        lead = self._lead(lead_id)
        serializer = CallInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        template = next((t for t in selectors.template_list(user=request.user) if t.pk == data["template"]), None)
        if template is None:
            return Response(
                {"template": ["Choose the active version of a template."]}, status=status.HTTP_400_BAD_REQUEST
            )
        call = rules.CallInput(
            occurred_at=data["occurred_at"],
            duration_minutes=data["duration_minutes"],
            questions_asked=data["questions_asked"],
            questions_list=data["questions_list"],
            decision_maker_present=data["decision_maker_present"],
            persona=data["persona"],
            answers={a["criterion"]: a["status"] for a in data["answers"]},
            answer_notes={a["criterion"]: a["notes"] for a in data["answers"]},
            objections=tuple(
                rules.ObjectionEntry(key=o["objection"], steps=tuple(o["steps"]), resolved=o["resolved"])
                for o in data["objections"]
            ),
            next_step=data["next_step"],
            next_step_on=data["next_step_on"],
            next_step_owner_id=data["next_step_owner"],
            no_next_step_reason=data["no_next_step_reason"],
        )
        try:
            record = services.call_log(
                lead=lead,
                by=request.user,
                template=template,
                call=call,
                notes=data["notes"],
                next_step_notes=data["next_step_notes"],
                objection_notes={o["objection"]: o["notes"] for o in data["objections"]},
            )
        except ValidationError as problem:
            detail = problem.message_dict if hasattr(problem, "error_dict") else {"detail": problem.messages}
            return Response(detail, status=status.HTTP_400_BAD_REQUEST)
        except PermissionDenied as refused:
            return Response({"detail": str(refused)}, status=status.HTTP_403_FORBIDDEN)
        record = selectors.call_get(user=request.user, call_id=record.pk)
        return Response(CallOutputSerializer(record).data, status=status.HTTP_201_CREATED)
