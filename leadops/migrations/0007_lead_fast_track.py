"""Leads remember the fast-track rule of their last score and when a hand-raiser signal made them an SQL."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('leadops', '0006_score_version_unindexed'),
    ]

    operations = [
        migrations.AddField(
            model_name='lead',
            name='fast_tracked_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='lead',
            name='score_fast_track',
            field=models.CharField(blank=True, max_length=120),
        ),
    ]
