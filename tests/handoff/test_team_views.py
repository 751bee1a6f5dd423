"""The managers' team queues (/work/team/), one rep's work (/work/team/<id>/), accepted leads waiting for an AE and
reassigning with a reason: what a manager sees of their team, that another team's manager sees none of it, that
RevOps sees every team, who may open each page, and what the pages cost. Counts worked out by hand."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from handoff import services
from leadops import roles
from leadops.models import Lead
from leadops.rules import Stage
from routing.models import RepMonthlyLoad, TerritoryMember
from sla.models import SlaClock
from sla.services import clock_start
from tests.factories import LeadFactory, UserFactory
from tests.handoff.test_inbox import marked
from tests.routing.conftest import make_rep

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)  # a Monday; the site's time zone is UTC
TEAM = "/work/team/"
REASSIGN = "/work/team/reassign/"


def at_now(call, *args, **kwargs):
    with time_machine.travel(NOW, tick=False):
        return call(*args, **kwargs)


def page(client, url):
    response = at_now(client.get, url)
    assert response.status_code == 200
    return response.content.decode()


def rows_by_rep(html):
    return {int(row.attrs["data-rep"]): row.text for row in marked(html, "team-rep")}


@pytest.fixture
def other_manager(other_sdr):
    return other_sdr.profile.manager


@pytest.fixture
def sdr_world(germany, sdr, ae, policies):
    """The SDR's desk on Monday 10:00 UTC: 2 MQLs, 3 SQLs (the oldest 3 days in stage), 1 accepted lead and a nurtured
    one; 12 leads routed this month against a capacity of 40; six clocks: one due in 15 minutes (at risk), one due
    tomorrow, one breached 2 minutes ago, one breached yesterday and still running, one paused by a dispute 5 minutes
    before it falls due (not at risk: it cannot fall due while paused) and one met."""
    mqls = [LeadFactory(owner=sdr, stage=Stage.MQL) for _ in range(2)]
    sqls = [
        LeadFactory(owner=sdr, stage=Stage.SQL, stage_changed_at=NOW - dt.timedelta(days=days), score_total=70)
        for days in (1, 3, 0.1)
    ]
    accepted = LeadFactory(owner=sdr, stage=Stage.ACCEPTED, stage_changed_at=NOW - dt.timedelta(hours=5))
    LeadFactory(owner=sdr, stage=Stage.NURTURE)
    RepMonthlyLoad.objects.create(user=sdr, month=dt.date(2026, 11, 1), assigned=12)
    TerritoryMember.objects.filter(user=sdr).update(monthly_capacity=40)

    def start(lead, key, started_at, **state):
        clock = clock_start(lead=lead, policy=policies[key], owner_id=sdr.pk, started_at=started_at)
        if state:
            SlaClock.objects.filter(pk=clock.pk).update(**state)
        return clock

    minutes = dt.timedelta(minutes=1)
    start(sqls[0], "contact-warm", NOW)  # due 10:15
    start(sqls[1], "contact-cold", NOW)  # due tomorrow 10:00
    start(sqls[2], "contact-hot", NOW - 7 * minutes, state="breached", breached_at=NOW - 2 * minutes)
    start(
        mqls[0], "contact-hot", NOW - dt.timedelta(days=1), state="breached", breached_at=NOW - dt.timedelta(hours=23)
    )
    start(
        mqls[1], "contact-warm", NOW - 10 * minutes, paused_at=NOW - minutes, next_step_at=None, remaining=6 * minutes
    )
    start(accepted, "contact-cold", NOW - dt.timedelta(hours=5), state="met", met_at=NOW, stopped_at=NOW)
    return {"mqls": mqls, "sqls": sqls, "accepted": accepted}


# --- the team queues page ----------------------------------------------------------------------------------------


def test_each_rep_of_my_team_with_open_leads_load_clocks_and_oldest_sql(client, manager, sdr, ae, germany, sdr_world):
    client.force_login(manager)
    html = page(client, TEAM)
    rows = rows_by_rep(html)
    gina = germany.gina
    assert set(rows) == {sdr.pk, ae.pk, gina.pk}
    # MQL SQL accepted, load/capacity, clocks open, at risk, breached today, oldest SQL waiting (3 days)
    assert rows[sdr.pk] == f"{sdr.get_full_name()} SDR 2 3 1 12/40 5 1 1 3 days"
    # Gina: a territory member at the default capacity of 80; the AE: in no territory, the profile's 80.
    assert rows[gina.pk] == "Gina SDR 0 0 0 0/80 0 0 0 none"
    assert rows[ae.pk] == f"{ae.get_full_name()} AE 0 0 0 0/80 0 0 0 none"
    oldest = next(row for row in marked(html, "team-rep") if int(row.attrs["data-rep"]) == sdr.pk)
    assert f"/leads/{sdr_world['sqls'][1].pk}/" in oldest.links
    assert f"/work/team/{sdr.pk}/" in oldest.links


def test_another_teams_manager_sees_none_of_my_team(client, other_manager, other_sdr, sdr, sdr_world):
    client.force_login(other_manager)
    assert set(rows_by_rep(page(client, TEAM))) == {other_sdr.pk}
    assert at_now(client.get, f"/work/team/{sdr.pk}/").status_code == 404


def test_revops_sees_every_team(client, admin_user, sdr, ae, other_sdr, germany):
    client.force_login(admin_user)
    html = page(client, TEAM)
    assert set(rows_by_rep(html)) == {sdr.pk, ae.pk, germany.gina.pk, other_sdr.pk}
    assert "APAC" in html and "EMEA Mid-Market" in html
    assert at_now(client.get, f"/work/team/{other_sdr.pk}/").status_code == 200


def test_the_borderline_queue_is_a_link_away_for_managers(client, manager, admin_user, sdr):
    client.force_login(manager)
    (link,) = marked(page(client, TEAM), "borderline-link")
    assert link.links == [reverse("scoring:borderline_queue")]
    client.force_login(admin_user)  # RevOps do not decide borderline leads
    assert marked(page(client, TEAM), "borderline-link") == []


def test_a_manager_without_reps_is_told_how_reps_arrive(client, sdr):
    client.force_login(UserFactory(username="new_manager", role=roles.MANAGER))
    assert "No SDR or AE is in a team you manage." in page(client, TEAM)


# --- one rep's work ----------------------------------------------------------------------------------------------


def test_a_reps_page_lists_their_leads_in_work_next_clock_due_first(client, manager, sdr, sdr_world, other_sdr):
    LeadFactory(owner=other_sdr, stage=Stage.SQL)
    client.force_login(manager)
    html = page(client, f"/work/team/{sdr.pk}/")
    rows = marked(html, "rep-lead")
    mqls, sqls, accepted = sdr_world["mqls"], sdr_world["sqls"], sdr_world["accepted"]
    # Next due: the breached ones (yesterday 10:00, today 09:58), warm 10:15, cold tomorrow; then no running clock
    # (the paused clock has its old due time, 10:10), oldest in stage first.
    assert [int(row.attrs["data-lead"]) for row in rows] == [
        mqls[0].pk,
        sqls[2].pk,
        mqls[1].pk,
        sqls[0].pk,
        sqls[1].pk,
        accepted.pk,
    ]
    assert "Time to contact, warm lead due in 15 minutes" in rows[3].text
    assert "Time to contact, hot lead breached" in rows[1].text
    assert "paused" in rows[2].text
    assert "none running" in rows[5].text
    (summary,) = marked(html, "rep-summary")
    assert "2 MQL · 3 SQL · 1 accepted" in summary.text and "12 of 40" in summary.text
    assert "5 open · 1 at risk · 1 breached today" in summary.text


@pytest.mark.parametrize("who", ["other_sdr", "marketer", "nobody"])
def test_a_rep_outside_my_teams_or_no_rep_at_all_is_not_found(client, manager, cast, who):
    client.force_login(manager)
    user_id = cast[who].pk if who in cast else 999_999
    assert at_now(client.get, f"/work/team/{user_id}/").status_code == 404


# --- reassigning -------------------------------------------------------------------------------------------------


def test_reassigning_a_selection_moves_mine_and_says_why_not_for_each_other(
    client, manager, sdr, germany, other_sdr, sdr_world
):
    mine = sdr_world["sqls"][:2]
    foreign = LeadFactory(owner=other_sdr, stage=Stage.SQL, first_name="Fiona", last_name="Foreign")
    client.force_login(manager)
    response = at_now(
        client.post,
        REASSIGN,
        {
            "lead_ids": [mine[0].pk, mine[1].pk, foreign.pk, 987_654],
            "to_user": germany.gina.pk,
            "reason": "Sam is at a conference",
            "next": f"/work/team/{sdr.pk}/",
        },
    )
    assert (response.status_code, response["Location"]) == (302, f"/work/team/{sdr.pk}/")
    assert [lead.owner for lead in Lead.objects.filter(pk__in=[m.pk for m in mine])] == [germany.gina] * 2
    assert Lead.objects.get(pk=foreign.pk).owner == other_sdr
    html = page(client, response["Location"])
    assert "2 leads reassigned to Gina." in html
    # The other team's lead is not named: the manager may not see it.
    assert f"Not reassigned: lead {foreign.pk}: This lead belongs to a rep outside the teams you manage." in html
    assert "Fiona" not in html
    assert "Not reassigned: lead 987654: No lead with that id is visible to you." in html


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"reason": "  "}, "Nothing was reassigned: A reassignment needs a reason."),
        ({"lead_ids": []}, "Nothing was reassigned: Select at least one lead."),
        ({"lead_ids": ["12a"]}, "Nothing was reassigned: A lead id is a whole number."),
        ({"to_user": "other_sdr"}, "Nothing was reassigned: Choose a rep of the teams you oversee."),
        ({"to_user": ""}, "Nothing was reassigned: Choose who gets them."),
    ],
)
def test_a_reassignment_missing_something_moves_nothing(
    client, manager, sdr, ae, other_sdr, sdr_world, change, message
):
    lead = sdr_world["sqls"][0]
    data = {"lead_ids": [lead.pk], "to_user": ae.pk, "reason": "Covering for Sam", **change}
    if data["to_user"] == "other_sdr":
        data["to_user"] = other_sdr.pk
    client.force_login(manager)
    response = at_now(client.post, REASSIGN, data)
    assert response.status_code == 302
    assert message in page(client, response["Location"])
    assert Lead.objects.get(pk=lead.pk).owner == sdr


def test_a_reassign_link_elsewhere_is_not_followed(client, manager, sdr, ae, sdr_world):
    client.force_login(manager)
    response = at_now(
        client.post,
        REASSIGN,
        {"lead_ids": [sdr_world["sqls"][0].pk], "to_user": ae.pk, "reason": "x", "next": "https://evil.example/"},
    )
    assert response["Location"] == TEAM


# --- accepted leads waiting for an AE ----------------------------------------------------------------------------


@pytest.fixture
def waiting(sdr, ae, acting, reasons, policies):
    """An SQL the SDR accepted while the team's only AE was switched off: it waits, unowned, for the manager."""
    lead = LeadFactory(owner=sdr, stage=Stage.SQL, first_name="Wanda", last_name="Waiting", score_total=77)
    ae.is_active = False
    ae.save(update_fields=["is_active"])
    acting(NOW - dt.timedelta(hours=2), lambda: services.lead_accept(lead=lead, by=sdr))
    ae.is_active = True
    ae.save(update_fields=["is_active"])
    lead.refresh_from_db()
    assert (lead.stage, lead.owner, lead.sdr) == (Stage.ACCEPTED, None, sdr)
    return lead


