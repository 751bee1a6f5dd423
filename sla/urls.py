from django.urls import path

from sla import views

app_name = "sla"

urlpatterns = [
    path("mine/", views.my_clocks, name="my_clocks"),
    path("team/", views.team_board, name="team_board"),
    path("policies/", views.policy_list, name="policy_list"),
    path("policies/<slug:key>/", views.policy_edit, name="policy_edit"),
    path("policy-changes/", views.policy_changes, name="policy_changes"),
    path(
        "policy-changes/<int:pk>/approve/",
        views.policy_change_decide,
        {"decision": "approve"},
        name="policy_change_approve",
    ),
    path(
        "policy-changes/<int:pk>/reject/",
        views.policy_change_decide,
        {"decision": "reject"},
        name="policy_change_reject",
    ),
]
