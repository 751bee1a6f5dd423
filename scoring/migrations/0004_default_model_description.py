"""The default model's description speaks to the people who read it on the scoring page."""

from django.db import migrations

OLD = "Fit, engagement, intent and buying signals (DESIGN.md section 2)."
NEW = "Fit, engagement, intent and buying signals, with weights and thresholds from B2B lead-scoring research."


def describe_for_users(apps, schema_editor):
    apps.get_model("scoring", "ScoringModel").objects.filter(name="Default", description=OLD).update(description=NEW)


def back(apps, schema_editor):
    apps.get_model("scoring", "ScoringModel").objects.filter(name="Default", description=NEW).update(description=OLD)


class Migration(migrations.Migration):
    dependencies = [("scoring", "0003_pending_rescore")]

    operations = [migrations.RunPython(describe_for_users, back)]
