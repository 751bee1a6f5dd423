from django.urls import path

from playbooks import views, views_actions, views_coaching

app_name = "playbooks"

urlpatterns = [
    path("", views.library, name="library"),
    path("templates/<int:template_id>/", views.template_detail, name="template_detail"),
    path("templates/<int:template_id>/edit/", views.template_edit, name="template_edit"),
    path("objections/<int:objection_id>/edit/", views.objection_edit, name="objection_edit"),
    path("next-steps/<int:template_id>/edit/", views.next_step_template_edit, name="next_step_edit"),
    path("leads/<int:lead_id>/calls/new/", views.call_new, name="call_new"),
    path("calls/<int:call_id>/", views.call_detail, name="call_detail"),
    path("calls/<int:call_id>/opportunity/", views.call_opportunity, name="call_opportunity"),
    path("calls/<int:call_id>/nurture/", views.call_nurture, name="call_nurture"),
    path("coaching/", views_coaching.coaching_page, name="coaching"),
    path("coaching/targets/", views_coaching.targets_edit, name="coaching_targets"),
    path("actions/", views_actions.action_list, name="actions"),
    path("actions/<int:pk>/close/", views_actions.action_close, name="next_action_close"),
    path("cadence/", views_actions.cadence_rules, name="cadence_rules"),
]
