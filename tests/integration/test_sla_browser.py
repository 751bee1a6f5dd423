"""A breached service level reaches the SDR's manager, in a real browser: the bell's unread count, the notification
with the lead's name and its link, and the lead page showing the breached clock. The SDR sees their own breach, and
turning e-mail off is all they can do: the notifications still arrive, theirs and their manager's."""

from __future__ import annotations

import importlib
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from leadops.models import Notification
from routing.models import Territory, TerritoryMember
from routing.services import lead_route
from sla.models import SlaClock, SlaPolicy
from sla.services import sla_sweep
from tests.integration.test_browser_login import log_in
from tests.sla.conftest import OFFICE, new_sql

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
BREACH_LABEL = "A service-level clock was breached"
ESCALATION_LABEL = "A service level of your team was breached or escalated"


@pytest.fixture
def breached_lead(sdr, manager, team):
    """A hot SQL from Germany routed to the SDR 20 minutes ago; its 5-minute contact clock is overdue, not yet swept."""
    if not SlaPolicy.objects.exists():  # an earlier transactional test flushed what the migration installed
        importlib.import_module("sla.migrations.0002_default_policies").install(apps, None)
    territory = Territory.objects.create(name="Germany", priority=1, countries=["DE"], team=team, calendar=OFFICE)
    TerritoryMember.objects.create(territory=territory, user=sdr, role="specialist")
    routed_at = timezone.now() - timedelta(minutes=20)
    lead = new_sql(at=routed_at, temperature="hot")
    decision = lead_route(lead_id=lead.pk, now=routed_at)  # commits: the clocks start (Celery is eager here)
    assert decision.assignee == sdr
    clock = SlaClock.objects.get(lead=lead, policy__key="contact-hot", owner=sdr)
    assert clock.state == "open" and clock.due_at == routed_at + timedelta(minutes=5)
    return lead, clock


def bell(page):
    return page.locator("#nav-notifications [data-testid=notification-bell]")


def sweep_past_due(clock) -> None:
    # The minute sweep, six minutes after the lead was routed: breach, notify the owner, escalate to the manager.
    result = sla_sweep(now=clock.due_at + timedelta(minutes=1))
    assert result.actions == {"breach": 1, "notify_owner": 1, "notify_manager": 1}


def test_the_manager_sees_the_breach_in_the_bell_the_notification_centre_and_on_the_lead(
    live_server, page, password, manager, breached_lead
):
    lead, clock = breached_lead
    sweep_past_due(clock)

    page.goto(f"{live_server.url}/login/")
    log_in(page, manager.username, password)
    expect(page).to_have_url(f"{live_server.url}/")
    expect(bell(page)).to_contain_text("1 unread notifications")

    bell(page).click()
    expect(page).to_have_url(f"{live_server.url}/notifications/")
    row = page.get_by_test_id("notification-row").filter(has_text=ESCALATION_LABEL)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("New")
    expect(row).to_contain_text(f"SLA escalation: Time to contact, hot lead for {lead}")
    link = row.get_by_role("link", name=f"Open lead: {lead}")
    expect(link).to_have_attribute("href", f"/leads/{lead.pk}/")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "sla-manager-notifications.png", full_page=True)

    link.click()
    expect(page).to_have_url(f"{live_server.url}/leads/{lead.pk}/")
    panel_clock = page.get_by_test_id("sla-clock").filter(has_text="Time to contact, hot lead")
    expect(panel_clock).to_have_count(1)
    expect(panel_clock.locator(".badge")).to_have_text("breached")
    expect(panel_clock).to_contain_text(f"notified the manager {manager.get_full_name()}")
    page.screenshot(path=ARTIFACTS / "sla-breached-lead.png", full_page=True)


def test_the_sdr_sees_their_breach_and_turning_e_mail_off_does_not_mute_it_or_the_escalation(
    live_server, page, browser, password, sdr, manager, breached_lead
):
    lead, clock = breached_lead

    # Before the breach, the SDR turns off every e-mail they can.
    page.goto(f"{live_server.url}/login/")
    log_in(page, sdr.username, password)
    page.goto(f"{live_server.url}/notifications/settings/")
    for label in (BREACH_LABEL, ESCALATION_LABEL):
        page.get_by_label(label).uncheck()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Your e-mail settings are saved.")).to_be_visible()
    expect(page.get_by_label(BREACH_LABEL)).not_to_be_checked()

    mail.outbox.clear()
    sweep_past_due(clock)

    # Only e-mail was turned off: the SDR's own breach is in their notification centre ...
    page.goto(f"{live_server.url}/")
    expect(bell(page)).to_contain_text("unread notifications")
    bell(page).click()
    row = page.get_by_test_id("notification-row").filter(has_text=BREACH_LABEL)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(f"SLA breached: Time to contact, hot lead for {lead}")
    row.get_by_role("link", name=f"Open lead: {lead}").click()
    expect(page).to_have_url(f"{live_server.url}/leads/{lead.pk}/")
    expect(
        page.get_by_test_id("sla-clock").filter(has_text="Time to contact, hot lead").locator(".badge")
    ).to_have_text("breached")

    # ... no e-mail went to the SDR, and their manager was told and e-mailed all the same.
    assert [message.to for message in mail.outbox] == [[manager.email]]
    assert mail.outbox[0].subject == f"[LeadOps] {ESCALATION_LABEL}"
    assert Notification.objects.filter(recipient=manager, kind="sla_escalation", lead=lead).count() == 1

    manager_page = browser.new_context().new_page()
    manager_page.goto(f"{live_server.url}/login/")
    log_in(manager_page, manager.username, password)
    expect(bell(manager_page)).to_contain_text("1 unread notifications")
    manager_page.goto(f"{live_server.url}/notifications/")
    expect(manager_page.get_by_test_id("notification-row").filter(has_text=ESCALATION_LABEL)).to_contain_text(str(lead))
    manager_page.context.close()
