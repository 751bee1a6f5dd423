"""403, 404 and 500 pages in the LeadOps layout, with DEBUG on (the demo) and off; a 403 logs one line."""

from __future__ import annotations

import io
import logging

import pytest
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory, override_settings
from django.urls import get_resolver, reverse
from django.views.defaults import permission_denied

from tests.factories import LeadFactory

FRIENDLY_404 = "There is nothing to show at this address"
FRIENDLY_403 = "You cannot open this page"
TECHNICAL_404 = "because you have <code>DEBUG = True</code>"
DEBUG_ON_AND_OFF = pytest.mark.parametrize("debug", [True, False], ids=["debug", "production"])


def _page(response) -> str:
    return response.content.decode()


def _has_layout(page: str) -> bool:
    return '<nav class="navbar' in page and '<main id="main-content"' in page and "Skip to main content" in page


# --- 403 ----------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
@DEBUG_ON_AND_OFF
def test_a_page_the_role_may_not_open_shows_the_reason_in_the_leadops_layout(client, sdr, debug):
    client.force_login(sdr)
    with override_settings(DEBUG=debug):
        response = client.get(reverse("audit_log"))
    page = _page(response)
    assert response.status_code == 403
    assert _has_layout(page) and FRIENDLY_403 in page
    assert "Your role does not give access to this page." in page
    assert f'href="{reverse("home")}"' in page and f'href="{reverse("lead_list")}"' in page
    assert "Log in as someone else" in page and 'name="next" value="/login/?next=/audit/"' in page


@pytest.mark.django_db
def test_the_403_page_offers_no_lead_list_to_someone_who_cannot_open_it(rf, outsider):
    request = rf.get("/audit/")
    request.user = outsider
    response = permission_denied(request, PermissionDenied())
    page = _page(response)
    assert response.status_code == 403 and _has_layout(page)
    assert "Your role does not give access to this page." in page  # the default reason
    assert f'href="{reverse("lead_list")}"' not in page


@pytest.mark.django_db
def test_a_refused_page_writes_one_log_line_without_a_traceback(client, sdr, caplog):
    client.force_login(sdr)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get(reverse("audit_log")).status_code == 403
    records = [record for record in caplog.records if record.name == "django.request"]
    assert len(records) == 1
    assert records[0].exc_info is None
    assert records[0].getMessage() == (
        "Forbidden (Permission denied): /audit/ (sdr: Your role does not give access to this page.)"
    )
    assert "Traceback" not in caplog.text


def _handlers_reached_by(logger: logging.Logger) -> list[logging.StreamHandler]:
    """The stream handlers a record of `logger` is written by, pytest's own capture left out."""
    handlers = []
    while logger is not None:
        handlers += [
            handler
            for handler in logger.handlers
            if isinstance(handler, logging.StreamHandler) and not type(handler).__module__.startswith("_pytest")
        ]
        logger = logger.parent if logger.propagate else None
    return handlers


@pytest.mark.django_db
@DEBUG_ON_AND_OFF
def test_a_refused_page_reaches_the_console_as_exactly_one_line(client, sdr, debug):
    # Django's own console handler on "django" writes when DEBUG is on, next to the root's: two copies before.
    client.force_login(sdr)
    handlers = _handlers_reached_by(logging.getLogger("django.request"))
    assert handlers, "no console handler: the logging configuration changed"
    console = io.StringIO()
    streams = [handler.setStream(console) for handler in handlers]
    try:
        with override_settings(DEBUG=debug):
            assert client.get(reverse("audit_log")).status_code == 403
    finally:
        for handler, stream in zip(handlers, streams, strict=True):
            handler.setStream(stream)
    assert console.getvalue().splitlines() == [
        "Forbidden (Permission denied): /audit/ (sdr: Your role does not give access to this page.)"
    ]


