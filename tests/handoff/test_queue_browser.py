"""The queue's keys in a real browser (Debian's headless Chromium): j / k move, x selects, r opens the reject dialog
(focus inside it, Tab kept inside), a asks before accepting, keys do nothing while typing, ? shows the help; and the
lead page's a / r / l / ? act on its actions panel."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect

from leadops.models import Lead
from leadops.rules import Stage
from tests.handoff.test_queue import make_lead, queued

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = os.environ.get("LEADOPS_CHROMIUM", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.access(CHROMIUM, os.X_OK):
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is missing (CI=true: not skipped)", pytrace=False)
        pytest.skip(f"{CHROMIUM} is missing; install Debian's chromium package or set LEADOPS_CHROMIUM")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": ["--no-sandbox", "--disable-gpu"]}


@pytest.fixture
def signed_in(live_server, page, password):
    def sign_in(user, path):
        page.set_viewport_size({"width": 1366, "height": 768})
        page.goto(f"{live_server.url}/login/?next={path}")
        page.locator("input[name=username]").fill(user.username)
        page.locator("input[name=password]").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{live_server.url}{path}")
        return page

    return sign_in


@pytest.fixture
def world(sdr, germany, reasons):
    first = make_lead("Ada First", owner=sdr, temperature="hot", score=90)
    second = make_lead("Ben Second", owner=sdr, temperature="warm", score=70, stage=Stage.MQL)
    waiting = queued(make_lead("Cy Waiting", temperature="cold", score=40), germany)
    return first, second, waiting


def current(page):
    return page.locator("tr.queue-current").get_attribute("data-name")


def test_keys_move_select_and_open_dialogs_on_the_queue(signed_in, sdr, world):
    first, second, _ = world
    page = signed_in(sdr, "/work/queue/")
    expect(page.locator("tr.queue-current")).to_have_attribute("data-name", "Ada First")
    page.keyboard.press("j")
    assert current(page) == "Ben Second"
    page.keyboard.press("j")
    page.keyboard.press("j")  # the last row stays the current one
    assert current(page) == "Cy Waiting"
    page.keyboard.press("k")
    page.keyboard.press("k")
    assert current(page) == "Ada First"

    page.keyboard.press("x")
    expect(page.locator("[data-queue-selected]")).to_have_text("1 lead selected")
    expect(page.get_by_role("button", name="Reject selected…")).to_be_enabled()

    # r opens the reject dialog for the current lead, focus inside, Tab kept inside, Esc gives focus back.
    page.keyboard.press("r")
    dialog = page.locator("#reject-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-row-name]")).to_have_text("Ada First")
    expect(page.locator("#row-reject-reason")).to_be_focused()
    for _ in range(8):
        page.keyboard.press("Tab")
        assert page.evaluate("document.getElementById('reject-dialog').contains(document.activeElement)")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # On an MQL, a says why not instead of accepting.
    page.keyboard.press("j")
    page.keyboard.press("a")
    expect(page.locator("[data-queue-toast]")).to_have_text(
        "Only an SQL can be accepted or rejected; this lead is MQL."
    )
    expect(page.locator("#accept-dialog")).to_be_hidden()

    page.keyboard.press("?")
    expect(page.locator("#keys-help")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#keys-help")).to_be_hidden()

    # Typing in the search never fires a key: every letter lands in the field, nothing moves or is selected.
    page.keyboard.press("/")
    expect(page.locator("#queue-q")).to_be_focused()
    page.keyboard.type("jkxra")
    expect(page.locator("#queue-q")).to_have_value("jkxra")
    assert current(page) == "Ben Second"
    expect(page.locator("[data-queue-selected]")).to_have_text("1 lead selected")
    expect(page.locator("#reject-dialog")).to_be_hidden()


def test_accept_by_key_asks_then_hands_over_and_comes_back_to_the_queue(signed_in, sdr, world):
    first, _, _ = world
    page = signed_in(sdr, "/work/queue/?temperature=hot")
    page.keyboard.press("a")
    expect(page.locator("#accept-dialog")).to_be_visible()
    expect(page.locator("#accept-dialog").get_by_role("button", name="Accept and hand to an AE")).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url("**/work/queue/?temperature=hot")
    expect(page.get_by_role("alert").first).to_contain_text("Accepted and handed to an AE.")
    assert Lead.objects.get(pk=first.pk).stage == Stage.ACCEPTED


def test_claim_by_key(signed_in, sdr, world):
    _, _, waiting = world
    page = signed_in(sdr, "/work/queue/?owner=none")
    page.keyboard.press("c")
    page.wait_for_url("**/work/queue/?owner=none")
    expect(page.get_by_role("alert").first).to_contain_text("Cy Waiting is yours now.")
    assert Lead.objects.get(pk=waiting.pk).owner == sdr


def test_the_lead_pages_keys_act_on_its_actions_panel(signed_in, sdr, world):
    first, _, _ = world
    page = signed_in(sdr, f"/leads/{first.pk}/")
    page.keyboard.press("r")
    expect(page.locator("#reject-form")).to_be_visible()
    expect(page.locator("#reject-reason")).to_be_focused()
    page.locator("#reject-reason").press("l")  # in a field: no key fires
    expect(page.locator("#reject-reason")).to_be_focused()
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("l")
    expect(page.locator("#activity-kind")).to_be_focused()
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("?")
    expect(page.locator("#keys-help")).to_be_visible()
    page.keyboard.press("Escape")
    page.once("dialog", lambda dialog: dialog.accept())
    page.keyboard.press("a")
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("alert").first).to_contain_text("Accepted and handed to an AE.")
    assert Lead.objects.get(pk=first.pk).stage == Stage.ACCEPTED


def test_filters_and_sorting_swap_the_results_and_keep_the_address_shareable(signed_in, live_server, sdr, world):
    page = signed_in(sdr, "/work/queue/")
    expect(page.locator("[data-testid=queue-row]")).to_have_count(3)
    page.locator("#queue-temperature").select_option("hot")
    expect(page.locator("[data-testid=queue-row]")).to_have_count(1)
    expect(page).to_have_url(f"{live_server.url}/work/queue/?temperature=hot")
    expect(page.locator("tr.queue-current")).to_have_attribute("data-name", "Ada First")
    page.locator("#queue-temperature").select_option("")
    expect(page.locator("[data-testid=queue-row]")).to_have_count(3)
    page.get_by_role("link", name="Score").click()
    expect(page).to_have_url(re.compile(r"sort=score"))
    expect(page.locator("[data-testid=queue-row]").first).to_have_attribute("data-name", "Ada First")
    page.get_by_role("link", name="Score").click()
    expect(page).to_have_url(re.compile(r"sort=-score"))
    expect(page.locator("[data-testid=queue-row]").first).to_have_attribute("data-name", "Cy Waiting")
    page.locator("#queue-stage").select_option("sql")
    expect(page).to_have_url(f"{live_server.url}/work/queue/?stage=sql&sort=-score")
    expect(page.locator("[data-testid=queue-row]")).to_have_count(2)


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
