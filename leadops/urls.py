from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from leadops import views, views_notifications
from leadops.imports import views as import_views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("leads/", views.lead_list, name="lead_list"),
    path("leads/<int:lead_id>/", views.lead_detail, name="lead_detail"),
    path("leads/import/", import_views.lead_import, name="lead_import"),
    path("audit/", views.audit_log, name="audit_log"),
    path("notifications/", views_notifications.notification_list, name="notification_list"),
    path("notifications/read/", views_notifications.notification_read, name="notification_read"),
    path("notifications/read-all/", views_notifications.notification_read_all, name="notification_read_all"),
    path("notifications/settings/", views_notifications.notification_settings, name="notification_settings"),
    path("scoring/", include("scoring.urls")),
    path("routing/", include("routing.urls")),
    path("sla/", include("sla.urls")),
    path("work/", include("handoff.urls")),
    path("playbooks/", include("playbooks.urls")),
    path("api/scoring/", include("scoring.api_urls")),
    path("api/routing/", include("routing.api_urls")),
    path("api/sla/", include("sla.api_urls")),
    path("api/handoff/", include("handoff.api_urls")),
    path("api/playbooks/", include("playbooks.api_urls")),
    path("api/", include("leadops.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("admin/", admin.site.urls),
]
