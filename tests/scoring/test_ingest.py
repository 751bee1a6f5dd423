"""Event and intent-signal ingestion: whole batches validated, stored, folded and re-scored within the request's
commit (eager Celery here; tests/integration proves it with a real worker)."""

import datetime as dt

import pytest
from django.urls import reverse

from leadops.models import IntentSignal, Lead, LeadEvent
from tests.factories import AccountFactory, LeadFactory

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def api(client, marketer):
    client.force_login(marketer)
    return client


def _post(api, name, payload):
    return api.post(reverse(name), payload, content_type="application/json")


def test_a_demo_request_rescores_its_lead(api, active_version, django_capture_on_commit_callbacks):
    lead = LeadFactory(account=AccountFactory(industry="Software", employees=500, annual_revenue=50_000_000))
    just_now = dt.datetime.now(dt.UTC).isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(
            api,
            "api_event_ingest",
            [
                {"email": lead.email.upper(), "kind": "demo_request", "occurred_at": just_now},
                {
                    "lead_id": lead.pk,
                    "kind": "page_view",
                    "occurred_at": "2026-11-20T09:58:00+01:00",
                    "properties": {"path": "/product/scoring"},
                },
            ],
        )
    assert response.status_code == 202, response.json()
    assert response.json() == {"stored": 2, "leads": 1}
    lead.refresh_from_db()
    assert lead.score_buying == 50 and lead.score_version == active_version  # fresh: no decay yet
    assert lead.scored_at is not None


def test_a_bad_batch_stores_nothing_and_names_every_bad_item(api, active_version):
    lead = LeadFactory()
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat()
    response = _post(
        api,
        "api_event_ingest",
        [
            {"lead_id": lead.pk, "kind": "page_view", "occurred_at": "2026-11-20T10:00:00Z"},
            {"lead_id": lead.pk, "kind": "telepathy", "occurred_at": "2026-11-20T10:00:00Z"},
            {"lead_id": lead.pk, "kind": "page_view", "occurred_at": future},
            {"lead_id": 999999, "kind": "page_view", "occurred_at": "2026-11-20T10:00:00Z"},
        ],
    )
    assert response.status_code == 400
    body = response.json()
    assert set(body["errors"]) == {"1", "2"}  # unknown lead is checked once the items themselves are valid
    assert "telepathy" in str(body["errors"]["1"]) and "future" in str(body["errors"]["2"])
    assert LeadEvent.objects.count() == 0
    response = _post(
        api, "api_event_ingest", [{"lead_id": 999999, "kind": "page_view", "occurred_at": "2026-11-20T10:00:00Z"}]
    )
    assert response.status_code == 400 and "No lead with id 999999" in str(response.json()["errors"])


@pytest.mark.parametrize("payload", [{}, [], "x", [{"kind": "page_view"}] * 5001])
def test_malformed_batches_are_refused(api, payload):
    assert _post(api, "api_event_ingest", payload).status_code == 400


def test_an_intent_surge_on_the_account_reaches_its_leads(api, active_version, django_capture_on_commit_callbacks):
    account = AccountFactory(domain="surging.example")
    leads = LeadFactory.create_batch(2, account=account)
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(
            api,
            "api_signal_ingest",
            [
                {
                    "domain": "Surging.example",
                    "topic": "lead scoring",
                    "surge_score": 82,
                    "source": "Bombora",
                    "observed_at": dt.datetime.now(dt.UTC).isoformat(),
                }
            ],
        )
    assert response.status_code == 202, response.json()
    assert IntentSignal.objects.count() == 1
    for lead in Lead.objects.filter(pk__in=[lead.pk for lead in leads]):
        assert lead.score_intent == 100  # 60 (surge 70+) + 25 (50+) + 25 (our topic), capped at 100


def test_a_signal_for_a_lead_of_another_account_is_refused(api):
    lead = LeadFactory()
    other = AccountFactory()
    response = _post(
        api,
        "api_signal_ingest",
        [
            {
                "account_id": other.pk,
                "lead_id": lead.pk,
                "topic": "crm",
                "surge_score": 50,
                "source": "G2",
                "observed_at": "2026-11-01T00:00:00Z",
            }
        ],
    )
    assert response.status_code == 400 and "does not belong" in str(response.json())
    assert IntentSignal.objects.count() == 0


@pytest.mark.parametrize(
    ("role", "status"), [("sdr", 403), ("manager", 403), ("outsider", 403), ("admin", 400), ("marketer", 400)]
)
def test_who_may_send_events(client, cast, role, status):
    client.force_login(cast[role])
    assert client.post(reverse("api_event_ingest"), [], content_type="application/json").status_code == status


def test_anonymous_gets_401(client):
    assert client.post(reverse("api_event_ingest"), [], content_type="application/json").status_code == 401


def test_event_properties_and_times_are_stored_exactly(api, active_version):
    lead = LeadFactory()
    properties = {
        "path": "/pricing?plan=\"team\"&x='1'",
        "title": "Zürich — 東京 \\ back\\slash",
        "utm": {"campaign": "q4", "tags": ["a", "b", None], "score": 0.1 + 0.2},
        "empty": "",
    }
    occurred = "2026-11-20T09:58:00.123456+01:00"
    response = _post(
        api,
        "api_event_ingest",
        [{"lead_id": lead.pk, "kind": "page_view", "occurred_at": occurred, "properties": properties}],
    )
    assert response.status_code == 202, response.json()
    event = LeadEvent.objects.get(lead=lead)
    assert event.properties == properties
    assert event.occurred_at == dt.datetime.fromisoformat(occurred)
    assert event.received_at is not None
    assert lead.aggregate.last_event_at == dt.datetime.fromisoformat(occurred)


