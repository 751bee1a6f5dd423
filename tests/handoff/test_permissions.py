"""Who may take each handoff action, from the page and from the API: the owner only, never another SDR, another
team, a role without the permission, an outsider or a superuser without a sales role. Statuses written by hand."""

from __future__ import annotations

import pytest
from django.urls import reverse

from leadops.models import Lead
from leadops.rules import Stage
from tests.factories import UserFactory
from tests.sla.conftest import berlin, new_sql

pytestmark = pytest.mark.django_db

MONDAY_10 = berlin(2026, 11, 30, 10, 0)
ACTORS = ["sdr", "other_sdr", "ae", "manager", "marketer", "admin_user", "outsider", "root"]


@pytest.fixture
def people(cast):
    return {**cast, "admin_user": cast["admin"], "root": UserFactory(username="root", is_superuser=True, is_staff=True)}


@pytest.fixture
def sql(germany, sdr, reasons):
    lead = new_sql(at=MONDAY_10)
    Lead.objects.filter(pk=lead.pk).update(owner=sdr)
    return Lead.objects.get(pk=lead.pk)


# Who sees the SDR's SQL at all: the owner, their manager, marketing and admins (all leads). Who may accept it: the
# owner. A visible lead refused by role is 403; an invisible one 404 (it is not said to exist).
PAGE_ACCEPT = {
    "sdr": 302,
    "other_sdr": 404,
    "ae": 404,
    "manager": 403,
    "marketer": 403,
    "admin_user": 403,
    "outsider": 403,
    "root": 403,
}


@pytest.mark.parametrize("actor", ACTORS)
def test_accept_from_the_page_by_role(client, people, sql, actor):
    client.force_login(people[actor])
    response = client.post(reverse("handoff:lead_accept", args=[sql.pk]), {"stage": "sql"})
    assert response.status_code == PAGE_ACCEPT[actor]
    sql.refresh_from_db()
    assert sql.stage == (Stage.ACCEPTED if actor == "sdr" else Stage.SQL)


API_ACCEPT = {
    "sdr": 200,
    "other_sdr": 404,
    "ae": 404,
    "manager": 403,
    "marketer": 403,
    "admin_user": 403,
    "outsider": 403,
    "root": 403,
}


@pytest.mark.parametrize("actor", ACTORS)
def test_accept_from_the_api_by_role(client, people, sql, actor):
    client.force_login(people[actor])
    response = client.post(reverse("api_handoff_accept", args=[sql.pk]), {}, content_type="application/json")
    assert response.status_code == API_ACCEPT[actor]


@pytest.mark.parametrize("actor", ACTORS)
def test_reject_from_the_page_and_api_is_the_owners_only(client, people, sql, actor):
    client.force_login(people[actor])
    page = client.post(
        reverse("handoff:lead_reject", args=[sql.pk]), {"stage": "sql", "reason": "no_need", "note": "No project"}
    )
    assert page.status_code == PAGE_ACCEPT[actor]
    if actor != "sdr":
        api = client.post(
            reverse("api_handoff_reject", args=[sql.pk]),
            {"reason": "no_need", "note": "No project"},
            content_type="application/json",
        )
        assert api.status_code == API_ACCEPT[actor]
    sql.refresh_from_db()
    assert sql.stage == (Stage.NURTURE if actor == "sdr" else Stage.SQL)


@pytest.mark.parametrize("actor", ACTORS)
def test_log_activity_by_role(client, people, sql, actor):
    client.force_login(people[actor])
    response = client.post(
        reverse("api_handoff_activity", args=[sql.pk]),
        {"kind": "call", "outcome": "No answer"},
        content_type="application/json",
    )
    expected = {"sdr": 201, "other_sdr": 404, "ae": 404}.get(actor, 403)
    assert response.status_code == expected
    assert sql.activities.count() == (1 if actor == "sdr" else 0)