def test_my_teams_accepted_leads_waiting_for_an_ae_can_be_given_one(client, manager, sdr, ae, waiting):
    client.force_login(manager)
    html = page(client, TEAM)
    (row,) = marked(html, "waiting-for-ae")
    assert int(row.attrs["data-lead"]) == waiting.pk
    assert f"Wanda Waiting {waiting.account.name} Mid-Market 77 {sdr.get_full_name()} 2 hours" in row.text
    assert f'<option value="{ae.pk}">{ae.get_full_name()}</option>' in html
    response = at_now(
        client.post,
        REASSIGN,
        {"lead_ids": [waiting.pk], "to_user": ae.pk, "reason": "No AE was available at handoff", "next": TEAM},
    )
    assert "1 lead reassigned to" in page(client, response["Location"])
    waiting.refresh_from_db()
    assert (waiting.owner, waiting.stage) == (ae, Stage.ACCEPTED)
    assert marked(page(client, TEAM), "waiting-for-ae") == []
    client.force_login(ae)
    assert [int(r.attrs["data-lead"]) for r in marked(page(client, "/work/inbox/"), "inbox-waiting")] == [waiting.pk]


def test_another_teams_manager_does_not_see_my_teams_waiting_leads(client, other_manager, waiting):
    client.force_login(other_manager)
    html = page(client, TEAM)
    assert marked(html, "waiting-for-ae") == []
    assert "No accepted lead waits for an AE." in html