# --- 404 ----------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
@DEBUG_ON_AND_OFF
@pytest.mark.parametrize("whose", ["another team's rep", "nobody"])
def test_a_rep_opening_a_lead_that_is_not_theirs_sees_the_friendly_404(client, sdr, other_sdr, debug, whose):
    lead = LeadFactory(owner=other_sdr if whose == "another team's rep" else None)
    client.force_login(sdr)
    with override_settings(DEBUG=debug):
        response = client.get(reverse("lead_detail", args=[lead.pk]))
    page = _page(response)
    assert response.status_code == 404
    assert _has_layout(page) and FRIENDLY_404 in page and TECHNICAL_404 not in page
    assert "Using the URLconf" not in page  # no URL patterns shown
    assert f'href="{reverse("home")}"' in page and f'href="{reverse("lead_list")}"' in page
    assert "Log in as someone else" in page


@pytest.mark.django_db
@DEBUG_ON_AND_OFF
def test_an_unknown_address_shows_the_friendly_404(client, sdr, debug):
    client.force_login(sdr)
    with override_settings(DEBUG=debug):
        response = client.get("/no-such-page/")
    page = _page(response)
    assert response.status_code == 404
    assert _has_layout(page) and FRIENDLY_404 in page and TECHNICAL_404 not in page
    assert "/no-such-page/" in page


@pytest.mark.django_db
def test_each_error_page_words_its_lead_list_link_and_neither_offers_it_to_someone_who_cannot_open_it(
    client, sdr, outsider
):
    client.force_login(sdr)
    refused = _page(client.get(reverse("audit_log")))
    missing = _page(client.get("/no-such-page/"))
    assert "</i> The lead list</a>" in refused and "to search for the lead" not in refused
    assert "</i> The lead list, to search for the lead</a>" in missing
    client.force_login(outsider)
    missing = _page(client.get("/no-such-page/"))
    assert FRIENDLY_404 in missing and f'href="{reverse("lead_list")}"' not in missing
    assert "Log in as someone else" in missing


@pytest.mark.django_db
@pytest.mark.parametrize("lead_id", [2**63, 10**20])
def test_a_lead_id_beyond_64_bits_is_the_friendly_404_not_a_server_error(client, admin_user, lead_id):
    client.force_login(admin_user)
    response = client.get(f"/leads/{lead_id}/")
    assert response.status_code == 404 and FRIENDLY_404 in _page(response)


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_with_debug_on_a_visitor_who_is_not_signed_in_gets_the_friendly_404_with_a_log_in_link(client):
    response = client.get("/no-such-page/")
    page = _page(response)
    assert response.status_code == 404 and FRIENDLY_404 in page and TECHNICAL_404 not in page
    assert 'href="/login/?next=/no-such-page/"' in page


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_with_debug_on_staff_keep_the_technical_404(client, admin_user):
    admin_user.is_staff = True
    admin_user.save(update_fields=["is_staff"])
    client.force_login(admin_user)
    assert TECHNICAL_404 in _page(client.get("/no-such-page/"))
    lead = LeadFactory(owner=None)
    assert TECHNICAL_404 in _page(client.get(reverse("lead_detail", args=[lead.pk + 1000])))


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_with_debug_on_an_address_without_its_slash_still_redirects(client, sdr):
    client.force_login(sdr)
    response = client.get("/leads")
    assert (response.status_code, response["Location"]) == (301, "/leads/")


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_the_api_keeps_its_own_error_answers(client, sdr):
    client.force_login(sdr)
    response = client.get("/api/no-such-endpoint/")
    assert response.status_code == 404 and FRIENDLY_404 not in _page(response)


# --- 500 ----------------------------------------------------------------------------------------------------------


def test_the_500_page_renders_without_database_or_request_context():
    # No db fixture: a query here would fail the test. Django renders 500.html with an empty context.
    response = get_resolver().resolve_error_handler(500)(RequestFactory().get("/leads/"))
    page = _page(response)
    assert response.status_code == 500
    assert _has_layout(page) and "Something went wrong on our side" in page
    assert 'href="/"' in page and 'href="/leads/"' in page and 'href="/login/"' in page
