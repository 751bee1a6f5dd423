from django.urls import path

from sla import api

urlpatterns = [
    path("leads/<int:lead_id>/clocks/", api.LeadClocksApi.as_view(), name="api_sla_lead_clocks"),
    path("compliance/", api.ComplianceApi.as_view(), name="api_sla_compliance"),
]
