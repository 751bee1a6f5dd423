"""Versions: marketing drafts and submits, another manager approves; every bad input refused, nothing active moves."""

from decimal import Decimal

import pytest

from leadops.models import AuditEntry
from scoring import rules as engine
from scoring.models import ImpactPreview, RescoreRun, ScoringModelVersion, VersionStatus
from scoring.services import governance
from scoring.services.governance import GovernanceError

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def draft(default_model, marketer):
    return governance.version_draft_create(model=default_model, by=marketer, change_note="Weight intent more")


def test_draft_copies_the_active_version(draft, active_version):
    assert draft.number == 2 and draft.status == VersionStatus.DRAFT
    assert draft.rules.count() == active_version.rules.count()
    assert draft.weight_fit == active_version.weight_fit


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"weight_fit": "0.50", "weight_engagement": "0.30", "weight_intent": "0.20", "weight_buying": "0.10"},
            "add up to 100%",
        ),
        (
            {"weight_fit": "0.60", "weight_engagement": "0.20", "weight_intent": "0.10", "weight_buying": "0.10"},
            "Fit weight must be between 30% and 50%",
        ),
        ({"mql_cutoff": 120}, "between 0 and 100"),
        ({"sql_cutoff_smb": 40}, "below the MQL cut-off"),
    ],
)
def test_bad_settings_are_refused_and_nothing_changes(draft, marketer, values, message):
    with pytest.raises(engine.RuleError, match=message):
        governance.version_settings_update(version=draft, by=marketer, values=values)
    draft.refresh_from_db()
    assert (draft.weight_fit, draft.mql_cutoff, draft.sql_cutoff_smb) == (Decimal("0.40"), 50, 60)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {
                "key": "x",
                "name": "Revenue",
                "kind": "attribute",
                "pillar": "fit",
                "points": 10,
                "field": "account.annual_revenue",
                "operator": "between",
                "value": [1000, 10],
            },
            "minimum .* above",
        ),
        (
            {
                "key": "x",
                "name": "Shoe size",
                "kind": "attribute",
                "pillar": "fit",
                "points": 10,
                "field": "lead.shoe_size",
                "operator": "equals",
                "value": "44",
            },
            "Unknown field 'lead.shoe_size'",
        ),
        (
            {
                "key": "x",
                "name": "Pings",
                "kind": "behaviour",
                "pillar": "engagement",
                "points": 5,
                "cap": 20,
                "event_kind": "telepathy",
            },
            "Unknown event kind 'telepathy'",
        ),
        (
            {
                "key": "x",
                "name": "Opens",
                "kind": "behaviour",
                "pillar": "engagement",
                "points": 5,
                "cap": 20,
                "event_kind": "email_open",
                "half_life_days": -3,
            },
            "half-life must be a positive",
        ),
        (
            {
                "key": "x",
                "name": "Code",
                "kind": "attribute",
                "pillar": "fit",
                "points": 5,
                "field": "lead.title",
                "operator": "__import__('os')",
                "value": "x",
            },
            "cannot be used on lead.title",
        ),
    ],
)
def test_bad_rules_are_refused_with_a_clear_message(draft, marketer, data, message):
    before = draft.rules.count()
    with pytest.raises(engine.RuleError, match=message):
        governance.rule_save(version=draft, by=marketer, data=data)
    assert draft.rules.count() == before


def test_full_flow_submit_preview_approve_activates_and_rescoring_starts(
    draft, marketer, manager, active_version, django_capture_on_commit_callbacks
):
    rule = draft.rules.get(key="buy-demo-request")
    governance.rule_save(version=draft, by=marketer, rule=rule, data={"points": 45, "cap": 45})
    with django_capture_on_commit_callbacks(execute=True):
        governance.version_submit(version=draft, by=marketer)
    draft.refresh_from_db()
    assert draft.status == VersionStatus.SUBMITTED
    assert draft.preview.status == ImpactPreview.Status.DONE  # eager Celery in tests
    with django_capture_on_commit_callbacks(execute=True):
        governance.version_approve(version=draft, by=manager, comment="Looks right")
    draft.refresh_from_db()
    active_version.refresh_from_db()
    assert draft.status == VersionStatus.ACTIVE and active_version.status == VersionStatus.RETIRED
    assert ScoringModelVersion.objects.filter(status=VersionStatus.ACTIVE).count() == 1
    assert RescoreRun.objects.filter(version=draft, reason="activation").exists()
    actions = list(AuditEntry.objects.filter(action__startswith="scoring.").values_list("action", flat=True))
    for action in [
        "scoring.draft_create",
        "scoring.rule_update",
        "scoring.submit",
        "scoring.approve",
        "scoring.retire",
        "scoring.activate",
    ]:
        assert action in actions


