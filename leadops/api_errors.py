"""The API answers in JSON whatever goes wrong: bad JSON, a body too large, an unknown URL, a server error.

DRF turns its own exceptions into JSON inside the views. What it leaves alone (a body over
DATA_UPLOAD_MAX_MEMORY_SIZE, a document too deeply nested for Python's parser) is mapped here, and
`ApiJsonErrorsMiddleware` rewrites the HTML error pages Django produces outside the views (an unknown /api/ URL,
a 500) for paths under /api/. Pages outside /api/ keep their HTML error pages.
"""

from __future__ import annotations

from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from rest_framework import parsers, status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.response import Response

API_PREFIX = "/api/"
# What a client needs to react to an error; the rest of the HTML page's headers do not apply to the JSON answer.
KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser; a document nested deeper than Python's parser can follow is a 400 like any bad JSON."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None


def body_too_large_message() -> str:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return f"The request body is larger than {limit:,} bytes ({limit / 2**20:g} MB); send the items in smaller batches."


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "body_too_large"

    def __init__(self):
        super().__init__(body_too_large_message())


def api_exception_handler(exc, context) -> Response | None:
    """DRF's handler, plus a body over DATA_UPLOAD_MAX_MEMORY_SIZE as 413 (Django would answer an HTML 400)."""
    # Imported here: rest_framework.views reads DEFAULT_PARSER_CLASSES (this module) while it is being imported.
    from rest_framework.views import exception_handler

    if isinstance(exc, RequestDataTooBig):
        exc = BodyTooLarge()
    return exception_handler(exc, context)


def _detail(status_code: int, path: str) -> str:
    if status_code == 404:
        return f"Not found: no API endpoint at {path}."
    if status_code >= 500:
        return "Server error; it has been logged. Try again later."
    try:
        return f"{HTTPStatus(status_code).phrase}."
    except ValueError:
        return "The request failed."


class ApiJsonErrorsMiddleware:
    """Under /api/, an error page that is not JSON (Django's 404 for an unknown URL, its 500 after an uncaught
    exception, which is logged as usual before this runs) is replaced by {"detail": "..."} with the same status.

    DRF's own responses are left alone: they are JSON for API clients, and HTML only when a browser asked for the
    browsable API.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and request.path_info.startswith(API_PREFIX)
            and not isinstance(response, Response)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            replacement = JsonResponse(
                {"detail": _detail(response.status_code, request.path)}, status=response.status_code
            )
            for header in KEPT_HEADERS:
                if header in response:
                    replacement[header] = response[header]
            return replacement
        return response
