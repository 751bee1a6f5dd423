from django.urls import path

from leadops import api, ingest

urlpatterns = [
    path("leads/", api.LeadListApi.as_view(), name="api_lead_list"),
    path("leads/<int:lead_id>/", api.LeadDetailApi.as_view(), name="api_lead_detail"),
    path("events/", ingest.EventIngestApi.as_view(), name="api_event_ingest"),
    path("intent-signals/", ingest.SignalIngestApi.as_view(), name="api_signal_ingest"),
]
