"""The cast every test can call on: two SDRs, an AE, a manager of their team, a marketer, an admin, an outsider."""

import importlib
import os

import pytest
from django.db import connections

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


# --- rows the migrations create ----------------------------------------------------------------------------------
#
# Django empties every table after a transactional test (live server, worker processes, real concurrency), which
# also removes what the data migrations made: the role groups, the default scoring model, the SLA policies and the
# rejection reasons. They are put back after each such test, so the next test in the same process finds the
# database as migrate left it.

_RESTORE_AFTER = pytest.StashKey[object]()


def restore_migration_data() -> None:
    from django.apps import apps
    from django.contrib.auth.management import create_permissions

    create_permissions(apps.get_app_config("leadops"), verbosity=0)
    importlib.import_module("leadops.migrations.0002_roles").create_roles(apps, None)
    importlib.import_module("leadops.migrations.0005_ingest_permission").grant(apps, None)
    importlib.import_module("scoring.migrations.0002_default_model").install(apps, None)
    importlib.import_module("scoring.migrations.0004_default_model_description").describe_for_users(apps, None)
    importlib.import_module("scoring.migrations.0005_fast_track").install_fast_track(apps, None)
    importlib.import_module("sla.migrations.0002_default_policies").install(apps, None)
    importlib.import_module("handoff.migrations.0002_default_reasons").add_reasons(apps, None)


@pytest.fixture(autouse=True)
def _restore_migration_data_after_flush(request, django_db_blocker):
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or any(
        name in request.fixturenames for name in ("transactional_db", "live_server")
    )
    if transactional:
        request.node.stash[_RESTORE_AFTER] = django_db_blocker


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    # pytest-django flushes the tables when the test's fixtures are torn down; this runs after that.
    try:
        return (yield)
    finally:
        blocker = item.stash.get(_RESTORE_AFTER, None)
        if blocker is not None and nextitem is not None:
            with blocker.unblock():
                try:
                    restore_migration_data()
                finally:
                    # A connection left open here would keep the test database from being dropped at the end.
                    connections["default"].close()
