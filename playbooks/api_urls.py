from django.urls import path

from playbooks import api, views_actions, views_coaching

urlpatterns = [
    path("templates/", api.TemplateListApi.as_view(), name="api_playbooks_templates"),
    path("templates/<int:template_id>/", api.TemplateDetailApi.as_view(), name="api_playbooks_template"),
    path("leads/<int:lead_id>/calls/", api.LeadCallsApi.as_view(), name="api_playbooks_lead_calls"),
    path("coaching/", views_coaching.CoachingApi.as_view(), name="api_playbooks_coaching"),
    path(
        "leads/<int:lead_id>/next-actions/",
        views_actions.LeadNextActionsApi.as_view(),
        name="api_playbooks_lead_next_actions",
    ),
]
