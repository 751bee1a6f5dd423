"""Four eyes: nobody who changed a version decides it, whichever way they come in (service, page, API, admin).

Everyone who changed a version is one of its contributors: the author, co-editors of its rules, weights,
thresholds or change note, whoever submitted it (a rollback included). A contributor neither approves nor
rejects it, and the managers' inbox does not list it to them.
"""

import datetime as dt
import importlib

import pytest
import time_machine
from django.apps import apps
from django.contrib.auth.models import Group
from django.urls import reverse
from rest_framework.test import APIClient

from leadops import roles
from leadops.models import AuditEntry
from scoring import selectors
from scoring.models import ScoringModelVersion, VersionStatus
from scoring.services import governance
from scoring.services.governance import GovernanceError
from tests.factories import UserFactory
from tests.scoring.test_views import submit_with_preview

pytestmark = [pytest.mark.django_db]

MONDAY = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)  # marketing writes the draft
SUNDAY = dt.datetime(2026, 11, 29, 15, 0, tzinfo=dt.UTC)  # the co-editor changes it
NEW_RULE = {
    "key": "fit-vp-sales",
    "name": "VP of sales",
    "kind": "attribute",
    "pillar": "fit",
    "points": 10,
    "field": "lead.seniority",
    "operator": "equals",
    "value": "vp",
}


@pytest.fixture
def co_editor(db):
    """A manager who also edits rules: only four eyes stands between them and approving their own change."""
    user = UserFactory(username="coeditor", role=roles.MANAGER)
    user.groups.add(Group.objects.get(name=roles.MARKETING))
    return user


@pytest.fixture
def second_manager(db):
    return UserFactory(username="second_manager", role=roles.MANAGER)


@pytest.fixture
def draft(default_model, marketer):
    with time_machine.travel(MONDAY, tick=False):
        return governance.version_draft_create(model=default_model, by=marketer, change_note="Demo requests +45")


def _rule_change(version, by):
    rule = version.rules.get(key="fit-revenue-10m-1b")
    governance.rule_save(version=version, by=by, rule=rule, data={"points": 30})


def _rule_add(version, by):
    governance.rule_save(version=version, by=by, data=NEW_RULE)


def _rule_delete(version, by):
    governance.rule_delete(rule=version.rules.get(key="fit-revenue-10m-1b"), by=by)


def _thresholds(version, by):
    governance.version_settings_update(version=version, by=by, values={"mql_cutoff": 55})


def _change_note(version, by):
    governance.version_settings_update(version=version, by=by, values={}, change_note="Demo requests +40, not +45")


# (write, what the co-editor is told they changed, whether the co-editor also submits)
CO_EDITS = [
    pytest.param(_rule_change, "rules", id="rule-changed"),
    pytest.param(_rule_add, "rules", id="rule-added"),
    pytest.param(_rule_delete, "rules", id="rule-deleted"),
    pytest.param(_thresholds, "weights and thresholds", id="thresholds"),
    pytest.param(_change_note, "change note", id="change-note"),
]


@pytest.mark.parametrize(("write", "what"), CO_EDITS)
def test_a_co_editor_can_neither_approve_nor_reject_what_they_changed(
    draft, marketer, co_editor, second_manager, write, what
):
    with time_machine.travel(SUNDAY, tick=False):
        write(draft, co_editor)
    submit_with_preview(draft, marketer)
    message = f"You changed this version ({what} on 2026-11-29); another manager has to decide it."

    with pytest.raises(GovernanceError) as approving:
        governance.version_approve(version=draft, by=co_editor, comment="Fine by me")
    assert str(approving.value) == message
    with pytest.raises(GovernanceError) as rejecting:
        governance.version_reject(version=draft, by=co_editor, comment="Not like this")
    assert str(rejecting.value) == message
    draft.refresh_from_db()
    assert (draft.status, draft.decided_by) == (VersionStatus.SUBMITTED, None)
    assert set(draft.contributors.all()) == {marketer, co_editor}

    governance.version_approve(version=draft, by=second_manager, comment="Agreed")
    draft.refresh_from_db()
    assert (draft.status, draft.decided_by) == (VersionStatus.ACTIVE, second_manager)


def test_whoever_submits_is_a_contributor(draft, co_editor, second_manager):
    with time_machine.travel(SUNDAY, tick=False):
        submit_with_preview(draft, co_editor)
    with pytest.raises(GovernanceError) as refused:
        governance.version_approve(version=draft, by=co_editor)
    assert str(refused.value) == (
        "You changed this version (submission on 2026-11-29); another manager has to decide it."
    )
    governance.version_reject(version=draft, by=second_manager, comment="Too generous")
    draft.refresh_from_db()
    assert (draft.status, draft.decided_by) == (VersionStatus.REJECTED, second_manager)


