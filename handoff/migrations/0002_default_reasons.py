"""The playbook's rejection reasons (DESIGN.md): admins edit the list afterwards."""

from django.db import migrations

# code, label, disqualifies
DEFAULT_REASONS = [
    ("no_budget", "No budget", False),
    ("no_authority", "No authority", False),
    ("no_need", "No need", False),
    ("bad_timing", "Bad timing", False),
    ("not_icp", "Not ICP", False),
    ("bad_data", "Bad data / duplicate", True),
    ("student_competitor", "Student or competitor", True),
    ("unresponsive", "Unresponsive", False),
]


def add_reasons(apps, schema_editor):
    RejectionReason = apps.get_model("handoff", "RejectionReason")
    for order, (code, label, disqualifies) in enumerate(DEFAULT_REASONS, start=1):
        RejectionReason.objects.update_or_create(
            code=code, defaults={"label": label, "disqualifies": disqualifies, "order": order}
        )


def remove_reasons(apps, schema_editor):
    apps.get_model("handoff", "RejectionReason").objects.filter(code__in=[c for c, _, _ in DEFAULT_REASONS]).delete()


class Migration(migrations.Migration):
    dependencies = [("handoff", "0001_initial")]
    operations = [migrations.RunPython(add_reasons, remove_reasons)]
