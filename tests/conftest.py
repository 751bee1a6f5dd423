"""The cast every test can call on: two SDRs, an AE, a manager of their team, a marketer, an admin, an outsider."""

import os

import pytest

from leadops import roles
from tests.factories import PASSWORD, RepProfileFactory, TeamFactory, UserFactory

# Playwright's sync API runs an event loop in the test thread; the ORM calls of live_server tests are still safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def manager(db):
    return UserFactory(username="manager", role=roles.MANAGER)


@pytest.fixture
def team(db, manager):
    return TeamFactory(name="EMEA Mid-Market", region="EMEA", manager=manager)


def _rep(username, role, team, manager):
    user = UserFactory(username=username, role=role)
    RepProfileFactory(user=user, team=team, manager=manager)
    return user


@pytest.fixture
def sdr(db, team, manager):
    return _rep("sdr", roles.SDR, team, manager)


@pytest.fixture
def other_sdr(db):
    other_manager = UserFactory(username="other_manager", role=roles.MANAGER)
    other_team = TeamFactory(name="APAC", region="APAC", manager=other_manager)
    return _rep("other_sdr", roles.SDR, other_team, other_manager)


@pytest.fixture
def ae(db, team, manager):
    return _rep("ae", roles.AE, team, manager)


@pytest.fixture
def marketer(db):
    return UserFactory(username="marketer", role=roles.MARKETING)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="revops", role=roles.ADMIN)


@pytest.fixture
def outsider(db):
    """Signed in, but with no LeadOps role."""
    return UserFactory(username="outsider")


@pytest.fixture
def cast(sdr, other_sdr, ae, manager, marketer, admin_user, outsider):
    return {
        "sdr": sdr,
        "other_sdr": other_sdr,
        "ae": ae,
        "manager": manager,
        "marketer": marketer,
        "admin": admin_user,
        "outsider": outsider,
    }