def test_the_author_can_neither_approve_nor_reject_and_is_told_what_they_changed(default_model, co_editor):
    with time_machine.travel(MONDAY, tick=False):
        own = governance.version_draft_create(model=default_model, by=co_editor)
    with time_machine.travel(SUNDAY, tick=False):
        _rule_change(own, co_editor)
        submit_with_preview(own, co_editor)
    message = (
        "You changed this version (draft on 2026-11-23, rules and submission on 2026-11-29); "
        "another manager has to decide it."
    )
    with pytest.raises(GovernanceError) as approving:
        governance.version_approve(version=own, by=co_editor)
    assert str(approving.value) == message
    with pytest.raises(GovernanceError) as rejecting:
        governance.version_reject(version=own, by=co_editor, comment="Changed my mind")
    assert str(rejecting.value) == message
    own.refresh_from_db()
    assert own.status == VersionStatus.SUBMITTED


def test_whoever_submits_a_rollback_cannot_decide_it(draft, marketer, co_editor, second_manager, active_version):
    submit_with_preview(draft, marketer)
    governance.version_approve(version=draft, by=second_manager)
    active_version.refresh_from_db()
    with time_machine.travel(SUNDAY, tick=False):
        rollback = governance.version_rollback_submit(version=active_version, by=co_editor)
    assert list(rollback.contributors.all()) == [co_editor]
    with pytest.raises(GovernanceError, match=r"^You changed this version \(draft and submission on 2026-11-29\)"):
        governance.version_approve(version=rollback, by=co_editor)
    with pytest.raises(GovernanceError, match="another manager has to decide it"):
        governance.version_reject(version=rollback, by=co_editor, comment="No")


def test_a_copy_of_a_rejected_version_cannot_be_decided_by_who_changed_the_original(
    draft, marketer, co_editor, second_manager
):
    with time_machine.travel(SUNDAY, tick=False):
        _rule_change(draft, co_editor)
    submit_with_preview(draft, marketer)
    governance.version_reject(version=draft, by=second_manager, comment="Not yet")
    draft.refresh_from_db()
    copy = governance.version_draft_create(model=draft.model, by=marketer, based_on=draft)
    submit_with_preview(copy, marketer)
    assert set(copy.contributors.all()) == {marketer, co_editor}
    with pytest.raises(GovernanceError) as refused:
        governance.version_approve(version=copy, by=co_editor)
    assert str(refused.value) == (
        "You changed this version (rules on 2026-11-29 in Default v2, which it copies); "
        "another manager has to decide it."
    )
    assert copy not in selectors.approval_inbox(user=co_editor)


def test_a_copy_of_the_active_version_can_be_decided_by_who_changed_it_before_it_was_approved(
    draft, marketer, co_editor, second_manager
):
    _rule_change(draft, co_editor)
    submit_with_preview(draft, marketer)
    governance.version_approve(version=draft, by=second_manager)  # four eyes saw the co-editor's change
    following = governance.version_draft_create(model=draft.model, by=marketer)
    submit_with_preview(following, marketer)
    assert list(following.contributors.all()) == [marketer]
    governance.version_approve(version=following, by=co_editor)
    following.refresh_from_db()
    assert (following.status, following.decided_by) == (VersionStatus.ACTIVE, co_editor)


def test_every_write_is_recorded_against_the_version_in_the_audit_log(draft, co_editor):
    for write in (_rule_change, _rule_add, _thresholds, _change_note, _rule_delete):
        write(draft, co_editor)
    governance.version_submit(version=draft, by=co_editor)
    actions = AuditEntry.objects.filter(
        object_type="scoring.scoringmodelversion", object_id=str(draft.pk), actor=co_editor
    )
    assert sorted(actions.values_list("action", flat=True)) == [
        "scoring.rule_create",
        "scoring.rule_delete",
        "scoring.rule_update",
        "scoring.settings_update",
        "scoring.settings_update",
        "scoring.submit",
    ]
    note = actions.filter(action="scoring.settings_update", changes__has_key="change_note").get()
    assert note.changes == {"change_note": ["Demo requests +45", "Demo requests +40, not +45"]}


# --- the inbox lists exactly what the service lets a manager decide -------------------------------------------------


@pytest.fixture
def submissions(default_model, marketer, co_editor):
    """Four submitted versions: marketing's alone, co-edited, submitted by the co-editor, written by the co-editor."""
    alone = governance.version_draft_create(model=default_model, by=marketer)
    submit_with_preview(alone, marketer)
    co_edited = governance.version_draft_create(model=default_model, by=marketer)
    _rule_change(co_edited, co_editor)
    submit_with_preview(co_edited, marketer)
    submitted_by_co_editor = governance.version_draft_create(model=default_model, by=marketer)
    submit_with_preview(submitted_by_co_editor, co_editor)
    written = governance.version_draft_create(model=default_model, by=co_editor)
    submit_with_preview(written, co_editor)
    versions = {"alone": alone, "co_edited": co_edited, "submitted": submitted_by_co_editor, "written": written}
    return {name: ScoringModelVersion.objects.get(pk=version.pk) for name, version in versions.items()}


