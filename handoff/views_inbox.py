"""The AE's handoff inbox: accepted leads waiting for my review (soonest due first), my SALs, my open opportunities.
The buttons post to the lead actions in handoff.views, which come back here (`next`)."""

from __future__ import annotations

from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from handoff import selectors_team
from handoff.selectors import rejection_reasons
from leadops.permissions import require_perm

INBOX_LIMIT = 200  # per list; an AE with more has a backlog the page says so about


@require_perm("leadops.log_discovery_call")
def inbox(request):
    user = request.user
    waiting = list(selectors_team.inbox_waiting(user=user)[: INBOX_LIMIT + 1])
    sals = list(selectors_team.inbox_sals(user=user)[: INBOX_LIMIT + 1])
    opportunities = list(selectors_team.inbox_opportunities(user=user)[: INBOX_LIMIT + 1])
    for lead in waiting:
        lead.review_clock = lead.review_clocks[0] if lead.review_clocks else None
        lead.allowed = selectors_team.inbox_allowed(user=user, lead=lead)
    can_return = any("return" in lead.allowed for lead in waiting[:INBOX_LIMIT])
    return render(
        request,
        "handoff/inbox.html",
        {
            "waiting": waiting[:INBOX_LIMIT],
            "waiting_more": len(waiting) > INBOX_LIMIT,
            "sals": sals[:INBOX_LIMIT],
            "sals_more": len(sals) > INBOX_LIMIT,
            "opportunities": opportunities[:INBOX_LIMIT],
            "opportunities_more": len(opportunities) > INBOX_LIMIT,
            "reasons": list(rejection_reasons()) if can_return else [],
            "limit": INBOX_LIMIT,
            "now": timezone.now(),
            "here": reverse("handoff:inbox"),
        },
    )
