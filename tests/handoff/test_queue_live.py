"""The queue refreshes itself: a lead routed to the SDR while the page is open appears without a reload, but never
while the rep has rows ticked."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.handoff.test_queue import make_lead
from tests.handoff.test_queue_browser import browser_type_launch_args, signed_in, world  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_new_lead_appears_without_a_reload_unless_rows_are_ticked(page, signed_in, sdr, world):
    page.clock.install()  # before the page schedules its polling, so the test can move time on
    signed_in(sdr, "/work/queue/")
    expect(page.get_by_test_id("queue-total")).to_have_text("3 leads", timeout=10_000)

    refreshes = []
    page.on("request", lambda request: request.headers.get("hx-request") and refreshes.append(request.url))

    # Ticking a row holds the refresh: the rep's selection is never swapped away.
    page.locator("#queue-table tbody tr").first.locator("input[type=checkbox]").check()
    make_lead("Dora New", owner=sdr, temperature="hot", score=95)
    page.clock.run_for(61_000)
    page.wait_for_timeout(500)  # a request the timers sent would have been seen by now
    assert [url for url in refreshes if "/work/queue/" in url and "count" not in url] == []
    expect(page.get_by_test_id("queue-total")).to_have_text("3 leads")

    page.locator("#queue-table tbody tr").first.locator("input[type=checkbox]").uncheck()
    page.evaluate("document.activeElement.blur()")  # leave the checkbox (a field of the bulk form)
    page.clock.run_for(31_000)
    expect(page.get_by_test_id("queue-total")).to_have_text("4 leads", timeout=10_000)
    expect(page.locator("#queue-table tbody tr[data-name='Dora New']")).to_have_count(1)
