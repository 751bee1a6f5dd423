"""Who may use which page: a role x url matrix, lead scoping, and pinned query counts on list pages."""

import pytest
from django.urls import reverse

from leadops.rules import Stage
from tests.factories import LeadEventFactory, LeadFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.django_db]

ROLES = ["anonymous", "sdr", "ae", "marketer", "manager", "admin", "outsider"]
OK, LOGIN, FORBIDDEN, UNAUTHENTICATED = 200, 302, 403, 401

# url name -> expected status per role, in ROLES order.
MATRIX = {
    "home": [LOGIN, OK, OK, OK, OK, OK, OK],
    "lead_list": [LOGIN, OK, OK, OK, OK, OK, FORBIDDEN],
    "lead_import": [LOGIN, FORBIDDEN, FORBIDDEN, OK, FORBIDDEN, OK, FORBIDDEN],
    "audit_log": [LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, FORBIDDEN],
    "api_lead_list": [UNAUTHENTICATED, OK, OK, OK, OK, OK, FORBIDDEN],
    "api_schema": [UNAUTHENTICATED, OK, OK, OK, OK, OK, OK],
}
CASES = [(url, role, statuses[i]) for url, statuses in MATRIX.items() for i, role in enumerate(ROLES)]


@pytest.fixture
def client_for(client, cast):
    def login_as(role):
        if role != "anonymous":
            client.force_login(cast["admin" if role == "admin" else role])
        return client

    return login_as


@pytest.mark.sqlite
@pytest.mark.parametrize(("url_name", "role", "status"), CASES)
def test_permission_matrix(client_for, url_name, role, status):
    response = client_for(role).get(reverse(url_name))
    assert response.status_code == status
    if status == LOGIN:
        assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize(
    ("viewer", "owner", "visible"),
    [
        ("sdr", "sdr", True),
        ("sdr", "other_sdr", False),  # SDRs see their own work
        ("sdr", "ae", False),
        ("manager", "sdr", True),  # managers see their team
        ("manager", "ae", True),
        ("manager", "other_sdr", False),  # ...and not another team's
        ("marketer", "other_sdr", True),
        ("admin", "other_sdr", True),
    ],
)
def test_lead_page_is_scoped_to_the_viewer(client, cast, viewer, owner, visible):
    lead = LeadFactory(owner=cast[owner], stage=Stage.SQL)
    client.force_login(cast[viewer])
    assert client.get(reverse("lead_detail", args=[lead.pk])).status_code == (200 if visible else 404)
    api = client.get(reverse("api_lead_detail", args=[lead.pk]))
    assert api.status_code == (200 if visible else 404)


def test_outsider_cannot_open_a_lead(client, outsider):
    lead = LeadFactory()
    client.force_login(outsider)
    assert client.get(reverse("lead_detail", args=[lead.pk])).status_code == 403


@pytest.mark.sqlite
def test_login_and_logout(client, sdr, password):
    response = client.post(reverse("login"), {"username": "sdr", "password": password})
    assert response.status_code == 302 and response.url == reverse("home")
    assert "My queue" in client.get(reverse("home")).content.decode()
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