# --- who may do what ---------------------------------------------------------------------------------------------

ANYONE = ["sdr", "other_sdr", "ae", "manager", "marketer", "admin", "outsider", "anonymous"]
TEAM_PAGES = {
    "sdr": 403,
    "other_sdr": 403,
    "ae": 403,
    "manager": 200,
    "marketer": 403,
    "admin": 200,
    "outsider": 403,
    "anonymous": 302,
}


@pytest.mark.parametrize("actor", ANYONE)
@pytest.mark.parametrize("which", ["queues", "rep"])
def test_team_pages_by_role(client, cast, sdr, actor, which):
    url = TEAM if which == "queues" else f"/work/team/{sdr.pk}/"
    if actor != "anonymous":
        client.force_login(cast[actor])
    response = at_now(client.get, url)
    assert response.status_code == TEAM_PAGES[actor]
    if actor == "anonymous":
        assert response["Location"].startswith("/login/?next=")


REASSIGN_BY_ROLE = {**TEAM_PAGES, "manager": 302, "admin": 302}


@pytest.mark.parametrize("actor", ANYONE)
def test_reassigning_by_role(client, cast, sdr, ae, actor):
    lead = LeadFactory(owner=sdr, stage=Stage.SQL)
    if actor != "anonymous":
        client.force_login(cast[actor])
    response = at_now(client.post, REASSIGN, {"lead_ids": [lead.pk], "to_user": ae.pk, "reason": "Cover"})
    assert response.status_code == REASSIGN_BY_ROLE[actor]
    assert Lead.objects.get(pk=lead.pk).owner == (ae if actor in ("manager", "admin") else sdr)
    if actor == "anonymous":
        assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize(
    ("actor", "shown"), [("manager", True), ("admin", True), ("sdr", False), ("ae", False), ("marketer", False)]
)
def test_team_queues_is_in_the_navigation_of_managers_and_revops(client, cast, actor, shown):
    client.force_login(cast[actor])
    assert (f'href="{TEAM}"' in client.get("/").content.decode()) is shown


