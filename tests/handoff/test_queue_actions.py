"""What a rep and a manager do from the queue: bulk reject, bulk reassign, claim; the navigation badge; who may use
each address (the cast, a superuser without a role, anonymous); and the page's query count, which does not grow with
its rows. Statuses and messages written out by hand."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leadops.models import Lead
from leadops.rules import Stage
from routing.models import TerritoryMember
from tests.factories import UserFactory
from tests.handoff.test_queue import NOW, _score, clock, make_france, make_lead, queued, shown

pytestmark = pytest.mark.django_db


@pytest.fixture
def france(other_sdr):
    return make_france(other_sdr)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- bulk reject --------------------------------------------------------------------------------------------------


def test_bulk_reject_rejects_ones_own_sqls_and_names_each_refusal(client, sdr, other_sdr, germany, reasons):
    mine = make_lead("Sam Mine", owner=sdr)
    also_mine = make_lead("Sue Mine", owner=sdr)
    mql = make_lead("Mo Mql", owner=sdr, stage=Stage.MQL)
    others = make_lead("Otto Other", owner=other_sdr)
    client.force_login(sdr)
    response = client.post(
        reverse("handoff:queue_bulk_reject"),
        {
            "lead_ids": [mine.pk, also_mine.pk, mql.pk, others.pk, "junk"],
            "reason": "no_need",
            "note": "No project this year",
            "next": "/work/queue/?stage=sql",
        },
        follow=True,
    )
    assert response.redirect_chain == [("/work/queue/?stage=sql", 302)]
    assert messages_of(response) == [
        "2 leads rejected.",
        "Not rejected: Mo Mql: Only an SQL can be accepted or rejected; this lead is MQL.",
        "1 selected lead could not be found among yours.",
    ]
    stages = dict(Lead.objects.values_list("first_name", "stage"))
    assert stages == {"Sam": Stage.NURTURE, "Sue": Stage.NURTURE, "Mo": Stage.MQL, "Otto": Stage.SQL}
    assert Lead.objects.get(pk=others.pk).owner == other_sdr


def test_bulk_reject_without_a_note_rejects_nothing(client, sdr, germany, reasons):
    mine = make_lead("Sam Mine", owner=sdr)
    client.force_login(sdr)
    response = client.post(
        reverse("handoff:queue_bulk_reject"), {"lead_ids": [mine.pk], "reason": "no_need", "note": " "}, follow=True
    )
    assert messages_of(response) == [
        "Nothing was rejected: Say in a few words why (the marketing team reads it to fix scoring)."
    ]
    assert Lead.objects.get(pk=mine.pk).stage == Stage.SQL


@pytest.mark.parametrize("view", ["handoff:queue_bulk_reject", "handoff:queue_bulk_reassign"])
def test_tampered_lead_ids_are_dropped_not_a_server_error(client, sdr, manager, germany, reasons, view):
    mine = make_lead("Sam Mine", owner=sdr)
    client.force_login(sdr if view.endswith("reject") else manager)
    response = client.post(
        reverse(view),
        {"lead_ids": ["9" * 30, "-1", "abc", str(mine.pk)], "reason": "no_need", "note": "No project this year"},
        follow=True,
    )
    assert response.status_code == 200
    if view.endswith("reject"):
        assert Lead.objects.get(pk=mine.pk).stage == Stage.NURTURE


def test_another_sdr_cannot_reject_the_first_sdrs_leads_in_bulk(client, sdr, other_sdr, germany, reasons):
    mine = make_lead("Sam Mine", owner=sdr)
    client.force_login(other_sdr)
    response = client.post(
        reverse("handoff:queue_bulk_reject"),
        {"lead_ids": [mine.pk], "reason": "no_need", "note": "Not for us"},
        follow=True,
    )
    assert messages_of(response) == ["1 selected lead could not be found among yours."]
    assert Lead.objects.get(pk=mine.pk).stage == Stage.SQL


def test_a_claimable_lead_is_not_an_sdrs_to_reject(client, sdr, germany, reasons):
    waiting = queued(make_lead("Wes Waiting"), germany)
    client.force_login(sdr)
    response = client.post(
        reverse("handoff:queue_bulk_reject"),
        {"lead_ids": [waiting.pk], "reason": "no_need", "note": "Not for us"},
        follow=True,
    )
    assert messages_of(response) == ["1 selected lead could not be found among yours."]
    assert Lead.objects.get(pk=waiting.pk).stage == Stage.SQL


# --- bulk reassign ------------------------------------------------------------------------------------------------


def test_a_manager_reassigns_a_selection_to_a_rep_of_their_team(client, manager, sdr, germany, other_sdr, france):
    first = make_lead("Sam First", owner=sdr)
    second = make_lead("Sue Second", owner=sdr, stage=Stage.MQL)
    waiting = queued(make_lead("Wes Waiting"), germany)
    foreign = make_lead("Otto Other", owner=other_sdr)
    client.force_login(manager)
    response = client.post(
        reverse("handoff:queue_bulk_reassign"),
        {
            "lead_ids": [first.pk, second.pk, waiting.pk, foreign.pk],
            "to_user": germany.gina.pk,
            "reason": "Sam is at a conference",
            "next": "/work/queue/",
        },
        follow=True,
    )
    assert messages_of(response) == [
        "3 leads reassigned to Gina.",
        "1 selected lead could not be found among yours.",
    ]
    owners = dict(Lead.objects.values_list("first_name", "owner__username"))
    assert owners == {"Sam": "gina", "Sue": "gina", "Wes": "gina", "Otto": "other_sdr"}


@pytest.mark.parametrize(
    ("to", "reason", "message"),
    [
        ("other_sdr", "Cover", "Nothing was reassigned: choose a rep of your team."),
        ("", "Cover", "Nothing was reassigned: choose a rep of your team."),
        ("gina", " ", "Nothing was reassigned: A reassignment needs a reason."),
    ],
)
def test_a_reassignment_needs_a_rep_of_the_team_and_a_reason(
    client, manager, sdr, germany, other_sdr, to, reason, message
):
    lead = make_lead("Sam First", owner=sdr)
    to_user = {"other_sdr": other_sdr, "gina": germany.gina}.get(to)
    client.force_login(manager)
    response = client.post(
        reverse("handoff:queue_bulk_reassign"),
        {"lead_ids": [lead.pk], "to_user": to_user.pk if to_user else "", "reason": reason},
        follow=True,
    )
    assert messages_of(response) == [message]
    assert Lead.objects.get(pk=lead.pk).owner == sdr


# --- claim --------------------------------------------------------------------------------------------------------


def test_claiming_from_the_queue_comes_back_to_the_queue_with_the_lead_now_mine(client, sdr, germany, policies):
    waiting = queued(make_lead("Wes Waiting"), germany)
    client.force_login(sdr)
    response = client.post(
        reverse("handoff:lead_claim", args=[waiting.pk]), {"next": "/work/queue/?owner=none"}, follow=True
    )
    assert response.redirect_chain == [("/work/queue/?owner=none", 302)]
    assert messages_of(response) == ["Wes Waiting is yours now."]
    assert shown(response) == []
    assert Lead.objects.get(pk=waiting.pk).owner == sdr
    assert shown(client.get("/work/queue/", {"owner": "me"})) == ["Wes Waiting"]


def test_a_lead_claimed_by_someone_else_first_sends_the_rep_back_to_the_queue(client, sdr, germany, policies):
    waiting = queued(make_lead("Wes Waiting"), germany)
    Lead.objects.filter(pk=waiting.pk).update(owner=germany.gina)
    client.force_login(sdr)
    response = client.post(reverse("handoff:lead_claim", args=[waiting.pk]), {"next": "/work/queue/"})
    assert response.status_code == 302
    assert response["Location"] == "/work/queue/"


def test_a_claim_of_another_territorys_lead_is_refused_with_the_reason(client, other_sdr, germany, france):
    waiting = queued(make_lead("Wes Waiting"), germany)
    client.force_login(other_sdr)
    response = client.post(reverse("handoff:lead_claim", args=[waiting.pk]), {"next": "/work/queue/"})
    assert response.status_code == 403
    assert "This lead waits in the queue of a territory you are not a member of." in response.content.decode()
    assert Lead.objects.get(pk=waiting.pk).owner is None


# --- the navigation badge -----------------------------------------------------------------------------------------


def test_the_navigation_shows_my_queue_with_the_count_of_my_open_leads(client, sdr, germany):
    make_lead("Sam Sql", owner=sdr)
    make_lead("Mo Mql", owner=sdr, stage=Stage.MQL)
    make_lead("Nora Nurture", owner=sdr, stage=Stage.NURTURE)
    queued(make_lead("Wes Waiting"), germany)  # waiting to be claimed: not mine yet
    client.force_login(sdr)
    page = client.get("/").content.decode()
    assert (
        '<a class="nav-link text-nowrap px-lg-2" href="/work/queue/">My queue'
        '<span class="visually-hidden">, leads in your queue:</span> '
        '<span class="badge rounded-pill text-bg-light" data-testid="nav-badge" hx-get="/work/queue/count/" '
        'hx-trigger="every 30s" hx-swap="innerHTML">2</span></a>'
    ) in page
    assert client.get(reverse("handoff:queue_count")).content.decode() == "2"
    make_lead("New Sql", owner=sdr)
    assert client.get(reverse("handoff:queue_count")).content.decode() == "3"


@pytest.mark.parametrize("actor", ["manager", "marketer", "admin", "outsider"])
def test_roles_without_a_queue_get_no_badge(client, cast, actor):
    client.force_login(cast[actor])
    assert 'data-testid="nav-badge"' not in client.get("/").content.decode()
    assert client.get(reverse("handoff:queue_count")).status_code == 286  # htmx: stop polling


def test_a_signed_out_badge_stops_polling_instead_of_showing_the_login_page(client):
    response = client.get(reverse("handoff:queue_count"))
    assert response.status_code == 286
    assert response.content == b""


# --- who may use which address ------------------------------------------------------------------------------------

ACTORS = ["sdr", "other_sdr", "ae", "manager", "marketer", "admin", "outsider", "root", "anonymous"]
# (url name, method, status per actor); a refused visitor never changes anything (checked below for the writes).
MATRIX = {
    ("handoff:queue", "get"): [200, 200, 200, 200, 403, 403, 403, 403, 302],
    ("handoff:queue_export", "get"): [200, 200, 200, 200, 403, 403, 403, 403, 302],
    ("handoff:queue_count", "get"): [200, 200, 200, 286, 286, 286, 286, 286, 286],
    ("handoff:queue_bulk_reject", "post"): [302, 302, 302, 403, 403, 403, 403, 403, 302],
    ("handoff:queue_bulk_reassign", "post"): [403, 403, 403, 302, 403, 403, 403, 403, 302],
    ("handoff:queue", "post"): [405] * 9,
    ("handoff:queue_bulk_reject", "get"): [405] * 9,
}


@pytest.mark.parametrize(("name", "method"), list(MATRIX), ids=[f"{n}-{m}" for n, m in MATRIX])
@pytest.mark.parametrize("actor", ACTORS)
def test_permission_matrix(client, cast, germany, reasons, name, method, actor):
    people = {**cast, "root": UserFactory(username="root", is_superuser=True, is_staff=True), "anonymous": None}
    lead = make_lead("Sam Mine", owner=cast["sdr"])
    if people[actor] is not None:
        client.force_login(people[actor])
    data = {"lead_ids": [lead.pk], "reason": "no_need", "note": "Not for us", "to_user": germany.gina.pk}
    response = getattr(client, method)(reverse(name), data if method == "post" else {})
    assert response.status_code == MATRIX[(name, method)][ACTORS.index(actor)]
    if response.status_code == 302 and actor == "anonymous":
        assert response["Location"].startswith("/login/?next=")
    lead.refresh_from_db()
    rejected = name == "handoff:queue_bulk_reject" and method == "post" and actor == "sdr"
    reassigned = name == "handoff:queue_bulk_reassign" and method == "post" and actor == "manager"
    assert lead.stage == (Stage.NURTURE if rejected else Stage.SQL)
    assert lead.owner == (germany.gina if reassigned else cast["sdr"])


# --- the lead page's keys -----------------------------------------------------------------------------------------


def test_the_lead_pages_actions_panel_loads_the_keyboard_script(client, sdr, germany):
    lead = make_lead("Sam Mine", owner=sdr)
    client.force_login(sdr)
    page = client.get(reverse("lead_detail", args=[lead.pk])).content.decode()
    assert 'data-action="accept"' in page
    assert '<script src="/static/js/queue.js" defer></script>' in page


# --- queries ------------------------------------------------------------------------------------------------------


def _rows(sdr, germany, policies, count, *, start=0):
    """Own SQLs with a clock and unowned SQLs in Germany's queue, all scored (the top reason is read for each)."""
    leads = []
    for number in range(start, start + count):
        if number % 3 == 2:
            lead = queued(make_lead(f"Wait N{number:02d}", employees=None), germany)
        else:
            lead = queued(make_lead(f"Own N{number:02d}", owner=sdr, employees=None), germany, assignee=sdr)
            clock(lead, policies["contact-warm"], owner=sdr, due=NOW + dt.timedelta(minutes=number))
        leads.append(lead)
    _score(
        leads,
        [{"lead_id": lead.pk, "kind": "webinar_attended", "occurred_at": NOW, "properties": {}} for lead in leads],
    )
    Lead.objects.filter(pk__in=[lead.pk for lead in leads]).update(stage=Stage.SQL)
    return leads


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response


