"""The notification centre: a person's own notifications, marking them read, and which kinds they get by e-mail.

Every signed-in person may use these pages (whatever their role); each sees and marks only their own notifications,
and someone else's id answers 404 as if it did not exist.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leadops import notifications
from leadops.models import Notification
from leadops.permissions import require_perm

PAGE_SIZE = 25


@require_perm()
@require_GET
def notification_list(request):
    page = Paginator(notifications.notification_list(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    for notification in page.object_list:
        _label(notification)
    return render(request, "leadops/notifications/list.html", {"page": page})


@require_perm()
@require_POST
def notification_read(request):
    """Mark one notification read: htmx swaps its row (and the bell's count); a plain form returns to the list."""
    try:
        notification_id = int(request.POST.get("notification", ""))
        notification = notifications.notification_mark_read(user=request.user, notification_id=notification_id)
    except (ValueError, Notification.DoesNotExist):
        raise Http404("No notification of yours has that id.") from None
    if request.htmx:
        _label(notification)
        return render(request, "leadops/notifications/partials/_read_response.html", {"notification": notification})
    return redirect(_back_to_list(request))


@require_perm()
@require_POST
def notification_read_all(request):
    count = notifications.notification_mark_all_read(user=request.user)
    messages.success(
        request, f"Marked {count} notification{'' if count == 1 else 's'} read." if count else "Nothing was unread."
    )
    return redirect(_back_to_list(request))


class NotificationSettingsForm(forms.Form):
    """One "e-mail me" checkbox per kind of notification."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        choices = notifications.notification_email_choices(user=user)
        for kind in notifications.NOTIFICATION_KINDS.values():
            self.fields[kind.kind] = forms.BooleanField(label=kind.label, required=False, initial=choices[kind.kind])

    def email_by_kind(self) -> dict[str, bool]:
        return {kind: bool(self.cleaned_data.get(kind)) for kind in notifications.NOTIFICATION_KINDS}


@require_perm()
@require_http_methods(["GET", "POST"])
def notification_settings(request):
    if request.method == "POST":
        form = NotificationSettingsForm(request.POST, user=request.user)
        if form.is_valid():
            notifications.notification_preferences_save(user=request.user, email_by_kind=form.email_by_kind())
            messages.success(request, "Your e-mail settings are saved.")
            return redirect("notification_settings")
    else:
        form = NotificationSettingsForm(user=request.user)
    return render(request, "leadops/notifications/settings.html", {"form": form})


def _label(notification: Notification) -> None:
    kind = notifications.NOTIFICATION_KINDS.get(notification.kind)
    notification.kind_label = kind.label if kind else notification.kind


def _back_to_list(request) -> str:
    """Where the form was posted from (the same page of the list), when that is a LeadOps address; else the list."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("notification_list")
