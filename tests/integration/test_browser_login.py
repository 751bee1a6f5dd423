"""Each role signs in through a real browser, lands on its own home page, and signs out."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# (cast fixture, screenshot name, what the role's home heading says)
ROLE_HOMES = [
    ("sdr", "sdr", "My queue"),
    ("ae", "ae", "My deals"),
    ("marketer", "marketing", "Marketing overview"),
    ("manager", "manager", "Team overview"),
    ("admin_user", "admin", "RevOps console"),
]


def log_in(page, username: str, password: str) -> None:
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.get_by_role("button", name="Log in").click()


@pytest.mark.parametrize(("user_fixture", "role", "heading"), ROLE_HOMES, ids=[role for _, role, _ in ROLE_HOMES])
def test_role_logs_in_to_its_home_page_and_out(request, live_server, page, password, user_fixture, role, heading):
    user = request.getfixturevalue(user_fixture)

    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
    log_in(page, user.username, password)

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_test_id("home-heading")).to_contain_text(heading)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{role}-home.png", full_page=True)

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login/$"))
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))


def test_wrong_password_shows_the_error_and_stays_on_the_login_page(live_server, page, sdr):
    page.goto(f"{live_server.url}/login/")

    log_in(page, sdr.username, "not-the-password")

    expect(page.get_by_text("Please enter a correct username and password")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.get_by_test_id("home-heading")).to_have_count(0)
