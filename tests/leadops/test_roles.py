import pytest
from django.contrib.auth.models import Group, Permission

from leadops import roles
from leadops.permissions import has_role_perm
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def test_migrations_create_the_groups_with_the_permissions_roles_py_declares():
    for role, codenames in roles.ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        assert sorted(group.permissions.values_list("codename", flat=True)) == sorted(codenames), role


@pytest.mark.parametrize("superuser", [False, True], ids=["member", "superuser-member"])
@pytest.mark.parametrize("role", list(roles.ROLE_PERMISSIONS))
def test_a_role_grants_exactly_the_permissions_of_the_role_table(role, superuser):
    """A superuser in a role may do what the role may do, and nothing more (the flag opens the support admin)."""
    every = {
        f"leadops.{codename}"
        for codename in Permission.objects.filter(content_type__app_label="leadops").values_list("codename", flat=True)
    }
    user = UserFactory(role=role, is_superuser=superuser, is_staff=superuser)
    granted = {perm for perm in every if has_role_perm(user, perm)}
    assert granted == {f"leadops.{codename}" for codename in roles.ROLE_PERMISSIONS[role]}


def test_only_managers_approve_scoring_changes():
    assert [role for role, perms in roles.ROLE_PERMISSIONS.items() if "approve_scoring_rules" in perms] == [
        roles.MANAGER
    ]