def test_a_rejection_without_a_reason_is_refused_on_the_page_and_keeps_what_was_typed(client, sdr, sql):
    client.force_login(sdr)
    response = client.post(
        reverse("handoff:lead_reject", args=[sql.pk]), {"stage": "sql", "reason": "", "note": "They have no budget"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Choose a reason from the list." in page
    assert "They have no budget" in page
    sql.refresh_from_db()
    assert sql.stage == Stage.SQL


def test_a_rejection_without_a_reason_is_refused_by_the_api(client, sdr, sql):
    client.force_login(sdr)
    response = client.post(
        reverse("api_handoff_reject", args=[sql.pk]), {"reason": "", "note": ""}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {"reason": ["Choose a reason from the list."]}
    missing = client.post(reverse("api_handoff_reject", args=[sql.pk]), {}, content_type="application/json")
    assert missing.status_code == 400
    assert set(missing.json()) == {"reason", "note"}


def test_the_api_answers_409_with_the_fresh_state_when_the_lead_moved(client, sdr, sql):
    client.force_login(sdr)
    first = client.post(reverse("api_handoff_accept", args=[sql.pk]), {}, content_type="application/json")
    assert first.status_code == 200
    second = client.post(
        reverse("api_handoff_reject", args=[sql.pk]),
        {"reason": "no_need", "note": "x", "expected_stage": "sql"},
        content_type="application/json",
    )
    assert second.status_code == 409
    assert second.json()["lead"]["stage"] == "accepted"


def test_the_page_shows_the_loser_a_message_and_the_fresh_lead(client, sdr, sql):
    client.force_login(sdr)
    client.post(reverse("handoff:lead_accept", args=[sql.pk]), {"stage": "sql"})
    # The second tab still showed the SQL; after the accept the lead belongs to the AE pool and is no longer the
    # SDR's, so the second action is refused with what happened.
    response = client.post(
        reverse("handoff:lead_reject", args=[sql.pk]), {"stage": "sql", "reason": "no_need", "note": "x"}, follow=True
    )
    assert response.status_code in (200, 404)
    sql.refresh_from_db()
    assert sql.stage == Stage.ACCEPTED


REASSIGN = {
    "manager": 200,
    "admin_user": 200,
    "sdr": 403,
    "other_sdr": 403,
    "ae": 403,
    "marketer": 403,
    "outsider": 403,
    "root": 403,
}


@pytest.mark.parametrize("actor", ACTORS)
def test_reassign_from_the_api_by_role(client, people, sql, germany, actor):
    client.force_login(people[actor])
    response = client.post(
        reverse("api_handoff_reassign"),
        {"lead_ids": [sql.pk], "to_user": germany.gina.username, "reason": "Covering a holiday"},
        content_type="application/json",
    )
    assert response.status_code == REASSIGN[actor]
    sql.refresh_from_db()
    assert sql.owner == (germany.gina if REASSIGN[actor] == 200 else people["sdr"])


def test_another_teams_manager_cannot_reassign_and_is_told_why(client, sql, other_sdr, germany):
    from leadops.models import RepProfile

    other_manager = RepProfile.objects.get(user=other_sdr).manager
    client.force_login(other_manager)
    response = client.post(
        reverse("api_handoff_reassign"),
        {"lead_ids": [sql.pk], "to_user": germany.gina.username, "reason": "Mine now"},
        content_type="application/json",
    )
    assert response.json() == {"reassigned": [], "refused": {str(sql.pk): "No lead with that id is visible to you."}}


def test_an_anonymous_caller_gets_nothing(client, sql):
    page = client.post(reverse("handoff:lead_accept", args=[sql.pk]))
    assert page.status_code == 302 and "/login/" in page["Location"]
    api = client.post(reverse("api_handoff_accept", args=[sql.pk]), {}, content_type="application/json")
    assert api.status_code in (401, 403)
    sql.refresh_from_db()
    assert sql.stage == Stage.SQL
