"""The five roles of LeadOps as auth groups with named permissions.

The groups are created by migration leadops.0002_roles from a frozen copy of ROLE_PERMISSIONS; when you change the
table here, add a migration that changes the groups the same way.
"""

from __future__ import annotations

SDR = "SDR"
AE = "AE"
MARKETING = "Marketing"
MANAGER = "Manager"
ADMIN = "Admin"

# Home page and navigation go by the first role a person has in this order.
ROLE_ORDER = [ADMIN, MANAGER, MARKETING, AE, SDR]

ROLE_LABELS = {
    SDR: "SDR / BDR",
    AE: "Account executive",
    MARKETING: "Marketing ops",
    MANAGER: "Sales manager",
    ADMIN: "Admin / RevOps",
}

ROLE_PERMISSIONS: dict[str, list[str]] = {
    SDR: ["work_lead_queue", "accept_sql", "view_lead"],
    AE: ["work_lead_queue", "accept_sql", "log_discovery_call", "view_lead"],
    MARKETING: [
        "edit_scoring_rules",
        "view_all_leads",
        "view_scorecards",
        "view_lead",
        "import_leads",
        "ingest_events",
    ],
    MANAGER: [
        "approve_scoring_rules",
        "view_team_leads",
        "review_borderline",
        "view_scorecards",
        "view_lead",
    ],
    ADMIN: [
        "configure_territories",
        "import_leads",
        "view_audit_log",
        "view_all_leads",
        "view_scorecards",
        "view_lead",
        "ingest_events",
    ],
}


def roles_of(user) -> list[str]:
    if not user.is_authenticated:
        return []
    names = {group.name for group in user.groups.all()}
    return [role for role in ROLE_ORDER if role in names]


def primary_role(user) -> str | None:
    roles = roles_of(user)
    return roles[0] if roles else None
