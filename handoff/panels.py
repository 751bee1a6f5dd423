"""The handoff's answer to the lead page's panel signal: the actions this person may take on the lead now."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone

from handoff import selectors
from handoff.services import ACTIVITY_OUTCOMES
from leadops.models import Activity, Opportunity

LEAD_PANEL_ORDER = 5  # first: the lead page is where the rep acts


def lead_actions_panel(sender, *, lead, user, request, **kwargs):
    actions = selectors.lead_actions(user=user, lead=lead)
    # Reassigning is done from the team's queues (one lead or a selection); the panel links there.
    if not set(actions) - {"reassign"}:
        if "reassign" not in actions or lead.owner_id is None:
            return None
        html = render_to_string("handoff/partials/_reassign_link.html", {"lead": lead}, request=request)
        return (LEAD_PANEL_ORDER, html)
    form = getattr(request, "handoff_form", None) or {}
    context = {
        "lead": lead,
        "actions": actions,
        "reasons": list(selectors.rejection_reasons()) if {"reject", "return"} & set(actions) else [],
        "activity_kinds": Activity.Kind.choices,
        "outcomes": ACTIVITY_OUTCOMES,
        "opportunity_stages": Opportunity.Stage.choices,
        "opportunity": lead.opportunities.order_by("-created_at", "-pk").first() if "opportunity" in actions else None,
        "failed_action": form.get("action", ""),
        "errors": form.get("errors", {}),
        "data": form.get("data", {}),
        "now": timezone.localtime(),
    }
    return (LEAD_PANEL_ORDER, render_to_string("handoff/partials/_actions_panel.html", context, request=request))
