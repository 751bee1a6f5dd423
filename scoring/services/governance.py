"""Scoring versions and their approval: draft -> submitted -> approved / rejected -> active -> retired.

Marketing writes drafts and submits them; a manager who is not the author approves (which activates) or rejects
with a comment. Rolling back is submitting a copy of an earlier version through the same approval.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from leadops.models import EventKind
from leadops.services import Actor, audit_log
from scoring import rules as engine
from scoring.facts import engine_model
from scoring.models import RULE_FIELDS, RuleKind, ScoringModel, ScoringModelVersion, ScoringRule, VersionStatus
from scoring.services.aggregates import missing_matchers
from scoring.services.preview import impact_preview_request

EVENT_KINDS = frozenset(EventKind.ALL)
VERSION_FIELDS = [
    "weight_fit",
    "weight_engagement",
    "weight_intent",
    "weight_buying",
    "mql_cutoff",
    "sql_cutoff_smb",
    "sql_cutoff_mid_market",
    "sql_cutoff_enterprise",
    "hot_above",
    "warm_from",
    "borderline_band",
    "fast_track_fit_floor",
]


class GovernanceError(ValueError):
    """A step the version's state or the person's role does not allow; the message says why.

    `field` names the rule field the message is about, when it is about one (as engine.RuleError does).
    """

    def __init__(self, message: str, *, field: str = ""):
        super().__init__(message)
        self.field = field


def _require_draft(version: ScoringModelVersion) -> None:
    if version.status != VersionStatus.DRAFT:
        raise GovernanceError(
            f"{version.label} is {version.get_status_display().lower()} and can no longer be edited; "
            "create a new draft from it instead."
        )


def _require_perm(user, perm: str, action: str) -> None:
    if not user.has_perm(perm):
        raise GovernanceError(f"Your role does not allow you to {action}.")


def version_draft_create(
    *, model: ScoringModel, by, based_on: ScoringModelVersion | None = None, change_note: str = ""
) -> ScoringModelVersion:
    """A new draft, copied from `based_on` (default: the active version) so marketing edits a full model."""
    _require_perm(by, "leadops.edit_scoring_rules", "edit scoring rules")
    with transaction.atomic():
        ScoringModel.objects.select_for_update().get(pk=model.pk)
        source = based_on or model.versions.filter(status=VersionStatus.ACTIVE).first()
        number = (model.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        draft = ScoringModelVersion(model=model, number=number, author=by, based_on=source, change_note=change_note)
        if source is not None:
            for name in VERSION_FIELDS:
                setattr(draft, name, getattr(source, name))
        draft.save()
        if source is not None:
            ScoringRule.objects.bulk_create(
                [
                    ScoringRule(version=draft, position=r.position, **{f: getattr(r, f) for f in RULE_FIELDS})
                    for r in source.rules.all()
                ]
            )
        audit_log(
            actor=Actor(user=by),
            action="scoring.draft_create",
            obj=draft,
            changes={"based_on": source.label if source else None},
        )
    return draft


def version_settings_update(
    *, version: ScoringModelVersion, by, values: dict, change_note: str | None = None
) -> ScoringModelVersion:
    """Change weights and thresholds of a draft; refused with a reason when they are out of bounds."""
    _require_perm(by, "leadops.edit_scoring_rules", "edit scoring rules")
    with transaction.atomic():
        version = ScoringModelVersion.objects.select_for_update().get(pk=version.pk)
        _require_draft(version)
        unknown = set(values) - set(VERSION_FIELDS)
        if unknown:
            raise GovernanceError(f"Unknown settings: {', '.join(sorted(unknown))}.")
        before = {name: str(getattr(version, name)) for name in values}
        for name, value in values.items():
            setattr(version, name, Decimal(str(value)) if name.startswith("weight_") else int(value))
        model = engine_model(version)
        engine.validate_weights(model.weights)
        engine.validate_thresholds(model.thresholds)
        if change_note is not None:
            version.change_note = change_note
        version.save()
        audit_log(
            actor=Actor(user=by),
            action="scoring.settings_update",
            obj=version,
            changes={name: [before[name], str(getattr(version, name))] for name in values},
        )
    return version


def rule_save(*, version: ScoringModelVersion, by, data: dict, rule: ScoringRule | None = None) -> ScoringRule:
    """Add or change one rule of a draft. The rule is validated as data; nothing in it is ever executed."""
    _require_perm(by, "leadops.edit_scoring_rules", "edit scoring rules")
    with transaction.atomic():
        version = ScoringModelVersion.objects.select_for_update().get(pk=version.pk)
        _require_draft(version)
        rule = rule or ScoringRule(version=version, position=(version.rules.aggregate(p=Max("position"))["p"] or 0) + 1)
        if rule.version_id != version.pk:
            raise GovernanceError("That rule belongs to another version.")
        for name, value in data.items():
            if name not in RULE_FIELDS:
                raise GovernanceError(f"Rules have no setting '{name}'.")
            setattr(rule, name, value)
        if rule.kind not in RuleKind.values:
            raise GovernanceError(f"'{rule.kind}' is not a kind of rule.")
        engine.validate_rule(rule.as_engine_rule(), event_kinds=EVENT_KINDS)
        if version.rules.filter(key=rule.key).exclude(pk=rule.pk).exists():
            raise GovernanceError(f"Another rule of this version is already called '{rule.key}'.", field="name")
        created = rule.pk is None
        rule.save()
        audit_log(
            actor=Actor(user=by),
            action="scoring.rule_create" if created else "scoring.rule_update",
            obj=version,
            changes={"rule": rule.key, **{k: _jsonable(v) for k, v in data.items()}},
        )
    return rule


def rule_delete(*, rule: ScoringRule, by) -> None:
    _require_perm(by, "leadops.edit_scoring_rules", "edit scoring rules")
    with transaction.atomic():
        version = ScoringModelVersion.objects.select_for_update().get(pk=rule.version_id)
        _require_draft(version)
        audit_log(actor=Actor(user=by), action="scoring.rule_delete", obj=version, changes={"rule": rule.key})
        rule.delete()


def version_submit(*, version: ScoringModelVersion, by) -> ScoringModelVersion:
    _require_perm(by, "leadops.edit_scoring_rules", "submit scoring changes")
    with transaction.atomic():
        version = ScoringModelVersion.objects.select_for_update().get(pk=version.pk)
        _require_draft(version)
        model = engine_model(version)
        engine.validate_weights(model.weights)
        engine.validate_thresholds(model.thresholds)
        if not model.rules:
            raise GovernanceError("A version without rules would score every lead 0; add rules before submitting.")
        for rule in model.rules:
            engine.validate_rule(rule, event_kinds=EVENT_KINDS)
        # Checked before the status changes: rules_in_play() does not yet count this version.
        version.aggregates_ready = not missing_matchers(version)
        version.status = VersionStatus.SUBMITTED
        version.submitted_at = timezone.now()
        version.save(update_fields=["status", "submitted_at", "aggregates_ready"])
        impact_preview_request(version=version)
        audit_log(actor=Actor(user=by), action="scoring.submit", obj=version, reason=version.change_note)
        transaction.on_commit(lambda: _enqueue_preview(version.pk))
    return version


def version_reject(*, version: ScoringModelVersion, by, comment: str) -> ScoringModelVersion:
    _require_perm(by, "leadops.approve_scoring_rules", "approve or reject scoring changes")
    if not comment.strip():
        raise GovernanceError("Say why the change is rejected, so marketing can fix it.")
    with transaction.atomic():
        version = ScoringModelVersion.objects.select_for_update().get(pk=version.pk)
        _require_submitted(version, by)
        version.status = VersionStatus.REJECTED
        version.decided_by, version.decided_at, version.decision_comment = by, timezone.now(), comment
        version.save(update_fields=["status", "decided_by", "decided_at", "decision_comment"])
        audit_log(actor=Actor(user=by), action="scoring.reject", obj=version, reason=comment)
    return version


def version_approve(*, version: ScoringModelVersion, by, comment: str = "") -> ScoringModelVersion:
    """Approve and activate: the previous active version retires and every lead is re-scored in the background."""
    _require_perm(by, "leadops.approve_scoring_rules", "approve or reject scoring changes")
    with transaction.atomic():
        ScoringModel.objects.select_for_update().get(pk=version.model_id)
        version = ScoringModelVersion.objects.select_for_update().get(pk=version.pk)
        _require_submitted(version, by)
        preview = getattr(version, "preview", None)
        if preview is None or preview.status != preview.Status.DONE or not version.aggregates_ready:
            raise GovernanceError("The impact preview is still being computed; approve once you have seen it.")
        now = timezone.now()
        version.status = VersionStatus.APPROVED
        version.decided_by, version.decided_at, version.decision_comment = by, now, comment
        version.save(update_fields=["status", "decided_by", "decided_at", "decision_comment"])
        audit_log(actor=Actor(user=by), action="scoring.approve", obj=version, reason=comment)
        version_activate(version=version, by=Actor(user=by), now=now)
    return version


def version_activate(*, version: ScoringModelVersion, by: Actor, now=None) -> ScoringModelVersion:
    """Make an approved version the active one (the caller holds the model's row lock or a fresh install does)."""
    now = now or timezone.now()
    previous = list(
        ScoringModelVersion.objects.select_for_update().filter(model_id=version.model_id, status=VersionStatus.ACTIVE)
    )
    for old in previous:
        old.status, old.retired_at = VersionStatus.RETIRED, now
        old.save(update_fields=["status", "retired_at"])
        audit_log(actor=by, action="scoring.retire", obj=old, reason=f"replaced by {version.label}")
    version.status, version.activated_at = VersionStatus.ACTIVE, now
    version.save(update_fields=["status", "activated_at"])
    audit_log(actor=by, action="scoring.activate", obj=version, changes={"replaces": [old.label for old in previous]})
    transaction.on_commit(lambda: _enqueue_activation(version.pk))
    return version


def version_rollback_submit(*, version: ScoringModelVersion, by) -> ScoringModelVersion:
    """Bring back an earlier version: a copy of it goes through the same approval as any change."""
    if version.status not in (VersionStatus.RETIRED, VersionStatus.REJECTED, VersionStatus.APPROVED):
        raise GovernanceError(
            f"{version.label} is {version.get_status_display().lower()}; only an earlier version can be brought back."
        )
    draft = version_draft_create(
        model=version.model, by=by, based_on=version, change_note=f"Roll back to {version.label}"
    )
    return version_submit(version=draft, by=by)


def _require_submitted(version: ScoringModelVersion, by) -> None:
    if version.status != VersionStatus.SUBMITTED:
        raise GovernanceError(f"{version.label} is {version.get_status_display().lower()}, not waiting for approval.")
    if version.author_id == by.pk:
        raise GovernanceError("You wrote this version; another manager has to approve or reject it.")


def _enqueue_preview(version_id: int) -> None:
    from scoring import tasks

    tasks.version_prepare.delay(version_id)


def _enqueue_activation(version_id: int) -> None:
    from scoring import tasks

    tasks.version_rescore_all.delay(version_id, "activation")


def _jsonable(value):
    return value if isinstance(value, str | int | float | bool | list | dict | type(None)) else str(value)
