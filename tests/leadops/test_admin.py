"""The support admin: every model is there and every changelist opens, but nothing derived can be edited by hand.

Scores, tier, temperature, the stage and its time stamps are derived by scoring and the lifecycle service; the
owner changes through a service that records who moved the lead and why. Events, intent signals, stage
transitions and the audit log are evidence that other records are derived from: support reads them, never writes.
"""

from datetime import UTC, datetime

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from leadops.models import AuditEntry, IntentSignal, Lead, LeadEvent, StageTransition
from leadops.rules import Stage
from leadops.services import Actor, audit_log, lead_transition
from scoring.models import PendingRescore, ScoringModelVersion, VersionStatus
from tests.factories import AccountFactory, LeadEventFactory, LeadFactory, UserFactory

pytestmark = [pytest.mark.django_db]
OUR_APPS = ["leadops", "scoring"]
SCORED_AT = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
MQL_AT = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)

# What a hand-made POST tries to change, and what must stay as it was.
DERIVED_FIELDS = [
    "score_fit",
    "score_engagement",
    "score_intent",
    "score_buying",
    "score_total",
    "score_tier",
    "temperature",
    "score_version",
    "scored_at",
    "score_fast_track",
    "fast_tracked_at",
    "stage",
    "stage_changed_at",
    "lead_at",
    "mql_at",
    "sql_at",
    "assigned_at",
    "accepted_at",
    "rejected_at",
    "opportunity_at",
    "closed_at",
    "nurture_at",
    "disqualified_at",
    "first_activity_at",
    "last_activity_at",
    "owner",
]


@pytest.fixture
def active_version(db):
    return ScoringModelVersion.objects.select_related("model").get(model__name="Default", status=VersionStatus.ACTIVE)


@pytest.fixture
def support(client):
    client.force_login(UserFactory(username="support", is_staff=True, is_superuser=True))
    return client


def test_every_model_of_our_apps_is_registered():
    for app_label in OUR_APPS:
        for model in apps.get_app_config(app_label).get_models():
            assert model in admin.site._registry, model


@pytest.mark.parametrize(
    "model", [m for label in OUR_APPS for m in apps.get_app_config(label).get_models()], ids=lambda m: m._meta.label
)
def test_changelist_opens_for_support(client, model):
    LeadFactory()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    assert client.get(url).status_code == 200


# --- the lead: what is derived is shown, not edited -----------------------------------------------------------------


@pytest.fixture
def scored_lead(sdr, active_version):
    return LeadFactory(
        owner=sdr,
        stage=Stage.MQL,
        stage_changed_at=MQL_AT,
        mql_at=MQL_AT,
        score_fit=70,
        score_engagement=55,
        score_intent=40,
        score_buying=20,
        score_total=56,
        score_tier="mql",
        temperature="warm",
        score_version=active_version,
        scored_at=SCORED_AT,
    )


def _derived(lead: Lead) -> dict:
    lead.refresh_from_db()
    return {name: getattr(lead, name) for name in DERIVED_FIELDS}


def _form_data(response) -> dict:
    """What the browser would send back: every input of the change form and its inlines with its current value."""
    forms = [response.context["adminform"].form]
    data = {}
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({management.add_prefix(name): management[name].value() for name in management.fields})
        forms.extend(inline.formset.forms)
    for form in forms:
        for name, field in form.fields.items():
            key, value = form.add_prefix(name), form[name].value()
            if hasattr(field.widget, "widgets"):  # date and time as two inputs
                for i, part in enumerate(field.widget.decompress(value)):
                    data[f"{key}_{i}"] = "" if part is None else str(part)
            elif isinstance(value, bool):
                if value:
                    data[key] = "on"
            else:
                data[key] = "" if value is None else value
    return data


def test_the_lead_change_form_has_no_inputs_for_scores_stage_or_owner(support, scored_lead):
    response = support.get(reverse("admin:leadops_lead_change", args=[scored_lead.pk]))
    assert response.status_code == 200
    editable = set(response.context["adminform"].form.fields)
    assert editable & set(DERIVED_FIELDS) == set()
    assert {"first_name", "last_name", "title", "account", "email_consent"} <= editable
    page = response.content.decode()
    for name in DERIVED_FIELDS:
        assert f'name="{name}"' not in page and f'name="{name}_0"' not in page, name
    assert "SDR queue" in page  # where reassigning the owner will come from


def test_a_hand_made_post_changes_no_score_stage_or_owner(support, scored_lead, other_sdr):
    url = reverse("admin:leadops_lead_change", args=[scored_lead.pk])
    before = _derived(scored_lead)
    data = _form_data(support.get(url))
    data.update(
        {
            "title": "VP Sales",
            "score_fit": "100",
            "score_engagement": "100",
            "score_intent": "100",
            "score_buying": "100",
            "score_total": "100",
            "score_tier": "sql",
            "temperature": "hot",
            "score_version": "",
            "scored_at_0": "2026-11-28",
            "scored_at_1": "10:00:00",
            "score_fast_track": "Demo request",
            "fast_tracked_at_0": "2026-11-28",
            "fast_tracked_at_1": "10:00:00",
            "stage": Stage.SQL,
            "sql_at_0": "2026-11-28",
            "sql_at_1": "10:00:00",
            "owner": str(other_sdr.pk),
        }
    )
    response = support.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert _derived(scored_lead) == before
    assert scored_lead.title == "VP Sales"  # the form was accepted: only what is not derived changed


