from django.urls import reverse

from leadops import roles

# (label, url name, permission needed or None for every signed-in user)
NAVIGATION = [
    ("Home", "home", None),
    ("Leads", "lead_list", "leadops.view_lead"),
    ("Import", "lead_import", "leadops.import_leads"),
    ("Audit log", "audit_log", "leadops.view_audit_log"),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    items = [
        {
            "label": label,
            "url": reverse(name),
            "active": request.resolver_match is not None and request.resolver_match.url_name == name,
        }
        for label, name, perm in NAVIGATION
        if perm is None or user.has_perm(perm)
    ]
    role = roles.primary_role(user)
    return {"nav_items": items, "user_role": role, "user_role_label": roles.ROLE_LABELS.get(role, "No role")}
