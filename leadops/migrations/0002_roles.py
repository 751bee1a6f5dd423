"""Create the five role groups with their named permissions (a frozen copy of leadops.roles at this point)."""

from django.db import migrations

ROLE_PERMISSIONS = {
    "SDR": ["work_lead_queue", "accept_sql", "view_lead"],
    "AE": ["work_lead_queue", "accept_sql", "log_discovery_call", "view_lead"],
    "Marketing": ["edit_scoring_rules", "view_all_leads", "view_scorecards", "view_lead", "import_leads"],
    "Manager": ["approve_scoring_rules", "view_team_leads", "review_borderline", "view_scorecards", "view_lead"],
    "Admin": ["configure_territories", "import_leads", "view_audit_log", "view_all_leads", "view_scorecards",
              "view_lead"],
}

PERMISSION_NAMES = {
    "work_lead_queue": "Can work a lead queue and log activities",
    "accept_sql": "Can accept or reject SQLs",
    "log_discovery_call": "Can log discovery calls",
    "edit_scoring_rules": "Can edit scoring rules and submit them for approval",
    "approve_scoring_rules": "Can approve or reject scoring rule changes",
    "view_team_leads": "Can see the leads of the teams one manages",
    "view_all_leads": "Can see every lead",
    "review_borderline": "Can review borderline leads and disputes",
    "view_scorecards": "Can read governance scorecards",
    "configure_territories": "Can configure territories, reps, capacities and SLA policies",
    "import_leads": "Can import leads from CSV",
    "view_audit_log": "Can read the audit log",
    "view_lead": "Can view lead",
}


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    # Permissions are normally created after migrate; create them now so the groups can hold them.
    lead_type, _ = ContentType.objects.get_or_create(app_label="leadops", model="lead")
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        for codename in codenames:
            permission, _ = Permission.objects.get_or_create(
                content_type=lead_type, codename=codename, defaults={"name": PERMISSION_NAMES[codename]}
            )
            group.permissions.add(permission)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("leadops", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