# --- what the pages cost -----------------------------------------------------------------------------------------


def _queries(client, url):
    with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def _busy_rep(username, team, manager, policies):
    rep = make_rep(username, team, manager)
    RepMonthlyLoad.objects.create(user=rep, month=dt.date(2026, 11, 1), assigned=3)
    for stage in (Stage.MQL, Stage.SQL, Stage.ACCEPTED):
        lead = LeadFactory(owner=rep, stage=stage)
        clock_start(lead=lead, policy=policies["contact-warm"], owner_id=rep.pk, started_at=NOW)
    return rep


def test_the_team_queues_cost_the_same_with_one_rep_or_many(client, manager, team, policies, sdr):
    client.force_login(manager)
    _busy_rep("rep1", team, manager, policies)
    LeadFactory(owner=None, stage=Stage.ACCEPTED, sdr=sdr)
    one, html = _queries(client, TEAM)
    assert (len(marked(html, "team-rep")), len(marked(html, "waiting-for-ae"))) == (2, 1)  # sdr and rep1
    for n in range(2, 7):
        _busy_rep(f"rep{n}", team, manager, policies)
        LeadFactory(owner=None, stage=Stage.ACCEPTED, sdr=sdr)
    many, html = _queries(client, TEAM)
    assert (len(marked(html, "team-rep")), len(marked(html, "waiting-for-ae"))) == (7, 6)
    assert many == one


def test_a_reps_page_costs_the_same_with_one_lead_or_many(client, manager, sdr, policies):
    client.force_login(manager)

    def lead_with_clocks():
        lead = LeadFactory(owner=sdr, stage=Stage.SQL)
        clock_start(lead=lead, policy=policies["contact-warm"], owner_id=sdr.pk, started_at=NOW)
        clock_start(lead=lead, policy=policies["sdr-accept-reject"], owner_id=sdr.pk, started_at=NOW)

    lead_with_clocks()
    one, html = _queries(client, f"/work/team/{sdr.pk}/")
    assert len(marked(html, "rep-clock")) == 2
    for _ in range(5):
        lead_with_clocks()
    many, html = _queries(client, f"/work/team/{sdr.pk}/")
    assert (len(marked(html, "rep-lead")), len(marked(html, "rep-clock"))) == (6, 12)
    assert many == one
