from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.module_loading import import_string

from leadops import roles
from leadops.notifications import notification_unread_count
from leadops.permissions import has_any_role_perm

# (label, url name, permission needed or None for every signed-in user; a tuple means any one of them)
NAVIGATION = [
    ("Home", "home", None),
    ("My queue", "handoff:queue", "leadops.work_lead_queue"),
    ("Leads", "lead_list", "leadops.view_lead"),
    ("Scoring", "scoring:version_list", ("leadops.edit_scoring_rules", "leadops.approve_scoring_rules")),
    ("Approvals", "scoring:approval_inbox", "leadops.approve_scoring_rules"),
    ("Borderline", "scoring:borderline_queue", "leadops.review_borderline"),
    ("Routing", "routing:capacity", ("leadops.configure_territories", "leadops.view_team_leads")),
    ("Inbox", "handoff:inbox", "leadops.log_discovery_call"),
    ("Team queues", "handoff:team_queues", ("leadops.view_team_leads", "leadops.configure_territories")),
    ("Rejections", "handoff:rejections", ("leadops.view_all_leads", "leadops.view_team_leads")),
    ("Actions", "playbooks:actions", "leadops.work_lead_queue"),
    ("Coaching", "playbooks:coaching", ("leadops.log_discovery_call", "leadops.view_team_leads")),
    ("My clocks", "sla:my_clocks", "leadops.work_lead_queue"),
    ("Service levels", "sla:team_board", ("leadops.view_team_leads", "leadops.configure_territories")),
    ("Import", "lead_import", "leadops.import_leads"),
    ("Audit log", "audit_log", "leadops.view_audit_log"),
]

# A count shown in a badge next to an item, kept fresh by htmx polling an endpoint every 30 s: (label, url name of
# the item) -> (dotted path of a function user -> int, url name of the endpoint that answers the number, what the
# number counts, for screen readers). The function is imported when a page shows the navigation, so the core does not
# import the feature app that answers.
NAVIGATION_BADGES = {
    ("My queue", "handoff:queue"): (
        "handoff.selectors_queue.queue_open_count",
        "handoff:queue_count",
        "leads in your queue",
    ),
}


def _badge(label, name, user):
    badge = NAVIGATION_BADGES.get((label, name))
    if badge is None:
        return {}
    count, url, words = badge
    # Counted (one COUNT) only when a template shows the navigation, not for every htmx fragment.
    return {
        "badge": SimpleLazyObject(lambda: import_string(count)(user=user)),
        "badge_url": reverse(url),
        "badge_words": words,
    }


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    items = [
        {
            "label": label,
            "url": reverse(name),
            "active": request.resolver_match is not None and request.resolver_match.view_name == name,
            **_badge(label, name, user),
        }
        for label, name, perm in NAVIGATION
        if perm is None or has_any_role_perm(user, (perm,) if isinstance(perm, str) else perm)
    ]
    role = roles.primary_role(user)
    return {
        "nav_items": items,
        "user_role": role,
        "user_role_label": roles.ROLE_LABELS.get(role, "No role"),
        # Counted (one COUNT) only when a template shows the bell, not for every htmx fragment.
        "notification_unread_count": SimpleLazyObject(lambda: notification_unread_count(user=user)),
    }