def test_the_inbox_leaves_out_what_the_manager_changed(submissions, co_editor, manager, marketer, sdr):
    def inbox(user):
        return {name for name, v in submissions.items() if v in selectors.approval_inbox(user=user)}

    assert inbox(co_editor) == {"alone"}
    assert inbox(manager) == {"alone", "co_edited", "submitted", "written"}
    assert inbox(marketer) == set()
    assert inbox(sdr) == set()


def test_the_inbox_and_the_service_agree_for_everyone(submissions, cast, co_editor, second_manager, active_version):
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    draft = governance.version_draft_create(model=active_version.model, by=cast["marketer"])
    for user in [*cast.values(), co_editor, second_manager, superuser]:
        listed = set(selectors.approval_inbox(user=user))
        for version in [*submissions.values(), active_version, draft]:
            may_decide = governance.decision_refusal(version=version, by=user) is None
            assert (version in listed) == may_decide, (user.username, version.label)


def test_a_manager_is_told_how_many_of_their_changes_wait_for_someone_else(client, submissions, co_editor):
    client.force_login(co_editor)
    response = client.get(reverse("scoring:approval_inbox"))
    assert [v.pk for v in response.context["versions"]] == [submissions["alone"].pk]
    assert response.context["own_waiting"] == 3


# --- the page, the API and the support admin refuse the same way --------------------------------------------------


def test_the_page_refuses_a_co_editor_with_the_reason(client, draft, marketer, co_editor):
    with time_machine.travel(SUNDAY, tick=False):
        _rule_change(draft, co_editor)
    submit_with_preview(draft, marketer)
    client.force_login(co_editor)
    page = client.get(reverse("scoring:version_detail", args=[draft.pk])).content.decode()
    assert "Approve and activate" not in page and "You changed this version" in page
    for action, data in (("version_approve", {"comment": "ok"}), ("version_reject", {"comment": "no"})):
        response = client.post(reverse(f"scoring:{action}", args=[draft.pk]), data)
        assert response.status_code == 200
        assert (
            "You changed this version (rules on 2026-11-29); another manager has to decide it."
            in response.content.decode()
        )
    draft.refresh_from_db()
    assert (draft.status, draft.decided_by) == (VersionStatus.SUBMITTED, None)


def test_the_api_refuses_a_co_editor_with_the_reason(draft, marketer, co_editor):
    with time_machine.travel(SUNDAY, tick=False):
        _thresholds(draft, co_editor)
    submit_with_preview(draft, marketer)
    client = APIClient()
    client.force_authenticate(co_editor)
    for name, data in (("approve", {"comment": "ok"}), ("reject", {"comment": "no"})):
        response = client.post(reverse(f"api_scoring_version_{name}", args=[draft.pk]), data, format="json")
        assert response.status_code == 400
        assert response.json() == {
            "detail": "You changed this version (weights and thresholds on 2026-11-29); another manager has to "
            "decide it."
        }
    draft.refresh_from_db()
    assert (draft.status, draft.decided_by) == (VersionStatus.SUBMITTED, None)


def test_the_support_admin_cannot_approve_or_change_a_version(client, draft, marketer):
    submit_with_preview(draft, marketer)
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    change = reverse("admin:scoring_scoringmodelversion_change", args=[draft.pk])
    response = client.post(change, {"status": "active", "decided_by": root.pk, "decision_comment": "by hand"})
    assert response.status_code == 403
    changelist = client.get(reverse("admin:scoring_scoringmodelversion_changelist"))
    assert changelist.status_code == 200 and changelist.context["action_form"] is None
    for name in ("add", "delete"):
        url = reverse(f"admin:scoring_scoringmodelversion_{name}", args=[] if name == "add" else [draft.pk])
        assert client.post(url, {"post": "yes"}).status_code == 403
    draft.refresh_from_db()
    assert (draft.status, draft.decided_by, draft.decision_comment) == (VersionStatus.SUBMITTED, None, "")
    assert client.get(change).status_code == 200  # support can still read it


def test_a_superuser_without_a_manager_role_cannot_approve(draft, marketer):
    submit_with_preview(draft, marketer)
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    with pytest.raises(GovernanceError, match="Your role does not allow you to approve or reject scoring changes"):
        governance.version_approve(version=draft, by=root)
    draft.refresh_from_db()
    assert draft.status == VersionStatus.SUBMITTED


# --- versions from before contributors were recorded ----------------------------------------------------------------


def test_the_migration_makes_each_existing_author_a_contributor(draft, marketer, active_version):
    draft.contributors.clear()
    migration = importlib.import_module("scoring.migrations.0006_version_contributors")
    migration.authors_contribute(apps, None)
    assert list(draft.contributors.all()) == [marketer]
    assert list(active_version.contributors.all()) == []  # shipped with LeadOps: nobody wrote it
    migration.authors_contribute(apps, None)  # running it again changes nothing
    assert ScoringModelVersion.contributors.through.objects.filter(scoringmodelversion=draft).count() == 1
