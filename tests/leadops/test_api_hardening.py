"""The API answers bad input with a 4xx JSON answer that says what is wrong, never with a 500 or an HTML page."""

import json

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from scoring.models import ScoringModelVersion
from tests.factories import LeadFactory

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


@pytest.fixture
def api(marketer):
    # Errors are answered, not raised into the test: what the caller gets is what is under test.
    client = Client(raise_request_exception=False)
    client.force_login(marketer)
    return client


def _json(response):
    assert response["Content-Type"] == "application/json", (response.status_code, response.content[:200])
    return response.json()


# --- bodies the JSON parser cannot take ---------------------------------------------------------------------------


def test_a_body_of_a_hundred_thousand_brackets_is_a_json_parse_error(api):
    response = api.post(reverse("api_event_ingest"), "[" * 100_000, content_type="application/json")

    assert response.status_code == 400
    assert _json(response) == {"detail": "JSON parse error - the document is nested too deeply."}


def test_absurd_nesting_is_a_parse_error_on_the_scoring_api_too(api):
    version = ScoringModelVersion.objects.first()  # the default model's, installed by migration
    url = reverse("api_scoring_version_submit", args=[version.pk])
    response = api.post(url, '{"change_note": ' + "[" * 100_000, content_type="application/json")

    assert response.status_code == 400
    assert _json(response) == {"detail": "JSON parse error - the document is nested too deeply."}


def test_broken_json_is_still_a_parse_error(api):
    response = api.post(reverse("api_event_ingest"), '[{"kind": ', content_type="application/json")

    assert response.status_code == 400
    assert _json(response)["detail"].startswith("JSON parse error - ")


# --- bodies that are too large ------------------------------------------------------------------------------------


def test_a_six_megabyte_body_is_refused_with_413_in_json(api):
    body = "[" + " " * (6 * 1024 * 1024) + "]"

    response = api.post(reverse("api_event_ingest"), body, content_type="application/json")

    assert response.status_code == 413
    assert _json(response) == {
        "detail": "The request body is larger than 5,242,880 bytes (5 MB); send the items in smaller batches."
    }


def test_a_body_just_under_the_limit_is_read(api):
    body = "[" + " " * (5 * 1024 * 1024 - 2) + "]"

    response = api.post(reverse("api_event_ingest"), body, content_type="application/json")

    assert response.status_code == 400
    assert _json(response) == {"detail": "Send a JSON list of 1 to 5000 events."}


# --- pagination ---------------------------------------------------------------------------------------------------


def _limit_and_offset(query):
    from leadops.pagination import ApiPagination

    request = Request(APIRequestFactory().get("/api/leads/", query))
    paginator = ApiPagination()
    return paginator.get_limit(request), paginator.get_offset(request)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, (50, 0)),
        ({"limit": "", "offset": ""}, (50, 0)),
        ({"limit": "5", "offset": "10"}, (5, 10)),
        ({"limit": "500"}, (500, 0)),
        ({"limit": "501"}, (500, 0)),
        ({"limit": str(2**63)}, (500, 0)),
        ({"offset": "1000000"}, (50, 1_000_000)),
        # More digits than any table has rows: read as 10**18, past the end of every table.
        ({"offset": str(2**63)}, (50, 10**18)),
    ],
)
def test_limit_is_capped_at_500_and_offset_is_read_as_given(query, expected):
    assert _limit_and_offset(query) == expected


@pytest.mark.parametrize("limit", [str(2**63), "9223372036854775808", "100000"])
def test_a_huge_limit_answers_a_page_of_at_most_500(api, limit):
    LeadFactory.create_batch(3)

    response = api.get(reverse("api_lead_list"), {"limit": limit})

    assert response.status_code == 200
    body = _json(response)
    assert body["count"] == 3 and len(body["results"]) == 3


