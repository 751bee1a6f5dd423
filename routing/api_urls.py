from django.urls import path

from routing import api

urlpatterns = [
    path("leads/<int:lead_id>/decisions/", api.LeadRoutingDecisionsApi.as_view(), name="api_routing_decisions"),
    path("dry-run/", api.DryRunApi.as_view(), name="api_routing_dry_run"),
    path("territories/", api.TerritoryListApi.as_view(), name="api_territory_list"),
    path("territories/<int:territory_id>/", api.TerritoryDetailApi.as_view(), name="api_territory_detail"),
]
