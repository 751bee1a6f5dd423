"""The AE's handoff inbox (/work/inbox/): what waits for my review, soonest due first, my SALs and my open
opportunities, the buttons that act on them, who may open the page, and what it costs. Expected values are worked out
by hand on the German territory (Berlin office hours 09:00-17:00, Monday to Friday); the pages show UTC (the site's
time zone), one hour behind Berlin in winter."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from handoff import services
from leadops.models import Lead
from leadops.rules import Stage
from routing.models import TerritoryMember
from tests.factories import AccountFactory, LeadFactory, OpportunityFactory
from tests.routing.conftest import make_rep
from tests.sla.conftest import berlin, new_sql

pytestmark = pytest.mark.django_db

MONDAY_10 = berlin(2026, 11, 30, 10, 0)
MONDAY_15 = berlin(2026, 11, 30, 15, 0)
INBOX = "/work/inbox/"


# --- reading a page by its data-testid marks ---------------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Element:
    def __init__(self, attrs):
        self.attrs = attrs
        self.parts: list[str] = []
        self.links: list[str] = []
        self.children: list[Element] = []  # the marked elements inside this one

    @property
    def text(self) -> str:
        return " ".join("".join(self.parts).split())

    def __repr__(self) -> str:
        return f"<{self.attrs.get('data-testid')} {self.text[:60]!r}>"


class _Marks(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.open: list[tuple[str, Element | None]] = []
        self.found: list[Element] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        element = Element(attrs) if "data-testid" in attrs else None
        if element is not None:
            self.found.append(element)
            for _, holder in self.open:
                if holder is not None:
                    holder.children.append(element)
            if tag == "a" and "href" in attrs:
                element.links.append(attrs["href"])
        for _, holder in self.open:
            if holder is not None:
                holder.parts.append(" ")  # a tag separates words, as a browser shows them
                if tag == "a" and "href" in attrs:
                    holder.links.append(attrs["href"])
        if tag not in VOID:
            self.open.append((tag, element))

    def handle_endtag(self, tag):
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index][0] == tag:
                del self.open[index:]
                for _, holder in self.open:
                    if holder is not None:
                        holder.parts.append(" ")
                return

    def handle_data(self, data):
        for _, holder in self.open:
            if holder is not None:
                holder.parts.append(data)


def marked(html: str, testid: str) -> list[Element]:
    """The elements of the page marked data-testid=`testid`, in page order, with their text and links."""
    parser = _Marks()
    parser.feed(html)
    return [element for element in parser.found if element.attrs["data-testid"] == testid]


def get(client, url, at=MONDAY_15):
    with time_machine.travel(at, tick=False):
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


# --- the world ---------------------------------------------------------------------------------------------------


@pytest.fixture
def handed(germany, route, sdr, ae, acting, reasons):
    """`handed(at)`: an SQL of the SDR (routing gives it to them: Gina is off the territory) accepted at `at`, which
    hands it to the team's only AE and starts their review clock of 8 working hours on the Berlin calendar."""
    TerritoryMember.objects.filter(user=germany.gina).update(active=False)

    def handed(at, **kwargs):
        lead = new_sql(at=MONDAY_10, **kwargs)
        route(lead, MONDAY_10)
        acting(at, lambda: services.lead_accept(lead=Lead.objects.get(pk=lead.pk), by=sdr))
        lead.refresh_from_db()
        assert (lead.stage, lead.owner, lead.sdr) == (Stage.ACCEPTED, ae, sdr)
        return lead

    return handed


def test_the_inbox_lists_what_waits_for_my_review_soonest_due_first(client, ae, sdr, handed):
    # Accepted at 11:00, 10:30 and 14:00 Berlin: 8 working hours later is Tuesday 11:00, 10:30 and 14:00 Berlin
    # (Monday till 17:00, the rest from 09:00 on Tuesday). At Monday 15:00 Berlin they are 20 h, 19 h 30 and 23 h away.
    first = handed(berlin(2026, 11, 30, 11, 0))
    soonest = handed(berlin(2026, 11, 30, 10, 30))
    last = handed(berlin(2026, 11, 30, 14, 0))
    client.force_login(ae)
    rows = marked(get(client, INBOX), "inbox-waiting")
    assert [int(row.attrs["data-lead"]) for row in rows] == [soonest.pk, first.pk, last.pk]
    row = rows[0]
    assert str(soonest) in row.text
    assert soonest.account.name in row.text
    assert "Mid-Market" in row.text  # 250 employees
    assert "80" in row.text  # the score
    assert f"{sdr.get_full_name()} Mon 30 Nov, 09:30" in row.text  # accepted by, at (UTC)
    assert "due in 19 hours, 30 minutes" in row.text
    assert "due Tue 1 Dec, 09:30" in row.text
    assert "due in 20 hours" in rows[1].text and "due in 23 hours" in rows[2].text
    assert "Take on as SAL" in row.text and "Return to SDR" in row.text


