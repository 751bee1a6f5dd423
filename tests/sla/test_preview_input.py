"""The policies page's due-time preview answers every input with a page, never a server error."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

ONE_MINUTE_A_WEEK = {"time_zone": "UTC", "weekly_hours": {"mon": [["09:00", "09:01"]]}}
OFFICE = {"time_zone": "UTC", "weekly_hours": {"mon": [["09:00", "17:00"]]}}


def preview(client, admin_user, calendar, start, minutes):
    client.force_login(admin_user)
    return client.get(
        reverse("sla:policy_list"), {"calendar": json.dumps(calendar), "start": start, "minutes": minutes}
    )


def test_a_due_time_beyond_what_the_calendar_can_reach_is_a_form_error(client, admin_user, policies):
    response = preview(client, admin_user, ONE_MINUTE_A_WEEK, "2026-03-27 13:00", 60 * 24 * 365)
    assert response.status_code == 200
    assert response.context["preview"] is None
    assert response.context["form"].errors["minutes"]


def test_a_due_time_past_the_year_9999_is_a_form_error(client, admin_user, policies):
    response = preview(client, admin_user, OFFICE, "9999-12-27 13:00", 60 * 24 * 365)
    assert response.status_code == 200
    assert response.context["preview"] is None
    assert response.context["form"].errors["minutes"]
