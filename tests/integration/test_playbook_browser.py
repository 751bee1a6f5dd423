"""A discovery call from end to end in headless Chromium against the live server: the AE opens their SAL's page,
logs a CHAMP call from the playbook panel (every required criterion met, a pricing objection handled with its talk
track beside the form, a demo booked), sees that it qualified the lead, and opens the opportunity from it; the lead
is then an opportunity.

The world is set up through the services (the SDR accepts an SQL, which goes to the team's AE, who takes it on as
an SAL); everything after that is done in the browser, and the result is checked on the page and in the database."""

from __future__ import annotations

import importlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import expect

from handoff import services as handoff_services
from leadops.models import Lead, Opportunity
from leadops.rules import Stage
from playbooks.models import DiscoveryCall, QualificationTemplate
from sla.models import SlaPolicy
from tests.factories import AccountFactory, LeadFactory
from tests.integration.test_handoff_browser import TIMEOUT, expect_message, shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHAMP_CRITERIA = {
    "Challenges": "Month-end close takes nine days; two analysts rebuild the forecast by hand.",
    "Authority": "The CFO signs; the controller runs the evaluation.",
    "Money": "Budget of 40k set aside for finance tooling this year.",
    "Prioritization": "Board asked for a faster close before the next audit.",
}


@pytest.fixture
def migrated_rows():
    """The SLA policies and the shipped playbook the migrations install (a transactional test may have flushed
    them)."""
    if not SlaPolicy.objects.exists():
        importlib.import_module("sla.migrations.0002_default_policies").install(apps, None)
    if not QualificationTemplate.objects.exists():
        importlib.import_module("playbooks.migrations.0002_default_templates").forwards(apps, None)


@pytest.fixture
def sal(migrated_rows, sdr, ae, team):
    """An SQL of the SDR's that they accept (it goes to the team's only AE), and the AE takes on as an SAL."""
    now = timezone.now()
    lead = LeadFactory(
        first_name="Paula",
        last_name="Pricing",
        title="CFO",
        account=AccountFactory(name="Pricing GmbH", country="Germany", region="EMEA"),
        owner=sdr,
        stage=Stage.SQL,
        sql_at=now - timedelta(hours=2),
        stage_changed_at=now - timedelta(hours=2),
    )
    handoff_services.lead_accept(lead=lead, by=sdr)
    lead = Lead.objects.get(pk=lead.pk)
    assert (lead.stage, lead.owner_id) == (Stage.ACCEPTED, ae.pk)
    handoff_services.lead_sal_accept(lead=lead, by=ae)
    assert Lead.objects.get(pk=lead.pk).sal_at is not None
    return lead


