"""The SQL handoff from end to end in headless Chromium against the live server: an SDR works the queue in the
order the service levels set (and the keys work on it), is refused a rejection without a reason, rejects with one,
accepts an SQL and logs a call that stops its contact clock; the AE takes the accepted lead on as an SAL from the
inbox; the manager reassigns one of the SDR's leads from the team queues with a reason.

The world is set up through the services (routing starts the SLA clocks); everything after that is done in the
browser, and each step is checked on the page and in the database."""

from __future__ import annotations

import importlib
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import expect

from handoff.models import LeadRejection, RejectionReason
from leadops.models import Activity, AuditEntry, Lead
from leadops.rules import Stage
from routing.models import Territory, TerritoryMember
from routing.services import lead_route
from sla.models import SlaClock, SlaPolicy
from tests.factories import AccountFactory, LeadEventFactory, LeadFactory
from tests.integration.test_browser_login import log_in
from tests.routing.conftest import make_rep
from tests.sla.conftest import OFFICE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TIMEOUT = 10_000  # ms; every expect below waits at most this long
REASSIGN_REASON = "Gina speaks to this account's parent company every week"


@pytest.fixture
def migrated_rows():
    """The SLA policies and rejection reasons the migrations install (a transactional test may have flushed them)."""
    if not SlaPolicy.objects.exists():
        importlib.import_module("sla.migrations.0002_default_policies").install(apps, None)
    if not RejectionReason.objects.exists():
        importlib.import_module("handoff.migrations.0002_default_reasons").add_reasons(apps, None)


def routed_sql(name: str, *, temperature: str, score: int, routed_at):
    """An SQL from Germany with a demo request the day before (routing wants recent intent), routed at `routed_at`:
    the routing commits, and the clocks start from then (Celery runs eagerly in the test settings)."""
    first, last = name.split(" ", 1)
    lead = LeadFactory(
        first_name=first,
        last_name=last,
        account=AccountFactory(name=f"{last} AG", country="Germany", region="EMEA"),
        stage=Stage.SQL,
        score_total=score,
        score_fit=80,
        temperature=temperature,
        sql_at=routed_at,
        stage_changed_at=routed_at,
        created_at=routed_at - timedelta(days=3),
    )
    LeadEventFactory(lead=lead, kind="demo_request", occurred_at=routed_at - timedelta(days=1))
    lead_route(lead_id=lead.pk, now=routed_at)
    return lead


@pytest.fixture
def world(migrated_rows, sdr, ae, manager, team):
    """The team's German territory with the SDR as its only member (so routing gives every lead to them), a second
    SDR of the team who is not in it (gina, to reassign to), the team's AE, and four SQLs routed to the SDR.

    The queue puts the soonest SLA due first, then the hottest, then the best score:
      Hanna Hot    hot,  routed 2 min ago:  contact clock due in 3 min
      Willi Warm   warm, routed 1 min ago:  contact clock due in 14 min
      Karl Cold    cold, routed 1 h ago:    contact clock due in 23 h, score 90
      Clara Cool   cold, routed 1 h ago:    contact clock due in 23 h, score 72 (same due time: the better score first)
    """
    territory = Territory.objects.create(name="Germany", priority=1, countries=["DE"], team=team, calendar=OFFICE)
    TerritoryMember.objects.create(territory=territory, user=sdr, role="specialist")
    gina = make_rep("gina", team, manager)
    now = timezone.now()
    leads = {
        "hot": routed_sql("Hanna Hot", temperature="hot", score=85, routed_at=now - timedelta(minutes=2)),
        "warm": routed_sql("Willi Warm", temperature="warm", score=75, routed_at=now - timedelta(minutes=1)),
        "cold_high": routed_sql("Karl Cold", temperature="cold", score=90, routed_at=now - timedelta(hours=1)),
        "cold_low": routed_sql("Clara Cool", temperature="cold", score=72, routed_at=now - timedelta(hours=1)),
    }
    assert set(Lead.objects.filter(pk__in=[lead.pk for lead in leads.values()]).values_list("owner", flat=True)) == {
        sdr.pk
    }
    contact = SlaClock.objects.get(lead=leads["warm"], policy__key="contact-warm", owner=sdr)
    assert contact.state == "open"
    return leads, gina


def nav_link(page, label: str):
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=label)


def sign_in(page, live_server, user, password) -> None:
    page.goto(f"{live_server.url}/login/")
    log_in(page, user.username, password)
    expect(page).to_have_url(f"{live_server.url}/", timeout=TIMEOUT)


