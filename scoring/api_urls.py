from django.urls import path

from scoring import api

urlpatterns = [
    path("leads/<int:lead_id>/score/", api.LeadScoreApi.as_view(), name="api_lead_score"),
    path("versions/", api.VersionListApi.as_view(), name="api_scoring_version_list"),
    path("versions/<int:version_id>/", api.VersionDetailApi.as_view(), name="api_scoring_version_detail"),
    path("versions/<int:version_id>/submit/", api.VersionSubmitApi.as_view(), name="api_scoring_version_submit"),
    path("versions/<int:version_id>/approve/", api.VersionApproveApi.as_view(), name="api_scoring_version_approve"),
    path("versions/<int:version_id>/reject/", api.VersionRejectApi.as_view(), name="api_scoring_version_reject"),
]
