"""Panels that feature apps add to the core's pages, without the core importing them (pretix's `order_info`).

The lead page sends `lead_panels` with the lead (already checked to be visible), the user and the request. A
receiver answers with `(order, html)` (lower order shown first) or None to show nothing. Render the html from the
app's own template (render_to_string gives a SafeString; a plain str is escaped). Keep each answer cheap: one or
two queries, pinned in the app's tests.
"""

from __future__ import annotations

from django.dispatch import Signal

lead_panels = Signal()


def lead_panels_render(*, lead, user, request) -> list[str]:
    responses = lead_panels.send(sender=type(lead), lead=lead, user=user, request=request)
    answers = [answer for _receiver, answer in responses if answer]
    return [html for _order, html in sorted(answers, key=lambda answer: answer[0])]
