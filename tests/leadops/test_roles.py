import pytest
from django.contrib.auth.models import Group

from leadops import roles

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def test_migrations_create_the_groups_with_the_permissions_roles_py_declares():
    for role, codenames in roles.ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        assert sorted(group.permissions.values_list("codename", flat=True)) == sorted(codenames), role