def sign_out(page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login/$"), timeout=TIMEOUT)


def expect_message(page, text: str) -> None:
    """The message the page shows after an action (Django's messages, role=alert)."""
    expect(page.get_by_role("alert").filter(has_text=text)).to_be_visible(timeout=TIMEOUT)


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def open_lead_from_queue(page, live_server, lead) -> None:
    nav_link(page, "My queue").click()
    expect(page).to_have_url(f"{live_server.url}/work/queue/", timeout=TIMEOUT)
    page.get_by_test_id("queue-row").filter(has_text=str(lead)).get_by_role("link", name=str(lead), exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/leads/{lead.pk}/", timeout=TIMEOUT)
    expect(page.get_by_role("heading", level=1)).to_have_text(str(lead), timeout=TIMEOUT)


def test_sql_handoff_from_the_sdrs_queue_to_the_aes_inbox_and_a_managers_reassignment(
    live_server, page, password, sdr, ae, manager, world
):
    leads, gina = world
    hot, warm, cold_high, cold_low = leads["hot"], leads["warm"], leads["cold_high"], leads["cold_low"]
    page.set_viewport_size({"width": 1366, "height": 900})

    # --- the SDR: the queue in its order ---------------------------------------------------------------------------
    sign_in(page, live_server, sdr, password)
    nav_link(page, "My queue").click()
    expect(page).to_have_url(f"{live_server.url}/work/queue/", timeout=TIMEOUT)
    rows = page.get_by_test_id("queue-row")
    expect(rows).to_have_count(4, timeout=TIMEOUT)
    for index, name in enumerate(["Hanna Hot", "Willi Warm", "Karl Cold", "Clara Cool"]):
        expect(rows.nth(index)).to_have_attribute("data-name", name, timeout=TIMEOUT)
    expect(page.locator("tr.queue-current")).to_have_attribute("data-name", "Hanna Hot", timeout=TIMEOUT)
    shot(page, "handoff-sdr-queue")

    # Keys: j moves down, k up, r opens the reject dialog on the current row; Escape closes it, nothing is sent.
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(page.locator("tr.queue-current")).to_have_attribute("data-name", "Karl Cold", timeout=TIMEOUT)
    page.keyboard.press("j")
    page.keyboard.press("k")
    expect(page.locator("tr.queue-current")).to_have_attribute("data-name", "Karl Cold", timeout=TIMEOUT)
    page.keyboard.press("r")
    dialog = page.locator("#reject-dialog")
    expect(dialog).to_be_visible(timeout=TIMEOUT)
    expect(dialog.locator("[data-row-name]")).to_have_text("Karl Cold", timeout=TIMEOUT)
    expect(page.locator("#row-reject-reason")).to_be_focused(timeout=TIMEOUT)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden(timeout=TIMEOUT)
    assert Lead.objects.get(pk=cold_high.pk).stage == Stage.SQL

    # --- reject without a reason: refused, nothing changes; then with a reason and a note --------------------------
    open_lead_from_queue(page, live_server, cold_low)
    page.get_by_role("button", name="Reject…").click()
    form = page.locator("#reject-form")
    expect(form).to_be_visible(timeout=TIMEOUT)
    note = "Their budget for next year is already spent on a competitor."
    form.get_by_label("Note for marketing").fill(note)
    form.get_by_role("button", name="Reject", exact=True).click()

    expect_message(page, "Nothing was saved: see the form below.")
    form = page.locator("#reject-form")
    expect(form).to_be_visible(timeout=TIMEOUT)  # shown again, open, with the error on its field
    expect(form.locator("#reject-reason-error")).to_have_text("Choose a reason from the list.", timeout=TIMEOUT)
    expect(form.get_by_label("Note for marketing")).to_have_value(note, timeout=TIMEOUT)
    shot(page, "handoff-reject-refused")
    cold_low.refresh_from_db()
    assert (cold_low.stage, cold_low.owner_id) == (Stage.SQL, sdr.pk)
    assert not LeadRejection.objects.filter(lead=cold_low).exists()

    form.get_by_label("Reason").select_option(label="No budget")
    form.get_by_role("button", name="Reject", exact=True).click()
    expect_message(page, "Rejected; the reason goes to marketing's feedback view.")
    expect(page).to_have_url(f"{live_server.url}/leads/{cold_low.pk}/", timeout=TIMEOUT)
    cold_low.refresh_from_db()
    assert cold_low.stage == Stage.NURTURE
    rejection = LeadRejection.objects.get(lead=cold_low)
    assert (rejection.reason.code, rejection.note, rejection.by_user_id, rejection.to_stage) == (
        "no_budget",
        note,
        sdr.pk,
        Stage.NURTURE,
    )

    # --- accept another: Accepted, handed to the team's AE ---------------------------------------------------------
    open_lead_from_queue(page, live_server, hot)
    page.get_by_role("button", name="Accept and hand to an AE").click()
    expect_message(page, "Accepted and handed to an AE.")
    hot.refresh_from_db()
    assert (hot.stage, hot.owner_id, hot.sdr_id) == (Stage.ACCEPTED, ae.pk, sdr.pk)
    assert SlaClock.objects.get(lead=hot, policy__key="ae-review").owner_id == ae.pk

    # --- log a call on a third: the contact clock stops, met ------------------------------------------------------
    open_lead_from_queue(page, live_server, warm)
    activity = page.locator("#activity-form")
    activity.get_by_label("Kind").select_option(label="Call")
    activity.get_by_label("Outcome").select_option("Connected")
    activity.get_by_label("Minutes").fill("7")
    activity.get_by_label("Note").fill("Wants a demo for the operations team next week.")
    activity.get_by_role("button", name="Log it").click()
    expect_message(page, "Activity logged.")
    contact = page.get_by_test_id("sla-clock").filter(has_text="Time to contact, warm lead")
    expect(contact.locator(".badge").first).to_have_text("met", timeout=TIMEOUT)
    shot(page, "handoff-call-logged")
    logged = Activity.objects.get(lead=warm)
    assert (logged.kind, logged.outcome, logged.duration_minutes, logged.rep_id) == ("call", "Connected", 7, sdr.pk)
    clock = SlaClock.objects.get(lead=warm, policy__key="contact-warm", owner=sdr)
    assert clock.state == "met" and clock.met_at is not None

    sign_out(page)

    # --- the AE: the accepted lead waits in the inbox; take it on as SAL ------------------------------------------
    sign_in(page, live_server, ae, password)
    nav_link(page, "Inbox").click()
    expect(page).to_have_url(f"{live_server.url}/work/inbox/", timeout=TIMEOUT)
    waiting = page.get_by_test_id("inbox-waiting")
    expect(waiting).to_have_count(1, timeout=TIMEOUT)
    expect(waiting).to_contain_text("Hanna Hot", timeout=TIMEOUT)
    waiting.get_by_role("button", name="Take on as SAL").click()
    expect_message(page, "Taken on as a sales-accepted lead.")
    expect(page).to_have_url(f"{live_server.url}/work/inbox/", timeout=TIMEOUT)
    expect(page.get_by_test_id("inbox-empty")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_test_id("inbox-sal")).to_contain_text("Hanna Hot", timeout=TIMEOUT)
    hot.refresh_from_db()
    assert hot.sal_at is not None and hot.owner_id == ae.pk
    assert SlaClock.objects.get(lead=hot, policy__key="ae-review", owner=ae).state == "met"

    sign_out(page)

    # --- the manager: the SDR's page in the team queues; reassign one lead with a reason ---------------------------
    sign_in(page, live_server, manager, password)
    nav_link(page, "Team queues").click()
    expect(page).to_have_url(f"{live_server.url}/work/team/", timeout=TIMEOUT)
    page.get_by_test_id("team-rep").filter(has_text=sdr.get_full_name()).get_by_role(
        "link", name=sdr.get_full_name()
    ).click()
    expect(page).to_have_url(f"{live_server.url}/work/team/{sdr.pk}/", timeout=TIMEOUT)
    in_work = page.get_by_test_id("rep-lead")
    expect(in_work).to_have_count(2, timeout=TIMEOUT)  # Willi Warm and Karl Cold: still SQLs with the SDR
    page.get_by_label("Select Karl Cold").check()
    expect(page.locator("#selected-count")).to_have_text("1", timeout=TIMEOUT)
    page.get_by_label("Reassign the selected leads to").select_option(label="Gina")
    page.get_by_label("Reason").fill(REASSIGN_REASON)
    page.get_by_role("button", name="Reassign selected").click()
    expect_message(page, "1 lead reassigned to Gina.")
    expect(page).to_have_url(f"{live_server.url}/work/team/{sdr.pk}/", timeout=TIMEOUT)
    expect(in_work).to_have_count(1, timeout=TIMEOUT)
    expect(in_work).to_contain_text("Willi Warm", timeout=TIMEOUT)
    shot(page, "handoff-manager-reassigned")
    cold_high.refresh_from_db()
    assert cold_high.owner_id == gina.pk
    entry = AuditEntry.objects.get(action="lead.assign", object_id=str(cold_high.pk), actor=manager)
    assert entry.reason == REASSIGN_REASON
    assert entry.changes == {"owner_id": [sdr.pk, gina.pk]}
