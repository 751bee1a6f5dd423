"""Repeated wrong passwords lock that user name out from that address for 15 minutes; nobody else is affected."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

LOCKED_OUT = "Too many failed log-ins"


def _log_in(client, username, password, address="10.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def _fail(client, username, times, address="10.0.0.1"):
    return [_log_in(client, username, "wrong-password", address) for _ in range(times)]


def _is_signed_in(client) -> bool:
    return client.get(reverse("home")).status_code == 200


def test_four_wrong_passwords_still_let_the_right_one_in(client, sdr, password):
    answers = _fail(client, sdr.username, 4)

    assert [answer.status_code for answer in answers] == [200] * 4
    assert all("Please enter a correct username and password" in answer.text for answer in answers)
    assert _log_in(client, sdr.username, password).status_code == 302
    assert _is_signed_in(client)


def test_five_wrong_passwords_lock_the_user_out_even_with_the_right_password(client, sdr, password):
    answers = _fail(client, sdr.username, 5)
    assert [answer.status_code for answer in answers] == [200, 200, 200, 200, 429]

    response = _log_in(client, sdr.username, password)

    assert response.status_code == 429
    assert LOCKED_OUT in response.text
    assert "log-ins as this user from here are paused for 15 minutes" in " ".join(response.text.split())
    assert not _is_signed_in(client)


def test_the_lockout_page_names_the_user_and_links_back_to_the_log_in_page(client, sdr):
    response = _fail(client, sdr.username, 5)[-1]

    assert response.status_code == 429
    assert f"{LOCKED_OUT} as <strong>{sdr.username}</strong>" in response.text
    assert f'href="{reverse("login")}"' in response.text


def test_another_user_from_the_same_address_is_not_affected(client, sdr, ae, password):
    _fail(client, sdr.username, 5)

    assert _log_in(client, ae.username, password).status_code == 302
    assert _is_signed_in(client)


def test_the_same_user_from_another_address_is_not_affected(client, sdr, password):
    _fail(client, sdr.username, 5, address="10.0.0.1")

    assert _log_in(client, sdr.username, password, address="10.9.9.9").status_code == 302


def test_the_lock_expires_after_15_minutes(client, sdr, password):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _fail(client, sdr.username, 5)
    with time_machine.travel(start + dt.timedelta(minutes=14), tick=False):
        assert _log_in(client, sdr.username, password).status_code == 429
    with time_machine.travel(start + dt.timedelta(minutes=15, seconds=1), tick=False):
        assert _log_in(client, sdr.username, password).status_code == 302
        assert _is_signed_in(client)


def test_trying_again_during_the_lock_does_not_extend_it(client, sdr, password):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _fail(client, sdr.username, 5)
    with time_machine.travel(start + dt.timedelta(minutes=10), tick=False):
        assert _fail(client, sdr.username, 3)[-1].status_code == 429
    with time_machine.travel(start + dt.timedelta(minutes=15, seconds=1), tick=False):
        assert _log_in(client, sdr.username, password).status_code == 302


def test_a_successful_log_in_forgets_earlier_failures(client, sdr, password):
    _fail(client, sdr.username, 4)
    assert _log_in(client, sdr.username, password).status_code == 302
    client.post(reverse("logout"))

    answers = _fail(client, sdr.username, 4)

    assert [answer.status_code for answer in answers] == [200] * 4
    assert _log_in(client, sdr.username, password).status_code == 302


def test_the_support_admin_log_in_is_locked_too(client, admin_user, password):
    admin_user.is_staff = True
    admin_user.save(update_fields=["is_staff"])
    url = reverse("admin:login")
    for _ in range(5):
        client.post(url, {"username": admin_user.username, "password": "wrong"}, REMOTE_ADDR="10.0.0.1")

    response = client.post(url, {"username": admin_user.username, "password": password}, REMOTE_ADDR="10.0.0.1")

    assert response.status_code == 429 and LOCKED_OUT in response.text


def test_force_login_in_tests_is_unaffected_by_a_lock(client, sdr):
    _fail(client, sdr.username, 5)

    client.force_login(sdr)

    assert _is_signed_in(client)
