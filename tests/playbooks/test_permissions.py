"""Who may do what with the playbooks, over the whole cast: pages and API agree (role x url x method -> status)."""

from __future__ import annotations

import pytest
import time_machine

from leadops.rules import Stage
from tests.factories import LeadFactory
from tests.playbooks import calls_world
from tests.playbooks.calls_world import CALL_AT, NOW

ROLES = ["sdr", "other_sdr", "ae", "manager", "marketer", "admin", "outsider"]
READERS = {"ae", "manager"}

playbook, sal = calls_world.playbook, calls_world.sal  # the shared fixtures


@pytest.mark.parametrize("role", ROLES)
def test_library_and_templates(client, cast, playbook, role):
    client.force_login(cast[role])
    champ = playbook["champ"].pk
    expected = 200 if role in READERS else 403
    assert client.get("/playbooks/").status_code == expected
    assert client.get(f"/playbooks/templates/{champ}/").status_code == expected
    assert client.get("/api/playbooks/templates/").status_code == expected
    assert client.get(f"/api/playbooks/templates/{champ}/").status_code == expected
    assert client.get(f"/playbooks/templates/{champ}/edit/").status_code == (200 if role == "manager" else 403)


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("role", ROLES)
def test_logging_a_call_on_the_aes_sal(client, cast, playbook, sal, role):
    client.force_login(cast[role])
    page = client.get(f"/playbooks/leads/{sal.pk}/calls/new/").status_code
    api = client.post(f"/api/playbooks/leads/{sal.pk}/calls/", {}, content_type="application/json").status_code
    listed = client.get(f"/api/playbooks/leads/{sal.pk}/calls/").status_code
    expected = {
        "ae": (200, 400, 200),  # may log (an empty body is refused field by field) and read
        "manager": (403, 403, 200),  # reads the team's calls, logs none
        "sdr": (403, 403, 403),
        "other_sdr": (403, 403, 403),
        "marketer": (403, 403, 403),
        "admin": (403, 403, 403),
        "outsider": (403, 403, 403),
    }[role]
    assert (page, api, listed) == expected


@pytest.mark.parametrize(
    ("stage", "owner", "sal_at", "status"),
    [
        (Stage.ACCEPTED, "ae", None, 403),  # not taken on as SAL yet
        (Stage.ACCEPTED, "other_ae", CALL_AT, 404),  # another AE's lead: not visible
        (Stage.ACCEPTED, None, None, 404),  # unowned: waits for an AE
        (Stage.SQL, "ae", None, 403),
        (Stage.OPPORTUNITY, "ae", CALL_AT, 200),
    ],
)
def test_only_the_owning_ae_logs_calls_on_an_sal_or_opportunity(client, ae, playbook, stage, owner, sal_at, status):
    from leadops import roles
    from tests.factories import UserFactory

    owners = {"ae": ae, "other_ae": UserFactory(username="other_ae", role=roles.AE), None: None}
    lead = LeadFactory(stage=stage, owner=owners[owner], sal_at=sal_at)
    client.force_login(ae)
    assert client.get(f"/playbooks/leads/{lead.pk}/calls/new/").status_code == status


def test_another_teams_manager_does_not_see_the_calls(client, other_sdr, sal, playbook):
    from django.contrib.auth import get_user_model

    other_manager = get_user_model().objects.get(username="other_manager")
    client.force_login(other_manager)
    assert client.get(f"/api/playbooks/leads/{sal.pk}/calls/").status_code == 404
