from django.urls import path

from leadops import api

urlpatterns = [
    path("leads/", api.LeadListApi.as_view(), name="api_lead_list"),
    path("leads/<int:lead_id>/", api.LeadDetailApi.as_view(), name="api_lead_detail"),
]
