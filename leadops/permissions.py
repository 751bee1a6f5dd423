"""Who may do what in LeadOps: the one permission check, and the decorator pages declare their needs with.

LeadOps asks `has_role_perm(user, "leadops.approve_scoring_rules")`, never `user.has_perm(...)`: Django's has_perm
answers yes to every superuser for every permission, so a support admin (a superuser, to run Django's admin site)
would also edit scoring rules, approve them and decide borderline leads, which the role table gives to no admin.
Here a permission counts only when one of the person's roles (groups) holds it, or it was given to the person
explicitly. The superuser flag still opens Django's admin site (/admin/), which checks it itself.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.models import Permission
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Q

_CACHE = "_leadops_role_perms"


def role_perms(user) -> frozenset[str]:
    """The "app_label.codename" permissions the person's groups and own grants hold; none for the inactive or
    anonymous. Read once per user object (one query), like Django's own permission cache."""
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, _CACHE, None)
    if cached is None:
        rows = (
            Permission.objects.filter(Q(group__user=user) | Q(user=user))
            .values_list("content_type__app_label", "codename")
            .distinct()
        )
        cached = frozenset(f"{app_label}.{codename}" for app_label, codename in rows)
        setattr(user, _CACHE, cached)
    return cached


def has_role_perm(user, perm: str) -> bool:
    """Whether the person's roles (or their own explicit permissions) allow `perm`; is_superuser counts for nothing."""
    return perm in role_perms(user)


def has_any_role_perm(user, perms) -> bool:
    return any(has_role_perm(user, perm) for perm in perms)


def require_perm(*perms: str):
    """Anonymous visitors go to the login page; signed-in users without any of `perms` get 403.

    With no permission named, any signed-in user may use the page (the home page, which adapts to the role).
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if perms and not has_any_role_perm(request.user, perms):
                raise PermissionDenied("Your role does not give access to this page.")
            return view(request, *args, **kwargs)

        wrapped.required_perms = perms
        return wrapped

    return decorator
