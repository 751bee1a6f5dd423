"""The SLA's answer to the core's page signals: the lead page's service-level panel."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone

from sla.selectors import clocks_of_lead

LEAD_PANEL_ORDER = 20  # after routing (10), before playbooks (30)


def lead_sla_panel(sender, *, lead, user, request, **kwargs):
    """The lead's clocks with a countdown (running), their outcome (closed) and steps taken: two queries."""
    clocks = list(clocks_of_lead(lead_id=lead.pk)[:20])
    if not clocks:
        return None
    html = render_to_string("sla/partials/_lead_panel.html", {"clocks": clocks, "now": timezone.now()})
    return (LEAD_PANEL_ORDER, html)
