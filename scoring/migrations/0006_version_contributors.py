"""Everyone who changed a version is recorded as its contributor; none of them may approve or reject it.

Versions from before this migration get their author as contributor (who else changed them is not recorded; the
audit log still tells, and the author was the only one the approval checked until now).
"""

from django.conf import settings
from django.db import migrations, models


def authors_contribute(apps, schema_editor):
    Version = apps.get_model("scoring", "ScoringModelVersion")
    Contribution = Version.contributors.through
    Contribution.objects.bulk_create(
        [
            Contribution(scoringmodelversion_id=version_id, user_id=author_id)
            for version_id, author_id in Version.objects.filter(author__isnull=False).values_list("pk", "author_id")
        ],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0005_fast_track"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="scoringmodelversion",
            name="contributors",
            field=models.ManyToManyField(blank=True, related_name="+", to=settings.AUTH_USER_MODEL),
        ),
        migrations.RunPython(authors_contribute, migrations.RunPython.noop),
    ]
