"""Fast-track (hand-raiser) rules: a new kind of rule and the fit floor a hand-raiser must reach."""

from django.db import migrations, models

# The playbook's hand-raisers (DESIGN.md section 2): "Demo Request: MQL none, SQL yes; SDR follow-up in 4 hours".
FAST_TRACK_RULES = [
    dict(key="ft-demo-request", name="Demo request", kind="fast_track", event_kind="demo_request", within_days=30),
    dict(key="ft-contact-sales", name="Contact-sales form", kind="fast_track", event_kind="form_submitted",
         property_name="form", property_value="contact", within_days=30),
    dict(key="ft-rfp", name="RFP submitted", kind="fast_track", event_kind="rfp_submitted", within_days=30),
]
COPIED = ["weight_fit", "weight_engagement", "weight_intent", "weight_buying", "mql_cutoff", "sql_cutoff_smb",
          "sql_cutoff_mid_market", "sql_cutoff_enterprise", "hot_above", "warm_from", "borderline_band"]
RULE_COPIED = ["key", "name", "kind", "pillar", "points", "field", "operator", "value", "event_kind",
               "property_name", "property_value", "cap", "half_life_days", "min_count", "min_surge", "topics",
               "within_days", "days", "position"]


def install_fast_track(apps, schema_editor):
    """A fresh install gets the hand-raiser rules in its shipped version; an install whose model has moved on gets
    them as a draft, which marketing submits and a manager approves like any change."""
    Version = apps.get_model("scoring", "ScoringModelVersion")
    Rule = apps.get_model("scoring", "ScoringRule")
    versions = Version.objects.filter(model__name="Default")
    shipped = versions.filter(number=1, status="active").first()
    if shipped is not None and versions.count() == 1:
        target = shipped
    else:
        active = versions.filter(status="active").first()
        if active is None or Rule.objects.filter(version__model=active.model, kind="fast_track").exists():
            return
        number = max(v.number for v in versions) + 1
        target = Version.objects.create(
            model=active.model, number=number, status="draft", based_on=active,
            change_note="Fast-track hand-raisers (demo request, contact-sales form, RFP) to SQL when their fit "
                        "reaches 40.",
            **{name: getattr(active, name) for name in COPIED},
        )
        Rule.objects.bulk_create([Rule(version=target, **{f: getattr(r, f) for f in RULE_COPIED})
                                  for r in Rule.objects.filter(version=active)])
    if Rule.objects.filter(version=target, kind="fast_track").exists():
        return
    last = max((r.position for r in Rule.objects.filter(version=target)), default=0)
    Rule.objects.bulk_create([Rule(version=target, position=last + i, **rule)
                              for i, rule in enumerate(FAST_TRACK_RULES, start=1)])


def remove_fast_track(apps, schema_editor):
    apps.get_model("scoring", "ScoringRule").objects.filter(kind="fast_track").delete()


class Migration(migrations.Migration):

    dependencies = [
        ('scoring', '0004_default_model_description'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='scoringrule',
            name='scoring_rule_kind_valid',
        ),
        migrations.AddField(
            model_name='scoringmodelversion',
            name='fast_track_fit_floor',
            field=models.PositiveSmallIntegerField(default=40),
        ),
        migrations.AlterField(
            model_name='scoringrule',
            name='kind',
            field=models.CharField(choices=[('attribute', 'Attribute (lead or account field)'), ('behaviour', 'Behaviour (events)'), ('intent', 'Intent signal'), ('inactivity', 'Inactivity'), ('disqualify', 'Disqualify'), ('fast_track', 'Fast-track to SQL (hand-raiser)')], max_length=20),
        ),
        migrations.AddConstraint(
            model_name='scoringrule',
            constraint=models.CheckConstraint(condition=models.Q(('kind__in', ['attribute', 'behaviour', 'intent', 'inactivity', 'disqualify', 'fast_track'])), name='scoring_rule_kind_valid'),
        ),
        migrations.RunPython(install_fast_track, remove_fast_track),
    ]
