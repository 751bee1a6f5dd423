from django.urls import path

from scoring.views import approvals, editor, preview, reviews, versions

app_name = "scoring"

urlpatterns = [
    path("", versions.version_list, name="version_list"),
    path("versions/new/", versions.draft_create, name="draft_create"),
    path("versions/<int:version_id>/", versions.version_detail, name="version_detail"),
    path("versions/<int:version_id>/settings/", editor.version_settings, name="version_settings"),
    path("versions/<int:version_id>/rules/new/<slug:kind>/", editor.rule_create, name="rule_create"),
    path("versions/<int:version_id>/rules/<int:rule_id>/", editor.rule_edit, name="rule_edit"),
    path("versions/<int:version_id>/rules/<int:rule_id>/delete/", editor.rule_delete, name="rule_delete"),
    path("versions/<int:version_id>/submit/", approvals.version_submit, name="version_submit"),
    path("versions/<int:version_id>/approve/", approvals.version_approve, name="version_approve"),
    path("versions/<int:version_id>/reject/", approvals.version_reject, name="version_reject"),
    path("versions/<int:version_id>/rollback/", approvals.version_rollback, name="version_rollback"),
    path("versions/<int:version_id>/preview/", preview.version_preview, name="version_preview"),
    path("versions/<int:version_id>/try/", editor.version_try, name="version_try"),
    path("compare/", versions.version_compare, name="version_compare"),
    path("approvals/", approvals.approval_inbox, name="approval_inbox"),
    path("borderline/", reviews.borderline_queue, name="borderline_queue"),
    path("borderline/<int:review_id>/decide/", reviews.borderline_decide, name="borderline_decide"),
]
