"""The routing panel on the lead page, contributed through leadops.panels without the core importing routing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.urls import reverse
from django.utils.safestring import mark_safe

from leadops.panels import lead_panels
from routing import services
from routing.panels import lead_routing_panel
from tests.factories import LeadFactory
from tests.routing.conftest import sql_lead

pytestmark = pytest.mark.django_db


def test_the_lead_page_shows_who_got_the_lead_and_why(client, emea, sdr, manager):
    lead = sql_lead()
    services.lead_route(lead_id=lead.pk)
    services.lead_reassign(lead=lead, to_user=emea.gina, by=manager, reason="Knows the account")
    client.force_login(manager)
    page = client.get(reverse("lead_detail", args=[lead.pk])).content.decode()
    assert 'id="routing-panel-title"' in page
    assert "reassigned by hand by" in page and "Knows the account" in page
    assert "Earlier decisions (1)" in page
    assert "territory EMEA (priority 1)" in page  # the first decision's path


def test_the_panel_names_the_queue(client, emea, admin_user):
    lead = sql_lead(signal_days_ago=45)
    services.lead_route(lead_id=lead.pk)
    client.force_login(admin_user)
    page = client.get(reverse("lead_detail", args=[lead.pk])).content.decode()
    assert "Nurture queue" in page and "last intent or buying signal 45 days ago" in page


def test_a_lead_that_never_was_an_sql_has_no_routing_panel(client, admin_user):
    lead = LeadFactory()
    client.force_login(admin_user)
    page = client.get(reverse("lead_detail", args=[lead.pk])).content.decode()
    assert "routing-panel-title" not in page


def test_the_panel_costs_one_query(emea, sdr, manager, django_assert_num_queries):
    lead = sql_lead()
    services.lead_route(lead_id=lead.pk)
    services.lead_reassign(lead=lead, to_user=emea.gina, by=manager, reason="Knows the account")
    request = RequestFactory().get("/")
    request.user = manager
    with django_assert_num_queries(1):
        order, html = lead_routing_panel(None, lead=lead, user=manager, request=request)
    assert order == 10 and "Knows the account" in html


def test_panels_are_shown_in_their_order(client, emea, admin_user):
    lead = sql_lead()
    services.lead_route(lead_id=lead.pk)

    def early(sender, **kwargs):
        return (1, mark_safe("<p>first panel</p>"))

    lead_panels.connect(early, dispatch_uid="test-early")
    try:
        client.force_login(admin_user)
        page = client.get(reverse("lead_detail", args=[lead.pk])).content.decode()
    finally:
        lead_panels.disconnect(dispatch_uid="test-early")
    assert page.index("<p>first panel</p>") < page.index("routing-panel-title")


def test_the_core_app_never_imports_routing():
    offenders = []
    for path in sorted((Path(settings.BASE_DIR) / "leadops").rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if re.match(r"\s*(from|import)\s+routing\b", line):
                offenders.append(f"{path.name}:{number}")
    assert offenders == []