def test_a_lead_handed_over_without_a_review_clock_comes_last(client, ae, sdr, handed):
    handed_lead = handed(berlin(2026, 11, 30, 11, 0))
    clockless = LeadFactory(owner=ae, stage=Stage.ACCEPTED, sdr=sdr, accepted_at=MONDAY_10, score_total=70)
    client.force_login(ae)
    rows = marked(get(client, INBOX), "inbox-waiting")
    assert [int(row.attrs["data-lead"]) for row in rows] == [handed_lead.pk, clockless.pk]
    assert "no review clock" in rows[1].text


def test_only_my_accepted_leads_not_yet_taken_on_wait_in_my_inbox(client, ae, sdr, team, manager, handed):
    mine = handed(berlin(2026, 11, 30, 11, 0))
    other_ae = make_rep("ae2", team, manager, role="AE")
    LeadFactory(owner=other_ae, stage=Stage.ACCEPTED, sdr=sdr)  # another AE's
    LeadFactory(owner=ae, stage=Stage.SQL)  # not accepted
    taken = LeadFactory(owner=ae, stage=Stage.ACCEPTED, sdr=sdr, sal_at=MONDAY_10)  # already an SAL
    LeadFactory(owner=None, stage=Stage.ACCEPTED, sdr=sdr)  # waiting for a manager to pick an AE
    client.force_login(ae)
    page = get(client, INBOX)
    assert [int(row.attrs["data-lead"]) for row in marked(page, "inbox-waiting")] == [mine.pk]
    sals = marked(page, "inbox-sal")
    assert len(sals) == 1 and str(taken) in sals[0].text


def test_taking_a_lead_on_from_the_inbox_moves_it_to_my_sals(client, ae, handed):
    lead = handed(berlin(2026, 11, 30, 11, 0))
    client.force_login(ae)
    with time_machine.travel(MONDAY_15, tick=False):
        response = client.post(reverse("handoff:lead_sal_accept", args=[lead.pk]), {"stage": "accepted", "next": INBOX})
    assert (response.status_code, response["Location"]) == (302, INBOX)
    lead.refresh_from_db()
    assert lead.sal_at == MONDAY_15
    page = get(client, INBOX)
    assert marked(page, "inbox-waiting") == []
    assert "Nothing waits for your review." in page
    (sal,) = marked(page, "inbox-sal")
    assert str(lead) in sal.text and "Open opportunity" in sal.text
    assert f"/leads/{lead.pk}/#opportunity-form" in sal.links
    assert "Log a discovery call" in sal.text
    assert f"/playbooks/leads/{lead.pk}/calls/new/" in sal.links


def test_returning_from_the_inbox_sends_the_lead_back_to_the_sdr_with_the_reason(client, ae, sdr, handed):
    lead = handed(berlin(2026, 11, 30, 11, 0))
    client.force_login(ae)
    with time_machine.travel(MONDAY_15, tick=False):
        response = client.post(
            reverse("handoff:lead_return", args=[lead.pk]),
            {"reason": "no_authority", "note": "Need the CFO on the call", "next": INBOX},
        )
    assert (response.status_code, response["Location"]) == (302, INBOX)
    lead.refresh_from_db()
    assert (lead.stage, lead.owner) == (Stage.SQL, sdr)
    assert marked(get(client, INBOX), "inbox-waiting") == []


def test_a_return_without_a_note_changes_nothing(client, ae, handed):
    lead = handed(berlin(2026, 11, 30, 11, 0))
    client.force_login(ae)
    response = client.post(reverse("handoff:lead_return", args=[lead.pk]), {"reason": "no_authority", "note": ""})
    assert response.status_code == 400
    lead.refresh_from_db()
    assert lead.stage == Stage.ACCEPTED


