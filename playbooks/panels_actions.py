"""Next-best-action's answer to the lead page: the action the rep owes the lead next and why."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone

from playbooks.models import NextAction, NextActionState, SequenceEnd

LEAD_PANEL_ORDER = 32  # just after the playbook's discovery-call panel (30)


def lead_next_action_panel(sender, *, lead, user, request, **kwargs):
    """The open action (what, when, why) or, when there is none, why the sequence ended: at most two queries."""
    action = (
        NextAction.objects.filter(lead_id=lead.pk, state=NextActionState.OPEN)
        .select_related("owner")
        .order_by("due_at", "pk")
        .first()
    )
    ended = None
    if action is None:
        ended = SequenceEnd.objects.filter(lead_id=lead.pk).order_by("-at", "-pk").first()
        if ended is None:
            return None
    html = render_to_string(
        "playbooks/next_actions_panel.html",
        {"action": action, "ended": ended, "now": timezone.now(), "is_owner": action and action.owner_id == user.pk},
        request=request,
    )
    return (LEAD_PANEL_ORDER, html)