def test_ae_logs_a_qualifying_champ_call_and_opens_the_opportunity_from_it(live_server, page, password, ae, sal):
    page.set_viewport_size({"width": 1366, "height": 900})
    lead_url = f"{live_server.url}/leads/{sal.pk}/"
    demo_on = (timezone.localdate() + timedelta(days=7)).isoformat()
    close_on = (timezone.localdate() + timedelta(days=60)).isoformat()

    # --- the lead page: the playbook panel offers the call ---------------------------------------------------------
    sign_in(page, live_server, ae, password)
    page.goto(lead_url)
    expect(page.get_by_role("heading", level=1)).to_have_text(str(sal), timeout=TIMEOUT)
    panel = page.get_by_test_id("playbook-panel")
    expect(panel).to_contain_text("No discovery call logged yet.", timeout=TIMEOUT)
    panel.get_by_role("link", name="Log a discovery call").click()
    expect(page).to_have_url(f"{live_server.url}/playbooks/leads/{sal.pk}/calls/new/", timeout=TIMEOUT)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Discovery call with {sal}", timeout=TIMEOUT)

    # --- choose CHAMP (each choice reloads the form with that template's criteria) ---------------------------------
    choice = page.get_by_label("Qualification template")
    choice.select_option(label="BANT v1")
    expect(page.locator("#call-criteria")).to_have_text("BANT criteria", timeout=TIMEOUT)
    choice.select_option(label="CHAMP v1")
    expect(page.locator("#call-criteria")).to_have_text("CHAMP criteria", timeout=TIMEOUT)
    expect(choice).to_have_value(str(QualificationTemplate.objects.get(key="champ", active=True).pk), timeout=TIMEOUT)
    criteria = page.get_by_test_id("criterion-answer")
    expect(criteria).to_have_count(4, timeout=TIMEOUT)

    form = page.locator("#call-form")
    for name, note in CHAMP_CRITERIA.items():
        row = criteria.filter(has=page.get_by_role("radiogroup", name=name))
        expect(row.locator(".badge")).to_have_text("required", timeout=TIMEOUT)
        row.get_by_role("radiogroup", name=name).get_by_label("Met", exact=True).check()
        row.get_by_label(f"Notes on {name}").fill(note)

    # --- the pricing objection: its talk track appears beside the form; handled and resolved -----------------------
    track = page.locator('[data-talk-track="pricing"]')
    expect(track).to_be_hidden(timeout=TIMEOUT)
    form.get_by_label("Pricing", exact=True).check()
    expect(track).to_be_visible(timeout=TIMEOUT)
    expect(track).to_contain_text("Pricing", timeout=TIMEOUT)
    expect(track.locator("li")).to_have_count(5, timeout=TIMEOUT)
    expect(page.locator("[data-tracks-empty]")).to_be_hidden(timeout=TIMEOUT)
    pricing = page.locator('[data-objection-detail="pricing"]')
    expect(pricing).to_be_visible(timeout=TIMEOUT)
    for step in ("Listen", "Acknowledge", "Clarify", "Respond", "Confirm"):
        pricing.get_by_label(step, exact=True).check()
    pricing.get_by_label("Yes", exact=True).check()
    pricing.get_by_label("Notes on Pricing").fill("Thought we cost more than their spreadsheet; agreed once costed.")
    shot(page, "playbook-call-form")

    # --- the call itself and the next step ---------------------------------------------------------------------------
    page.get_by_label("Duration (minutes)").fill("35")
    page.get_by_label("Questions asked", exact=True).fill("9")
    page.get_by_label("The decision-maker was on the call").check()
    page.get_by_role("radiogroup", name="Next step").get_by_label("Demo", exact=True).check()
    page.get_by_label("On", exact=True).fill(demo_on)
    page.get_by_label("Owner", exact=True).select_option(str(ae.pk))
    page.get_by_role("button", name="Log the call").click()

    # --- the result: qualified; open the opportunity -----------------------------------------------------------------
    expect_message(page, "Discovery call logged.")
    call = DiscoveryCall.objects.get(lead=sal)
    expect(page).to_have_url(f"{live_server.url}/playbooks/calls/{call.pk}/", timeout=TIMEOUT)
    outcome = page.get_by_test_id("call-outcome")
    expect(outcome).to_contain_text("Qualified", timeout=TIMEOUT)
    expect(outcome).to_contain_text("qualified: every required criterion met", timeout=TIMEOUT)
    shot(page, "playbook-call-qualified")
    opportunity_form = page.locator("#opportunity-form")
    opportunity_form.get_by_label("Amount ($)").fill("48000")
    opportunity_form.get_by_label("Expected close").fill(close_on)
    opportunity_form.get_by_role("button", name="Open opportunity").click()

    # --- the lead page: now an opportunity ---------------------------------------------------------------------------
    expect_message(page, "the lead is now an opportunity.")
    expect(page).to_have_url(lead_url, timeout=TIMEOUT)
    expect(page.locator(".badge-stage")).to_have_text("Opportunity", timeout=TIMEOUT)
    expect(page.get_by_test_id("playbook-panel").locator(".badge")).to_have_text("qualified", timeout=TIMEOUT)
    shot(page, "playbook-lead-opportunity")

    call.refresh_from_db()
    assert call.template.key == "champ"
    assert call.qualified is True
    assert (call.next_step, call.next_step_on.isoformat(), call.next_step_owner_id) == ("demo", demo_on, ae.pk)
    assert (call.duration_minutes, call.questions_asked, call.decision_maker_present) == (35, 9, True)
    assert set(call.answers.values_list("criterion__name", "status")) == {
        ("Challenges", "met"),
        ("Authority", "met"),
        ("Money", "met"),
        ("Prioritization", "met"),
    }
    raised = call.objections.get()
    assert (raised.objection.key, raised.resolved) == ("pricing", True)
    sal.refresh_from_db()
    assert sal.stage == "opportunity"
    opportunity = Opportunity.objects.get(lead=sal)
    assert opportunity.amount == Decimal("48000")
    assert opportunity.expected_close.isoformat() == close_on
    assert opportunity.owner_id == ae.pk
    assert call.opportunity_id == opportunity.pk