def test_a_nul_character_in_a_property_is_refused_with_a_reason(api, active_version):
    lead = LeadFactory()
    response = _post(
        api,
        "api_event_ingest",
        [
            {"lead_id": lead.pk, "kind": "page_view", "occurred_at": "2026-11-20T10:00:00Z"},
            {
                "lead_id": lead.pk,
                "kind": "page_view",
                "occurred_at": "2026-11-20T10:00:00Z",
                "properties": {"utm": {"tags": ["ok", "bad\u0000tag"]}},
            },
        ],
    )
    assert response.status_code == 400
    assert "NUL character" in str(response.json()["errors"]["1"])
    assert not LeadEvent.objects.filter(lead=lead).exists()


def test_ids_beyond_the_database_range_are_unknown_leads_not_errors(api, active_version):
    huge = 10**20
    response = _post(
        api, "api_event_ingest", [{"lead_id": huge, "kind": "page_view", "occurred_at": "2026-11-20T10:00:00Z"}]
    )
    assert response.status_code == 400
    assert response.json()["errors"]["0"] == {"lead_id": [f"No lead with id {huge}."]}
    response = _post(
        api,
        "api_signal_ingest",
        [
            {
                "account_id": huge,
                "lead_id": huge,
                "topic": "Lead scoring",
                "surge_score": 80,
                "source": "bombora",
                "observed_at": "2026-11-20T10:00:00Z",
            }
        ],
    )
    assert response.status_code == 400
    assert response.json()["errors"]["0"] == {"account": ["No such account."]}


def _nested(levels: int) -> dict:
    """{"a": {"a": ... {}}}: `levels` dictionaries, one inside the other."""
    value: dict = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


def _event(lead, **fields):
    return {"lead_id": lead.pk, "kind": "page_view", "occurred_at": "2026-11-20T10:00:00Z", **fields}


@pytest.mark.sqlite
@pytest.mark.parametrize("levels", [11, 320, 600])
def test_properties_nested_too_deep_are_refused_naming_the_item_and_field(api, levels):
    lead = LeadFactory()

    response = _post(api, "api_event_ingest", [_event(lead), _event(lead, properties=_nested(levels))])

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Nothing was stored; fix these events.",
        "errors": {"1": {"properties": ["is nested more than 10 levels deep; send at most 10 levels."]}},
    }
    assert not LeadEvent.objects.exists()


@pytest.mark.sqlite
def test_properties_ten_levels_deep_are_stored(api, active_version):
    lead = LeadFactory()

    response = _post(api, "api_event_ingest", [_event(lead, properties=_nested(10))])

    assert response.status_code == 202, response.json()
    assert LeadEvent.objects.get(lead=lead).properties == _nested(10)


@pytest.mark.sqlite
def test_properties_larger_than_16_kb_are_refused_with_the_limit(api):
    lead = LeadFactory()
    # {"note":"..."} is 11 bytes around the text: 16,374 characters make 16,385 bytes.
    too_big = {"note": "x" * 16_374}

    response = _post(api, "api_event_ingest", [_event(lead), _event(lead), _event(lead, properties=too_big)])

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "2": {"properties": ["is 16,385 bytes as JSON; send at most 16,384 bytes (16 KB)."]}
    }


@pytest.mark.sqlite
def test_properties_of_exactly_16_kb_are_stored(api, active_version):
    lead = LeadFactory()
    # Size counts bytes: 11 bytes of {"note":""} around 5,457 three-byte euro signs and 2 x's make 16,384.
    properties = {"note": "€" * 5457 + "xx"}

    response = _post(api, "api_event_ingest", [_event(lead, properties=properties)])

    assert response.status_code == 202, response.json()
    assert LeadEvent.objects.get(lead=lead).properties == properties


@pytest.mark.sqlite
def test_a_deeply_nested_value_in_another_field_is_refused_naming_that_field(api):
    lead = LeadFactory()
    deep_list: list = []
    for _ in range(500):
        deep_list = [deep_list]

    response = _post(api, "api_event_ingest", [_event(lead, kind=deep_list), _event(lead, kind="telepathy")])

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["0"] == {"kind": ["is nested more than 10 levels deep; send at most 10 levels."]}
    assert "telepathy" in str(errors["1"]["kind"])


@pytest.mark.sqlite
@pytest.mark.parametrize("huge", [2**63, 2**64, 10**20])
def test_signal_ids_beyond_64_bits_are_unknown_not_server_errors(api, huge):
    account = AccountFactory()
    signal = {"topic": "Lead scoring", "surge_score": 80, "source": "bombora", "observed_at": "2026-11-20T10:00:00Z"}

    response = _post(
        api,
        "api_signal_ingest",
        [{**signal, "account_id": huge}, {**signal, "account_id": account.pk, "lead_id": huge}],
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "0": {"account": ["No such account."]},
        "1": {"lead_id": [f"Lead {huge} does not belong to that account."]},
    }
    assert not IntentSignal.objects.exists()
