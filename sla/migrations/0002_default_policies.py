"""The playbook's service levels as editable policies (DESIGN.md section 4)."""

from datetime import timedelta

from django.db import migrations

NOTIFY = [{"at": 1, "action": "notify_owner"}, {"at": 1, "action": "notify_manager"}]
REASSIGN_AT_TWICE = [*NOTIFY, {"at": 2, "action": "reassign"}]

# In business time the target counts the calendar's working time: a business day of 09:00-17:00 is 8 hours.
DEFAULT_POLICIES = [
    # key, name, starts_on, stops_on, target, business_time, temperature, hand_raiser, ladder
    ("contact-hot", "Time to contact, hot lead", "assigned", "first_activity", timedelta(minutes=5), False, "hot",
     False, REASSIGN_AT_TWICE),
    ("contact-warm", "Time to contact, warm lead", "assigned", "first_activity", timedelta(minutes=15), False, "warm",
     False, REASSIGN_AT_TWICE),
    ("contact-cold", "Time to contact, cold lead", "assigned", "first_activity", timedelta(hours=24), False, "cold",
     False, REASSIGN_AT_TWICE),
    ("hand-raiser-follow-up", "Hand-raiser follow-up", "assigned", "first_activity", timedelta(hours=4), False, "",
     True, REASSIGN_AT_TWICE),
    ("sdr-accept-reject", "SDR accept / reject (2 business days)", "sql_assigned", "accepted_or_rejected",
     timedelta(hours=16), True, "", False, [*NOTIFY, {"at": 1, "action": "auto_accept"}]),
    ("ae-review", "AE review of an accepted lead (1 business day)", "accepted", "ae_reviewed", timedelta(hours=8),
     True, "", False, NOTIFY),
    ("rejection-rationale", "Rejection rationale", "rejected", "rationale_given", timedelta(hours=48), False, "",
     False, NOTIFY),
    ("dispute-resolution", "Dispute resolution", "dispute_opened", "dispute_resolved", timedelta(hours=48), False, "",
     False, NOTIFY),
]


def install(apps, schema_editor):
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    for order, (key, name, starts, stops, target, business, temperature, hand_raiser, ladder) in enumerate(
        DEFAULT_POLICIES, start=1
    ):
        SlaPolicy.objects.get_or_create(
            key=key,
            defaults={
                "name": name,
                "starts_on": starts,
                "stops_on": stops,
                "target": target,
                "business_time": business,
                "temperature": temperature,
                "hand_raiser": hand_raiser,
                "ladder": ladder,
                "order": order,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
