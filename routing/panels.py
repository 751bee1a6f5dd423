"""Routing's answer to the core's page signals: the lead page's routing panel."""

from __future__ import annotations

from django.template.loader import render_to_string

from routing.selectors import routing_decisions_of

LEAD_PANEL_ORDER = 10  # before SLA (20) and playbooks (30)
EARLIER_SHOWN = 10


def lead_routing_panel(sender, *, lead, user, request, **kwargs):
    """The latest decision with its path, who or which queue has the lead, and earlier decisions: one query."""
    decisions = list(routing_decisions_of(lead_id=lead.pk)[: EARLIER_SHOWN + 1])
    if not decisions and not lead.sql_at:
        return None  # never an SQL: routing has nothing to say
    html = render_to_string(
        "routing/partials/_lead_panel.html",
        # Without the request: the context processors (navigation, roles) would cost queries the page already made.
        {"lead": lead, "latest": decisions[0] if decisions else None, "earlier": decisions[1:]},
    )
    return (LEAD_PANEL_ORDER, html)