def test_a_lead_edited_in_the_support_admin_is_queued_for_re_scoring(support, scored_lead):
    url = reverse("admin:leadops_lead_change", args=[scored_lead.pk])
    data = {**_form_data(support.get(url)), "title": "Chief Revenue Officer"}
    assert support.post(url, data).status_code == 302
    assert PendingRescore.objects.filter(lead=scored_lead).exists()


def test_an_account_edited_in_the_support_admin_queues_its_leads_for_re_scoring(support, scored_lead):
    account = scored_lead.account
    other = LeadFactory(account=AccountFactory())
    url = reverse("admin:leadops_account_change", args=[account.pk])
    response = support.get(url)
    data = {**_form_data(response), "employees": "5000"}
    assert support.post(url, data).status_code == 302
    assert set(PendingRescore.objects.values_list("lead", flat=True)) == {scored_lead.pk}
    assert other.pk not in set(PendingRescore.objects.values_list("lead", flat=True))


def test_a_lead_or_account_saved_unchanged_in_the_support_admin_queues_nothing(
    support, scored_lead, django_capture_on_commit_callbacks
):
    lead_url = reverse("admin:leadops_lead_change", args=[scored_lead.pk])
    account_url = reverse("admin:leadops_account_change", args=[scored_lead.account.pk])
    with django_capture_on_commit_callbacks() as callbacks:
        assert support.post(lead_url, _form_data(support.get(lead_url))).status_code == 302
        assert support.post(account_url, _form_data(support.get(account_url))).status_code == 302
    assert PendingRescore.objects.count() == 0
    assert callbacks == []


def test_support_cannot_add_a_lead_by_hand(support):
    """A lead comes in through the import or the API, which queue it for scoring; stage dates are not optional."""
    assert support.get(reverse("admin:leadops_lead_add")).status_code == 403
    response = support.post(reverse("admin:leadops_lead_add"), {"email": "hand@made.example", "source": "web"})
    assert response.status_code == 403
    assert not Lead.objects.filter(email="hand@made.example").exists()


# --- evidence: view only --------------------------------------------------------------------------------------------


@pytest.fixture
def evidence(scored_lead, manager):
    lead_transition(lead=scored_lead, to=Stage.SQL, by=manager, reason="Asked for a demo")
    return {
        StageTransition: StageTransition.objects.get(lead=scored_lead),
        LeadEvent: LeadEventFactory(lead=scored_lead, occurred_at=SCORED_AT),
        IntentSignal: IntentSignal.objects.create(
            account=scored_lead.account, topic="crm", surge_score=80, source="Bombora", observed_at=SCORED_AT
        ),
        AuditEntry: audit_log(actor=Actor(user=manager), action="lead.note", obj=scored_lead, reason="checked"),
    }


VIEW_ONLY = [StageTransition, LeadEvent, IntentSignal, AuditEntry]


@pytest.mark.parametrize("model", VIEW_ONLY, ids=lambda m: m.__name__)
def test_evidence_cannot_be_added_by_hand(support, evidence, model, scored_lead, manager):
    url = reverse(f"admin:leadops_{model._meta.model_name}_add")
    count = model.objects.count()
    assert support.get(url).status_code == 403
    data = {
        "lead": scored_lead.pk,
        "account": scored_lead.account_id,
        "from_stage": Stage.SQL,
        "to_stage": Stage.WON,
        "by_user": manager.pk,
        "kind": "demo_request",
        "topic": "crm",
        "surge_score": "99",
        "source": "hand",
        "action": "lead.note",
        "actor_label": "support",
        "object_type": "leadops.lead",
    }
    assert support.post(url, data).status_code == 403
    assert model.objects.count() == count


@pytest.mark.parametrize("model", VIEW_ONLY, ids=lambda m: m.__name__)
def test_evidence_can_be_read_but_not_changed_or_deleted(support, evidence, model):
    row = evidence[model]
    change = reverse(f"admin:leadops_{model._meta.model_name}_change", args=[row.pk])
    response = support.get(change)
    assert response.status_code == 200
    assert not response.context["has_change_permission"] and not response.context["has_delete_permission"]
    assert support.post(change, {"reason": "edited", "topic": "edited", "kind": "trial_started"}).status_code == 403
    delete = reverse(f"admin:leadops_{model._meta.model_name}_delete", args=[row.pk])
    assert support.post(delete, {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=row.pk).exists()
    changelist = support.get(reverse(f"admin:leadops_{model._meta.model_name}_changelist"))
    assert changelist.context["action_form"] is None  # no bulk delete either


def test_the_lead_page_in_the_admin_cannot_add_transitions_inline(support, scored_lead, manager):
    lead_transition(lead=scored_lead, to=Stage.SQL, by=manager, reason="Asked for a demo")
    response = support.get(reverse("admin:leadops_lead_change", args=[scored_lead.pk]))
    (inline,) = response.context["inline_admin_formsets"]
    assert not (inline.has_add_permission or inline.has_change_permission or inline.has_delete_permission)


def test_versions_are_read_only_for_support(support, active_version):
    change = reverse("admin:scoring_scoringmodelversion_change", args=[active_version.pk])
    assert support.post(change, {"status": VersionStatus.RETIRED}).status_code == 403
    assert ScoringModelVersion.objects.get(pk=active_version.pk).status == VersionStatus.ACTIVE