def test_an_offset_past_the_end_is_an_empty_page(api):
    LeadFactory.create_batch(2)

    response = api.get(reverse("api_lead_list"), {"offset": str(2**63)})

    assert response.status_code == 200
    assert _json(response)["results"] == []


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"limit": "abc"}, "limit", "limit must be a whole number from 1 to 500, got 'abc'."),
        ({"limit": "0"}, "limit", "limit must be a whole number from 1 to 500, got '0'."),
        ({"limit": "-5"}, "limit", "limit must be a whole number from 1 to 500, got '-5'."),
        ({"limit": "2.5"}, "limit", "limit must be a whole number from 1 to 500, got '2.5'."),
        ({"offset": "-1"}, "offset", "offset must be a whole number, 0 or more, got '-1'."),
        ({"offset": "first"}, "offset", "offset must be a whole number, 0 or more, got 'first'."),
    ],
)
def test_junk_limit_or_offset_is_refused_with_the_parameter_named(api, query, field, message):
    response = api.get(reverse("api_lead_list"), query)

    assert response.status_code == 400
    assert _json(response) == {field: [message]}


def test_numbers_of_thousands_of_digits_are_read_as_huge_not_as_errors(api):
    LeadFactory.create_batch(2)

    assert _limit_and_offset({"limit": "9" * 5000}) == (500, 0)
    assert api.get(reverse("api_lead_list"), {"limit": "9" * 5000}).json()["count"] == 2
    assert api.get(reverse("api_lead_list"), {"offset": "9" * 5000}).json()["results"] == []


def test_the_schema_states_the_cap(api):
    response = api.get(reverse("api_schema"), {"format": "json"})

    parameters = response.json()["paths"]["/api/leads/"]["get"]["parameters"]
    limit = next(p for p in parameters if p["name"] == "limit")
    assert "at most 500" in limit["description"]


# --- errors outside the views are JSON under /api/ ----------------------------------------------------------------


def test_an_unknown_api_url_is_a_json_404(api):
    response = api.get("/api/no-such-thing/")

    assert response.status_code == 404
    assert _json(response) == {"detail": "Not found: no API endpoint at /api/no-such-thing/."}


def test_an_unknown_api_url_is_a_json_404_for_anonymous_callers_too():
    response = Client().post("/api/leads/1/nope/", {})

    assert response.status_code == 404
    assert _json(response)["detail"].startswith("Not found")


def test_a_method_the_endpoint_does_not_have_is_a_json_405(api):
    response = api.delete(reverse("api_lead_list"))

    assert response.status_code == 405
    assert _json(response) == {"detail": 'Method "DELETE" not allowed.'}


def test_a_server_error_in_an_api_view_is_a_json_500_and_is_logged(api, monkeypatch, caplog):
    def broken(self):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("leadops.api.LeadListApi.get_queryset", broken)

    response = api.get(reverse("api_lead_list"))

    assert response.status_code == 500
    assert _json(response) == {"detail": "Server error; it has been logged. Try again later."}
    assert any("disk on fire" in str(record.exc_info) for record in caplog.records if record.exc_info)


def test_pages_outside_the_api_keep_their_html_errors(api):
    response = api.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


# --- ids beyond 64 bits in URLs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"/api/leads/{2**63}/",
        f"/api/leads/{10**30}/",
        f"/api/scoring/leads/{2**63}/score/",
        f"/api/scoring/versions/{2**63}/",
    ],
)
def test_an_id_beyond_64_bits_in_the_url_is_not_found(api, url):
    response = api.get(url)

    assert response.status_code == 404
    assert "detail" in _json(response)


# --- getting an API token (README) --------------------------------------------------------------------------------


def test_the_documented_token_command_gives_a_token_that_reads_leads(marketer, capsys):
    LeadFactory.create_batch(7)

    call_command("drf_create_token", marketer.username)

    key = Token.objects.get(user=marketer).key
    assert key in capsys.readouterr().out
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.get("/api/leads/?limit=5")
    assert response.status_code == 200
    assert response.json()["count"] == 7 and len(response.json()["results"]) == 5


def test_a_wrong_token_is_refused_in_json():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = client.get("/api/leads/")

    assert response.status_code == 401
    assert json.loads(response.content) == {"detail": "Invalid token."}
