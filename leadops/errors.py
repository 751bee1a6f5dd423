"""Error pages and error logging for people, not for stack traces.

- `FriendlyNotFoundMiddleware`: with DEBUG on (the laptop demo) Django answers a 404 with its technical page, which
  lists every URL pattern; an SDR who opens another rep's lead would see it. Here everyone but staff gets LeadOps'
  404 page (templates/404.html) instead, as with DEBUG off; staff, who develop and support LeadOps, keep the technical
  page. With DEBUG off this does nothing: Django renders 404.html itself. 403s never needed this (Django renders
  403.html whatever DEBUG says), and 500s keep their traceback page with DEBUG on, which is what DEBUG is for.
- `PermissionDeniedOneLine`: a refused page is routine (a role without the right), not a fault, so it is logged as
  one line with who was refused and why, without the traceback Django attaches.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import Resolver404, resolve
from django.views.defaults import page_not_found

API_PREFIX = "/api/"  # the API answers errors in JSON (leadops.api_errors)


def _technical_page_wanted(request) -> bool:
    if not settings.DEBUG or request.path.startswith(API_PREFIX):
        return True
    user = getattr(request, "user", None)
    return user is not None and user.is_staff


class FriendlyNotFoundMiddleware:
    """With DEBUG on, LeadOps' 404 page instead of Django's technical one, for everyone but staff.

    Placed after AuthenticationMiddleware (it asks who is signed in). An unknown URL is caught before the URL
    resolver raises (its 404 never reaches a middleware's process_exception), a view's Http404 (an unknown id,
    another team's lead) in process_exception.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not _technical_page_wanted(request):
            try:
                resolve(request.path_info)
            except Resolver404 as exc:
                return page_not_found(request, exc)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, Http404) and not _technical_page_wanted(request):
            return page_not_found(request, exception)
        return None


class PermissionDeniedOneLine(logging.Filter):
    """On django.request: "Forbidden (Permission denied): /audit/ (sdr: Your role does not give access to this page.)"
    as one line; the traceback of PermissionDenied says nothing an admin could act on."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, PermissionDenied):
            user = getattr(getattr(record, "request", None), "user", None)
            who = user.get_username() if user is not None and user.is_authenticated else "anonymous"
            record.msg = f"{record.getMessage()} ({who}: {exc or 'no reason given'})"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
        return True
