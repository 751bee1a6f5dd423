from django.urls import path

from handoff import api

urlpatterns = [
    path("leads/<int:lead_id>/accept/", api.AcceptApi.as_view(), name="api_handoff_accept"),
    path("leads/<int:lead_id>/reject/", api.RejectApi.as_view(), name="api_handoff_reject"),
    path("leads/<int:lead_id>/activities/", api.ActivityApi.as_view(), name="api_handoff_activity"),
    path("leads/<int:lead_id>/claim/", api.ClaimApi.as_view(), name="api_handoff_claim"),
    path("leads/<int:lead_id>/sal/", api.SalApi.as_view(), name="api_handoff_sal"),
    path("leads/<int:lead_id>/return/", api.ReturnApi.as_view(), name="api_handoff_return"),
    path("leads/<int:lead_id>/opportunity/", api.OpportunityApi.as_view(), name="api_handoff_opportunity"),
    path("reassign/", api.ReassignApi.as_view(), name="api_handoff_reassign"),
    path("reasons/", api.ReasonsApi.as_view(), name="api_handoff_reasons"),
]
