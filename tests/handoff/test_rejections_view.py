"""Marketing's feedback view (/work/rejections/): the SQLs SDRs rejected in a period, by reason, by source and by the
score they had when rejected, counts and shares worked out by hand; each count narrows the list of rejections to its
leads; AE returns apart; marketing and RevOps see every team, a manager their team only; who may open it; its cost."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from handoff.models import LeadRejection
from leadops.models import Lead
from leadops.rules import Stage
from tests.factories import AccountFactory, LeadFactory
from tests.handoff.test_inbox import marked

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)  # the default period: 1 to 30 November 2026
URL = "/work/rejections/"


def page(client, url=URL):
    with time_machine.travel(NOW, tick=False):
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def facet(html, name):
    """{label: (count, share)} of one facet table, in its order."""
    (table,) = marked(html, f"facet-{name}")
    cells = {}
    for cell in table.children:
        if cell.attrs["data-testid"] == "cell":
            label, count, share = cell.text.rsplit(" ", 2)
            cells[label] = (int(count), share)
    return cells


def listed(html):
    return [int(row.attrs["data-lead"]) for row in marked(html, "rejection")]


@pytest.fixture
def rejected(reasons, sdr):
    """rejected(day, reason, source, score, ...): a lead rejected on that November day at 10:00 with the score and
    source it had then (the lead itself has moved on: nurtured, scored 10 today, source 'other')."""

    def rejected(day, reason, source, score, *, by=None, kind="sdr_reject", month=11):
        by = by or sdr
        lead = LeadFactory(
            owner=by,
            stage=Stage.NURTURE if kind == "sdr_reject" else Stage.SQL,
            source="other",
            score_total=10,
            account=AccountFactory(name=f"{reason} {source} {score}"),
        )
        LeadRejection.objects.create(
            lead=lead,
            kind=kind,
            reason=reasons[reason],
            note=f"why {lead.pk}",
            by_user=by,
            at=dt.datetime(2026, month, day, 10, 0, tzinfo=dt.UTC),
            to_stage=Stage.NURTURE if kind == "sdr_reject" else Stage.SQL,
            score_total=score,
            source=source,
        )
        return lead

    return rejected


@pytest.fixture
def world(rejected, other_sdr):
    """Six SDR rejections of my team in November, one in October, two AE returns, and one of another team."""
    return {
        1: rejected(20, "not_icp", "list_import", 62),
        2: rejected(21, "not_icp", "list_import", 65),
        3: rejected(22, "not_icp", "web", 81),
        4: rejected(25, "no_budget", "web", 55),
        5: rejected(28, "no_budget", "list_import", 45),
        6: rejected(29, "bad_timing", "event", None),
        "october": rejected(15, "not_icp", "web", 70, month=10),
        "return_1": rejected(26, "no_authority", "web", 75, kind="ae_return"),
        "return_2": rejected(27, "no_authority", "list_import", 72, kind="ae_return"),
        "other_team": rejected(24, "not_icp", "web", 90, by=other_sdr),
    }


def test_marketing_sees_the_last_30_days_by_reason_source_and_score_band(client, marketer, world):
    client.force_login(marketer)
    html = page(client)
    (summary,) = marked(html, "rejection-summary")
    assert summary.text == (
        "7 SQLs rejected by SDRs and 2 accepted leads returned by AEs from 1 Nov 2026 to 30 Nov 2026."
    )
    assert facet(html, "reason") == {
        "Not ICP": (4, "57.1%"),
        "No budget": (2, "28.6%"),
        "Bad timing": (1, "14.3%"),
    }
    assert facet(html, "source") == {
        "List import": (3, "42.9%"),
        "Website": (3, "42.9%"),
        "Event / trade show": (1, "14.3%"),
    }
    assert facet(html, "band") == {
        "below 50": (1, "14.3%"),
        "50–59": (1, "14.3%"),
        "60–69": (2, "28.6%"),
        "70–79": (0, "0.0%"),
        "80 and above": (2, "28.6%"),
        "not scored": (1, "14.3%"),
    }
    assert facet(html, "returns") == {"No authority": (2, "100.0%")}
    # The list: every SDR rejection of the period, newest first; the AE returns and October are not in it.
    assert listed(html) == [world[k].pk for k in (6, 5, 4, "other_team", 3, 2, 1)]


def test_ties_in_a_facet_are_in_label_order(client, marketer, world):
    client.force_login(marketer)
    assert list(facet(page(client), "source")) == ["List import", "Website", "Event / trade show"]


def test_a_manager_sees_only_the_rejections_of_their_team(client, manager, world):
    client.force_login(manager)
    html = page(client)
    assert facet(html, "reason") == {
        "Not ICP": (3, "50.0%"),
        "No budget": (2, "33.3%"),
        "Bad timing": (1, "16.7%"),
    }
    assert facet(html, "source") == {
        "List import": (3, "50.0%"),
        "Website": (2, "33.3%"),
        "Event / trade show": (1, "16.7%"),
    }
    assert world["other_team"].pk not in listed(html)


def test_another_teams_manager_sees_none_of_my_teams_rejections(client, other_sdr, world):
    client.force_login(other_sdr.profile.manager)
    html = page(client)
    assert facet(html, "reason") == {"Not ICP": (1, "100.0%")}
    assert listed(html) == [world["other_team"].pk]
    assert facet(html, "returns") == {}


def test_a_count_links_to_the_rejections_behind_it(client, marketer, world):
    client.force_login(marketer)
    html = page(client)
    (table,) = marked(html, "facet-reason")
    assert table.links[0] == "?since=2026-11-01&until=2026-11-30&reason=not_icp#rejection-list"
    html = page(client, URL + "?since=2026-11-01&until=2026-11-30&reason=not_icp")
    assert listed(html) == [world[k].pk for k in ("other_team", 3, 2, 1)]


def test_choosing_a_source_shows_its_reasons_and_bands_and_narrows_the_list(client, marketer, sdr, world):
    client.force_login(marketer)
    html = page(client, URL + "?source=list_import")
    assert facet(html, "reason") == {"Not ICP": (2, "66.7%"), "No budget": (1, "33.3%")}
    assert facet(html, "band")["60–69"] == (2, "66.7%")
    assert facet(html, "band")["below 50"] == (1, "33.3%")
    # The source facet itself still shows every source, the chosen one marked.
    assert facet(html, "source")["Website"] == (3, "42.9%")
    assert listed(html) == [world[k].pk for k in (5, 2, 1)]
    lead = world[5]
    row = next(row for row in marked(html, "rejection") if int(row.attrs["data-lead"]) == lead.pk)
    # Source and score as they were when it was rejected, not the lead's today ('other', 10).
    assert row.text == (
        f"2026-11-28 10:00 {lead} no_budget list_import 45 List import 45 No budget why {lead.pk} "
        f"{sdr.get_full_name()} Nurture"
    )
    assert f"/leads/{lead.pk}/" in row.links
    html = page(client, URL + "?source=list_import&band=60-69")
    assert listed(html) == [world[k].pk for k in (2, 1)]
    (chosen,) = marked(html, "chosen-filters")
    assert chosen.text.startswith("Narrowed to: source: List import (remove) score: 60–69 (remove) clear all")


def test_the_ae_returns_are_listed_apart(client, marketer, world):
    client.force_login(marketer)
    html = page(client, URL + "?kind=ae_return")
    assert listed(html) == [world["return_2"].pk, world["return_1"].pk]
    assert "Returned by AEs: 2 leads" in html


def test_another_period_is_chosen_with_dates(client, marketer, world):
    client.force_login(marketer)
    html = page(client, URL + "?since=2026-10-01&until=2026-10-31")
    assert listed(html) == [world["october"].pk]
    assert facet(html, "band") == {
        "below 50": (0, "0.0%"),
        "50–59": (0, "0.0%"),
        "60–69": (0, "0.0%"),
        "70–79": (1, "100.0%"),
        "80 and above": (0, "0.0%"),
    }


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("?since=2026-12-01&until=2026-11-01", "From: The period starts after it ends."),
        ("?since=junk", "From: Enter a valid date."),
        ("?since=2020-01-01&until=2026-11-30", "From: Choose a period of at most 731 days."),
        ("?band=90-99", "Select a valid choice. 90-99 is not one of the available choices."),
    ],
)
def test_a_bad_period_or_filter_is_named_and_the_last_30_days_shown(client, marketer, world, query, error):
    client.force_login(marketer)
    html = page(client, URL + query)
    (errors,) = marked(html, "period-errors")
    assert error in errors.text and "Showing the last 30 days meanwhile." in errors.text
    assert len(listed(html)) == 7


def test_an_empty_period_says_what_would_be_counted(client, marketer):
    client.force_login(marketer)
    html = page(client)
    (empty,) = marked(html, "no-rejections")
    assert empty.text == (
        "No SQL was rejected in this period (the last 30 days). Each rejection an SDR makes is counted here with its "
        "reason and note, and the score and source the lead had then."
    )
    (summary,) = marked(html, "rejection-summary")
    assert summary.text.startswith("0 SQLs rejected by SDRs and 0 accepted leads returned by AEs")


def test_an_sdrs_rejection_from_the_lead_page_reaches_marketing_with_the_score_it_had(client, sdr, marketer, reasons):
    lead = LeadFactory(owner=sdr, stage=Stage.SQL, score_total=83, source="paid_search")
    client.force_login(sdr)
    with time_machine.travel(NOW, tick=False):
        response = client.post(
            reverse("handoff:lead_reject", args=[lead.pk]),
            {"stage": "sql", "reason": "not_icp", "note": "Agency, not a buyer"},
        )
    assert response.status_code == 302
    Lead.objects.filter(pk=lead.pk).update(score_total=20)  # re-scored since
    client.force_login(marketer)
    html = page(client)
    assert facet(html, "band")["80 and above"] == (1, "100.0%")
    assert facet(html, "source") == {"Paid search": (1, "100.0%")}
    assert listed(html) == [lead.pk]


# --- who may open it ---------------------------------------------------------------------------------------------

STATUS = {
    "sdr": 403,
    "other_sdr": 403,
    "ae": 403,
    "manager": 200,
    "marketer": 200,
    "admin": 200,
    "outsider": 403,
    "anonymous": 302,
}


@pytest.mark.parametrize("actor", list(STATUS))
def test_the_feedback_view_by_role(client, cast, actor):
    if actor != "anonymous":
        client.force_login(cast[actor])
    with time_machine.travel(NOW, tick=False):
        response = client.get(URL)
    assert response.status_code == STATUS[actor]
    if actor == "anonymous":
        assert response["Location"] == f"/login/?next={URL}"


@pytest.mark.parametrize(
    ("actor", "shown"), [("marketer", True), ("admin", True), ("manager", True), ("sdr", False), ("ae", False)]
)
def test_rejections_is_in_the_navigation_of_marketing_revops_and_managers(client, cast, actor, shown):
    client.force_login(cast[actor])
    assert (f'href="{URL}"' in client.get("/").content.decode()) is shown


# --- what it costs -----------------------------------------------------------------------------------------------


def test_the_feedback_view_costs_the_same_with_one_rejection_or_many(client, marketer, rejected):
    client.force_login(marketer)
    rejected(2, "not_icp", "web", 62)

    def count():
        with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as queries:
            response = client.get(URL)
        assert response.status_code == 200
        return len(queries), response.content.decode()

    one, html = count()
    assert len(listed(html)) == 1
    for day, reason, source, score in [
        (3, "no_budget", "event", 45),
        (4, "bad_timing", "list_import", None),
        (5, "not_icp", "partner", 88),
        (6, "no_need", "web", 71),
    ]:
        rejected(day, reason, source, score)
    rejected(7, "no_authority", "web", 75, kind="ae_return")
    many, html = count()
    assert len(listed(html)) == 5
    assert many == one
