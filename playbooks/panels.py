"""The playbooks' answer to the lead page's panel signal: the last discovery call's outcome and, for the lead's AE,
the link to log one. Two queries at most (the last call with its template and AE; the person's permissions are
cached on the user)."""

from __future__ import annotations

from django.template.loader import render_to_string

from leadops.rules import Stage
from playbooks import selectors

LEAD_PANEL_ORDER = 20  # after the actions panel (5)
DISCOVERY_STAGES = (Stage.ACCEPTED, Stage.OPPORTUNITY, Stage.WON, Stage.LOST, Stage.NURTURE, Stage.REJECTED)


def lead_playbook_panel(sender, *, lead, user, request, **kwargs):
    if not selectors.can_read(user) or lead.stage not in DISCOVERY_STAGES:
        return None
    can_log = selectors.call_refusal(user=user, lead=lead) is None
    last_call = selectors.last_call(lead=lead)
    if last_call is None and not can_log:
        return None
    context = {"lead": lead, "last_call": last_call, "can_log": can_log}
    return (LEAD_PANEL_ORDER, render_to_string("playbooks/partials/_lead_panel.html", context, request=request))