def test_the_return_dialog_offers_the_reasons_and_names_the_sdr(client, ae, sdr, handed, reasons):
    handed(berlin(2026, 11, 30, 11, 0))
    client.force_login(ae)
    page = get(client, INBOX)
    assert 'id="return-dialog"' in page
    assert f'data-sdr-name="{sdr.get_full_name()}"' in page
    assert '<option value="no_authority">No authority</option>' in page


def test_a_lead_nobody_handed_over_can_be_taken_on_but_not_returned(client, ae):
    LeadFactory(owner=ae, stage=Stage.ACCEPTED, sdr=None)
    client.force_login(ae)
    page = get(client, INBOX)
    (row,) = marked(page, "inbox-waiting")
    assert "Take on as SAL" in row.text
    assert "Return to SDR" not in row.text
    assert 'id="return-dialog"' not in page


def test_my_open_opportunities_show_amount_stage_and_expected_close_first_to_close_on_top(client, ae, sdr):
    lead = LeadFactory(owner=ae, stage=Stage.OPPORTUNITY)
    acme, initech = AccountFactory(name="Acme"), AccountFactory(name="Initech")
    OpportunityFactory(
        owner=ae,
        lead=lead,
        account=acme,
        name="Platform",
        amount=24000,
        stage="proposal",
        expected_close=dt.date(2027, 1, 15),
    )
    OpportunityFactory(
        owner=ae, account=initech, name="Pilot", amount=8500, stage="discovery", expected_close=dt.date(2026, 12, 20)
    )
    OpportunityFactory(owner=ae, account=acme, name="Closed deal", stage="won", closed_at=MONDAY_10)
    OpportunityFactory(owner=sdr, account=acme, name="Not mine", stage="discovery")
    client.force_login(ae)
    rows = marked(get(client, INBOX), "inbox-opportunity")
    assert [row.text for row in rows] == [
        "Pilot Initech Discovery $8,500 2026-12-20",
        "Platform Acme Proposal $24,000 2027-01-15",
    ]
    assert rows[1].links == [f"/leads/{lead.pk}/#opportunity-form"]
    assert rows[0].links == []  # no lead behind it


def test_an_empty_inbox_says_what_will_appear_there(client, ae):
    client.force_login(ae)
    page = get(client, INBOX)
    assert "Nothing waits for your review. When an SDR accepts an SQL and it is handed to you" in page
    assert "No SAL without an opportunity." in page
    assert "No open opportunity." in page


# --- who may open it ---------------------------------------------------------------------------------------------

INBOX_STATUS = {
    "sdr": 403,
    "other_sdr": 403,
    "ae": 200,
    "manager": 403,
    "marketer": 403,
    "admin": 403,
    "outsider": 403,
    "anonymous": 302,
}


@pytest.mark.parametrize("actor", list(INBOX_STATUS))
def test_only_account_executives_open_the_inbox(client, cast, actor):
    if actor != "anonymous":
        client.force_login(cast[actor])
    response = client.get(INBOX)
    assert response.status_code == INBOX_STATUS[actor]
    if actor == "anonymous":
        assert response["Location"] == f"/login/?next={INBOX}"


@pytest.mark.parametrize(("actor", "shown"), [("ae", True), ("sdr", False), ("manager", False), ("marketer", False)])
def test_the_inbox_is_in_the_navigation_of_account_executives(client, cast, actor, shown):
    client.force_login(cast[actor])
    page = client.get("/").content.decode()
    assert (f'href="{INBOX}"' in page) is shown


# --- what it costs -----------------------------------------------------------------------------------------------


def _queries(client, url):
    with time_machine.travel(MONDAY_15, tick=False), CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_the_inbox_costs_the_same_with_one_lead_or_many(client, ae, sdr, handed):
    def one_of_each(at):
        handed(at)
        lead = LeadFactory(owner=ae, stage=Stage.ACCEPTED, sdr=sdr, sal_at=MONDAY_10)
        OpportunityFactory(owner=ae, lead=lead, stage="discovery", expected_close=dt.date(2027, 1, 1))

    client.force_login(ae)
    one_of_each(berlin(2026, 11, 30, 11, 0))
    one, page = _queries(client, INBOX)
    assert len(marked(page, "inbox-waiting")) == 1
    for minute in (5, 10, 15, 20):
        one_of_each(berlin(2026, 11, 30, 11, minute))
    many, page = _queries(client, INBOX)
    assert [len(marked(page, mark)) for mark in ("inbox-waiting", "inbox-sal", "inbox-opportunity")] == [5, 5, 5]
    assert many == one