# Session, user, role permissions, territory memberships, this month's load, the territories' names, the count, the
# page, its clocks, scoring versions, their rules, aggregates, rejection reasons, the role label, unread notifications,
# the badge's count.
SDR_PAGE_QUERIES = 16


def test_the_queue_costs_the_same_queries_for_one_row_or_thirty(
    client, sdr, germany, policies, reasons, django_assert_num_queries
):
    _rows(sdr, germany, policies, 1)
    client.force_login(sdr)
    with django_assert_num_queries(SDR_PAGE_QUERIES):
        response = client.get("/work/queue/?per_page=50")
    assert len(response.context["rows"]) == 1
    _rows(sdr, germany, policies, 29, start=1)
    with django_assert_num_queries(SDR_PAGE_QUERIES):
        response = client.get("/work/queue/?per_page=50")
    assert len(response.context["rows"]) == 30
    assert sum(1 for row in response.context["rows"] if row.can_claim) == 10
    assert sum(1 for row in response.context["rows"] if row.top_reason) == 30
    assert sum(1 for row in response.context["rows"] if row.clock) == 20


def test_a_managers_queue_costs_the_same_for_one_row_or_thirty(client, manager, sdr, germany, policies):
    _rows(sdr, germany, policies, 1)
    client.force_login(manager)
    one, _ = _count(client, "/work/queue/?per_page=50")
    _rows(sdr, germany, policies, 29, start=1)
    thirty, response = _count(client, "/work/queue/?per_page=50")
    assert len(response.context["rows"]) == 30
    assert one == thirty


def test_the_export_costs_the_same_for_one_row_or_thirty(client, sdr, germany, policies):
    _rows(sdr, germany, policies, 1)
    client.force_login(sdr)

    def export_queries():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("handoff:queue_export"))
            rows = b"".join(response.streaming_content).decode("utf-8-sig").strip().splitlines()
        return len(queries), len(rows) - 1

    one = export_queries()
    _rows(sdr, germany, policies, 29, start=1)
    thirty = export_queries()
    assert (one[1], thirty[1]) == (1, 30)
    assert one[0] == thirty[0]


def test_a_rep_at_capacity_is_still_offered_nothing_to_claim_whatever_the_rows(client, sdr, germany, policies):
    TerritoryMember.objects.filter(user=sdr).update(monthly_capacity=0)
    _rows(sdr, germany, policies, 3)
    client.force_login(sdr)
    rows = client.get("/work/queue/").context["rows"]
    assert [row.claim_refusal for row in rows if row.lead.owner_id is None] == [
        "You are at your monthly capacity; ask your manager before taking more leads."
    ]