@pytest.mark.sqlite
def test_wrong_password_is_refused_with_a_message(client, sdr):
    response = client.post(reverse("login"), {"username": "sdr", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


@pytest.mark.parametrize(
    ("role", "heading"),
    [
        ("sdr", "My queue"),
        ("ae", "My deals"),
        ("marketer", "Marketing overview"),
        ("manager", "Team overview"),
        ("admin", "RevOps console"),
        ("outsider", "no LeadOps role yet"),
    ],
)
def test_each_role_has_its_home_page_with_empty_states(client, cast, role, heading):
    client.force_login(cast[role])
    page = client.get(reverse("home")).content.decode()
    assert heading in page


def test_sdr_home_lists_own_sqls_and_mqls_hottest_first(client, sdr, other_sdr):
    LeadFactory(owner=sdr, stage=Stage.SQL, score_total=70, last_name="Warm")
    LeadFactory(owner=sdr, stage=Stage.SQL, score_total=95, last_name="Hot")
    LeadFactory(owner=sdr, stage=Stage.MQL, score_total=55, last_name="Mql")
    LeadFactory(owner=other_sdr, stage=Stage.SQL, score_total=99, last_name="Elsewhere")
    client.force_login(sdr)
    page = client.get(reverse("home")).content.decode()
    assert page.index("Hot") < page.index("Warm")
    assert "Mql" in page and "Elsewhere" not in page


def test_manager_home_summarises_their_reps(client, manager, sdr, ae, other_sdr):
    LeadFactory.create_batch(3, owner=sdr, stage=Stage.SQL)
    client.force_login(manager)
    response = client.get(reverse("home"))
    reps = {rep.username: rep for rep in response.context["reps"]}
    assert set(reps) == {"sdr", "ae"}
    assert reps["sdr"].sql == 3


def _many_leads(owner, n):
    for i in range(n):
        lead = LeadFactory(owner=owner, stage=Stage.MQL if i % 2 else Stage.SQL, score_total=i)
        LeadEventFactory(lead=lead)


@pytest.mark.parametrize("role", ["sdr", "manager", "admin"])
def test_lead_list_query_count_does_not_grow_with_leads(client, cast, django_assert_max_num_queries, role):
    _many_leads(cast["sdr"], 30)
    client.force_login(cast["admin" if role == "admin" else role])
    with django_assert_max_num_queries(8):
        response = client.get(reverse("lead_list"))
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 30


def test_lead_api_query_count_is_pinned(client, cast, django_assert_max_num_queries):
    _many_leads(cast["sdr"], 30)
    client.force_login(cast["manager"])
    with django_assert_max_num_queries(8):
        response = client.get(reverse("api_lead_list"))
    assert response.json()["count"] == 30


def test_home_pages_query_counts_are_pinned(client, cast, django_assert_max_num_queries):
    _many_leads(cast["sdr"], 30)
    for role in ["sdr", "ae", "marketer", "manager", "admin"]:
        client.force_login(cast[role])
        with django_assert_max_num_queries(14):
            assert client.get(reverse("home")).status_code == 200


def test_lead_list_filters_by_stage_and_search(client, admin_user):
    LeadFactory(stage=Stage.SQL, last_name="Zebra")
    LeadFactory(stage=Stage.MQL, last_name="Aardvark")
    client.force_login(admin_user)
    page = client.get(reverse("lead_list"), {"stage": "sql"}).content.decode()
    assert "Zebra" in page and "Aardvark" not in page
    partial = client.get(reverse("lead_list"), {"q": "aard"}, headers={"HX-Request": "true"})
    assert "Aardvark" in partial.content.decode() and "<html" not in partial.content.decode()


def test_audit_log_shows_transitions(client, admin_user, sdr):
    from leadops.services import lead_transition

    lead = LeadFactory(stage=Stage.SQL, owner=sdr)
    lead_transition(lead=lead, to=Stage.REJECTED, by=sdr, reason="Wrong persona")
    client.force_login(admin_user)
    page = client.get(reverse("audit_log")).content.decode()
    assert "lead.transition" in page and "Wrong persona" in page


def _audit_entries(n):
    from django.utils import timezone

    from leadops.models import AuditEntry

    for i in range(n):
        lead = LeadFactory()
        AuditEntry.objects.create(
            at=timezone.now(),
            actor=UserFactory(role="SDR"),
            actor_label=f"rep{i}",
            action="lead.transition",
            object_type="leadops.lead",
            object_id=str(lead.pk),
            object_repr=str(lead),
            changes={"stage": "sql"},
        )


def test_audit_log_query_count_does_not_grow_with_entries(
    client, admin_user, django_assert_max_num_queries, django_assert_num_queries
):
    _audit_entries(2)
    client.force_login(admin_user)
    with django_assert_max_num_queries(8) as few:
        assert client.get(reverse("audit_log")).status_code == 200
    _audit_entries(48)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(reverse("audit_log"))
    assert len(response.context["page"].object_list) == 50


def test_team_of_unmanaged_reps_is_invisible_to_a_manager(client):
    lone_manager = UserFactory(role="Manager")
    TeamFactory(manager=None)
    LeadFactory(owner=UserFactory(role="SDR"))
    client.force_login(lone_manager)
    assert client.get(reverse("api_lead_list")).json()["count"] == 0


def test_manager_sees_team_sqls_left_more_than_two_days(client, manager, sdr):
    import datetime as dt

    import time_machine

    now = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
    LeadFactory(owner=sdr, stage=Stage.SQL, last_name="Waiting", stage_changed_at=now - dt.timedelta(days=3))
    LeadFactory(owner=sdr, stage=Stage.SQL, last_name="Fresh", stage_changed_at=now - dt.timedelta(hours=20))
    client.force_login(manager)
    with time_machine.travel(now, tick=False):
        stale = client.get(reverse("home")).context["stale_sqls"]
    assert [lead.last_name for lead in stale] == ["Waiting"]


def test_funnel_counts_the_steps_each_lead_ever_reached(client, marketer):
    from django.utils import timezone

    at = timezone.now()
    LeadFactory(stage=Stage.NEW)
    LeadFactory(stage=Stage.LEAD)
    LeadFactory(stage=Stage.NURTURE, mql_at=at)  # qualified once, recycled since
    LeadFactory(stage=Stage.LOST, mql_at=at, sql_at=at, accepted_at=at, opportunity_at=at)
    LeadFactory(stage=Stage.WON, mql_at=at, sql_at=at, accepted_at=at, opportunity_at=at)
    client.force_login(marketer)
    funnel = {step["stage"]: (step["count"], step["pct"]) for step in client.get(reverse("home")).context["funnel"]}
    assert funnel == {
        "lead": (4, 100),
        "mql": (3, 75),
        "sql": (2, 50),
        "accepted": (2, 50),
        "opportunity": (2, 50),
        "won": (1, 25),
    }


def test_a_long_event_property_is_shortened_on_the_lead_page_with_the_full_value_behind_a_toggle(client, admin_user):
    lead = LeadFactory()
    long_value = "x" * 1_000_000
    LeadEventFactory(lead=lead, properties={"path": "/pricing", "payload": long_value})
    client.force_login(admin_user)
    page = client.get(reverse("lead_detail", args=[lead.pk])).content.decode()
    assert "path: /pricing" in page
    assert "<summary>" + "x" * 200 + "…</summary>" in page
    assert page.count(long_value) == 1  # once, inside the <details>
