"""One way for a page to declare who may use it: a named permission, checked on every request."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied


def require_perm(*perms: str):
    """Anonymous visitors go to the login page; signed-in users without any of `perms` get 403.

    With no permission named, any signed-in user may use the page (the home page, which adapts to the role).
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if perms and not any(request.user.has_perm(perm) for perm in perms):
                raise PermissionDenied("Your role does not give access to this page.")
            return view(request, *args, **kwargs)

        wrapped.required_perms = perms
        return wrapped

    return decorator
