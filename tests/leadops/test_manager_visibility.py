"""Managers see the leads nobody owns yet that wait for their call: unowned MQLs (borderline reviews) and SQLs
(overflow and generalist queues). Other unowned leads and other teams' leads stay out of sight."""

import pytest
from django.urls import reverse

from leadops.rules import Stage
from tests.factories import LeadFactory

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


@pytest.mark.parametrize(
    ("owner", "stage", "manager_status", "other_manager_status", "sdr_status"),
    [
        (None, Stage.SQL, 200, 200, 404),  # an overflow or generalist queue lead
        (None, Stage.MQL, 200, 200, 404),  # a borderline review's lead
        (None, Stage.LEAD, 404, 404, 404),  # marketing's, not yet waiting for sales
        (None, Stage.NURTURE, 404, 404, 404),
        ("sdr", Stage.SQL, 200, 404, 200),  # the team's own work: its manager only
    ],
)
def test_managers_see_unowned_leads_waiting_for_their_call(
    client, request, owner, stage, manager_status, other_manager_status, sdr_status, other_sdr
):
    from django.contrib.auth import get_user_model

    lead = LeadFactory(stage=stage, owner=request.getfixturevalue(owner) if owner else None)
    other_manager = get_user_model().objects.get(username="other_manager")  # other_sdr's team
    url = reverse("lead_detail", args=[lead.pk])
    for user, expected in (
        (request.getfixturevalue("manager"), manager_status),
        (other_manager, other_manager_status),
        (request.getfixturevalue("sdr"), sdr_status),
    ):
        client.force_login(user)
        assert client.get(url).status_code == expected, user.username
