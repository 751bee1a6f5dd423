from django.urls import path

from scoring import views

app_name = "scoring"

urlpatterns = [
    path("", views.version_list, name="version_list"),
    path("versions/new/", views.draft_create, name="draft_create"),
    path("versions/<int:version_id>/", views.version_detail, name="version_detail"),
    path("versions/<int:version_id>/settings/", views.version_settings, name="version_settings"),
    path("versions/<int:version_id>/rules/new/<slug:kind>/", views.rule_create, name="rule_create"),
    path("versions/<int:version_id>/rules/<int:rule_id>/", views.rule_edit, name="rule_edit"),
    path("versions/<int:version_id>/rules/<int:rule_id>/delete/", views.rule_delete, name="rule_delete"),
    path("versions/<int:version_id>/submit/", views.version_submit, name="version_submit"),
    path("versions/<int:version_id>/approve/", views.version_approve, name="version_approve"),
    path("versions/<int:version_id>/reject/", views.version_reject, name="version_reject"),
    path("versions/<int:version_id>/rollback/", views.version_rollback, name="version_rollback"),
    path("versions/<int:version_id>/preview/", views.version_preview, name="version_preview"),
    path("versions/<int:version_id>/try/", views.version_try, name="version_try"),
    path("compare/", views.version_compare, name="version_compare"),
    path("approvals/", views.approval_inbox, name="approval_inbox"),
    path("borderline/", views.borderline_queue, name="borderline_queue"),
    path("borderline/<int:review_id>/decide/", views.borderline_decide, name="borderline_decide"),
]