def test_a_submitted_draft_cannot_be_edited(draft, marketer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        governance.version_submit(version=draft, by=marketer)
    with pytest.raises(GovernanceError, match="can no longer be edited"):
        governance.version_settings_update(version=draft, by=marketer, values={"mql_cutoff": 55})
    with pytest.raises(GovernanceError, match="can no longer be edited"):
        governance.rule_save(version=draft, by=marketer, rule=draft.rules.first(), data={"points": 1})


def test_nobody_approves_their_own_change(default_model, manager, marketer, django_capture_on_commit_callbacks):
    manager.groups.add(*marketer.groups.all())  # a manager who also edits rules
    own = governance.version_draft_create(model=default_model, by=manager)
    with django_capture_on_commit_callbacks(execute=True):
        governance.version_submit(version=own, by=manager)
    with pytest.raises(GovernanceError, match="another manager"):
        governance.version_approve(version=own, by=manager)
    own.refresh_from_db()
    assert own.status == VersionStatus.SUBMITTED


def test_marketing_cannot_approve_and_sdr_cannot_edit(draft, marketer, sdr, django_capture_on_commit_callbacks):
    with pytest.raises(GovernanceError, match="does not allow"):
        governance.version_draft_create(model=draft.model, by=sdr)
    with django_capture_on_commit_callbacks(execute=True):
        governance.version_submit(version=draft, by=marketer)
    with pytest.raises(GovernanceError, match="does not allow"):
        governance.version_approve(version=draft, by=marketer)


def test_rejection_needs_a_comment_and_keeps_the_active_version(
    draft, marketer, manager, active_version, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        governance.version_submit(version=draft, by=marketer)
    with pytest.raises(GovernanceError, match="Say why"):
        governance.version_reject(version=draft, by=manager, comment=" ")
    governance.version_reject(version=draft, by=manager, comment="Intent weight too high")
    draft.refresh_from_db()
    active_version.refresh_from_db()
    assert draft.status == VersionStatus.REJECTED and active_version.status == VersionStatus.ACTIVE


def test_rollback_goes_through_approval(draft, marketer, manager, active_version, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        governance.version_submit(version=draft, by=marketer)
    with django_capture_on_commit_callbacks(execute=True):
        governance.version_approve(version=draft, by=manager)
    active_version.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        rollback = governance.version_rollback_submit(version=active_version, by=marketer)
    assert rollback.status == VersionStatus.SUBMITTED and rollback.based_on == active_version
    with django_capture_on_commit_callbacks(execute=True):
        governance.version_approve(version=rollback, by=manager)
    rollback.refresh_from_db()
    assert rollback.status == VersionStatus.ACTIVE


def test_a_preview_that_cannot_be_computed_says_so_and_blocks_approval(
    draft, marketer, manager, monkeypatch, django_capture_on_commit_callbacks
):
    from scoring.services import preview

    def broken(**kwargs):
        raise ValueError("division by zero in the histogram")

    monkeypatch.setattr(preview, "impact_preview_compute", broken)
    with pytest.raises(ValueError), django_capture_on_commit_callbacks(execute=True):
        governance.version_submit(version=draft, by=marketer)
    draft.refresh_from_db()
    assert draft.preview.status == ImpactPreview.Status.FAILED
    assert "division by zero in the histogram" in draft.preview.error
    with pytest.raises(GovernanceError, match="impact preview"):
        governance.version_approve(version=draft, by=manager)
