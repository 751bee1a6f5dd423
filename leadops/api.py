"""REST API of the core domain. Querysets come from the same selectors as the pages, so scoping is identical."""

from rest_framework import generics, serializers
from rest_framework.permissions import BasePermission

from leadops import selectors
from leadops.models import Lead
from leadops.permissions import has_role_perm


class HasLeadAccess(BasePermission):
    message = "Your role does not give access to leads."

    def has_permission(self, request, view):
        return has_role_perm(request.user, "leadops.view_lead")


class LeadOutputSerializer(serializers.ModelSerializer):
    account = serializers.StringRelatedField()
    owner = serializers.StringRelatedField()
    segment = serializers.CharField(source="account.segment", default=None)

    class Meta:
        model = Lead
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "title",
            "seniority",
            "department",
            "country",
            "source",
            "account",
            "segment",
            "stage",
            "owner",
            "score_total",
            "score_fit",
            "score_engagement",
            "score_intent",
            "score_buying",
            "temperature",
            "created_at",
            "stage_changed_at",
            "mql_at",
            "sql_at",
            "accepted_at",
            "opportunity_at",
            "closed_at",
        ]


class LeadListApi(generics.ListAPIView):
    """Leads visible to the caller: their own (reps), their teams' (managers), all (marketing, admins)."""

    permission_classes = [HasLeadAccess]
    serializer_class = LeadOutputSerializer

    def get_queryset(self):
        leads = selectors.lead_list(user=self.request.user).order_by("-created_at", "pk")
        stage = self.request.query_params.get("stage")
        return leads.filter(stage=stage) if stage else leads


class LeadDetailApi(generics.RetrieveAPIView):
    permission_classes = [HasLeadAccess]
    serializer_class = LeadOutputSerializer
    lookup_url_kwarg = "lead_id"

    def get_queryset(self):
        return selectors.lead_list(user=self.request.user)
