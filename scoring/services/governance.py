"""Scoring versions and their approval: draft -> submitted -> approved / rejected -> active -> retired.

Marketing writes drafts and submits them; a manager who did not change the version approves (which activates) or
rejects it with a comment. Rolling back is submitting a copy of an earlier version through the same approval.

Four eyes: every service that writes a version makes the writer one of its contributors (the author, co-editors of
rules, weights, thresholds or the change note, whoever submitted it). `changed_by` is the one definition of "this
person changed it"; the refusal to decide (`decision_refusal`) and the managers' inbox both derive from it.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone

from leadops.models import AuditEntry, EventKind
from leadops.permissions import has_role_perm
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

APPROVE_PERM = "leadops.approve_scoring_rules"
# Versions whose changes no second person has approved: a copy of one inherits its contributors.
UNAPPROVED = (VersionStatus.DRAFT, VersionStatus.SUBMITTED, VersionStatus.REJECTED)


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
    if not has_role_perm(user, perm):
        raise GovernanceError(f"Your role does not allow you to {action}.")


def version_draft_create(
    *, model: ScoringModel, by, based_on: ScoringModelVersion | None = None, change_note: str = ""
) -> ScoringModelVersion:
    """A new draft, copied from `based_on` (default: the active version) so marketing edits a full model.

    A copy of a version nobody approved (a draft, a submitted or a rejected one) carries changes its contributors
    made, so they are contributors of the copy too; an approved version's changes were decided by four eyes already.
    """
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
        draft.contributors.add(by)
        if source is not None and source.status in UNAPPROVED:
            draft.contributors.add(*source.contributors.all())
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
        changes = {name: [before[name], str(getattr(version, name))] for name in values}
        if change_note is not None and change_note != version.change_note:
            changes["change_note"] = [version.change_note, change_note]
            version.change_note = change_note
        version.save()
        version.contributors.add(by)
        audit_log(actor=Actor(user=by), action="scoring.settings_update", obj=version, changes=changes)
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
        version.contributors.add(by)
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
        version.contributors.add(by)
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
        version.contributors.add(by)
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
        _require_decidable(version, by)
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
        _require_decidable(version, by)
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
    """Bring back an earlier version: a copy of it goes through the same approval as any change, and whoever asks for
    it is its contributor (author and submitter), so another manager decides."""
    if version.status not in (VersionStatus.RETIRED, VersionStatus.REJECTED, VersionStatus.APPROVED):
        raise GovernanceError(
            f"{version.label} is {version.get_status_display().lower()}; only an earlier version can be brought back."
        )
    draft = version_draft_create(
        model=version.model, by=by, based_on=version, change_note=f"Roll back to {version.label}"
    )
    return version_submit(version=draft, by=by)


# --- four eyes ------------------------------------------------------------------------------------------------------


def changed_by(user) -> Q:
    """Versions this person changed in any way: the one definition behind who may not decide a version.

    The author counts even without a contributor row (versions made outside the services, e.g. by a migration).
    """
    if user is None or user.pk is None:
        return Q(pk__in=[])
    contribution = ScoringModelVersion.contributors.through.objects.filter(
        scoringmodelversion_id=OuterRef("pk"), user_id=user.pk
    )
    return Q(author_id=user.pk) | Q(Exists(contribution))


def decision_refusal(*, version: ScoringModelVersion, by) -> str | None:
    """Why this person may not approve or reject this version now, or None when they may.

    The approval inbox lists exactly the versions for which this is None (a test proves the two agree).
    """
    if not has_role_perm(by, APPROVE_PERM):
        return "Your role does not allow you to approve or reject scoring changes."
    if version.status != VersionStatus.SUBMITTED:
        return f"{version.label} is {version.get_status_display().lower()}, not waiting for approval."
    if ScoringModelVersion.objects.filter(changed_by(by), pk=version.pk).exists():
        what = _what_they_changed_in_it_or_its_source(version, by)
        return f"You changed this version{f' ({what})' if what else ''}; another manager has to decide it."
    return None


def version_changed_by(*, version: ScoringModelVersion, user) -> bool:
    return ScoringModelVersion.objects.filter(changed_by(user), pk=version.pk).exists()


def _require_decidable(version: ScoringModelVersion, by) -> None:
    refusal = decision_refusal(version=version, by=by)
    if refusal is not None:
        raise GovernanceError(refusal)


# What a contributor is told they changed, from the audit entries their writes left on the version.
CHANGE_KINDS = ["draft", "rules", "weights and thresholds", "change note", "submission"]
_KIND_OF_ACTION = {
    "scoring.draft_create": "draft",
    "scoring.rule_create": "rules",
    "scoring.rule_update": "rules",
    "scoring.rule_delete": "rules",
    "scoring.submit": "submission",
}


def _what_they_changed_in_it_or_its_source(version: ScoringModelVersion, by) -> str:
    """What they changed in this version or, for a contributor of an unapproved version it copies, in that one."""
    what = _what_they_changed(version, by)
    source = version.based_on
    while not what and source is not None and source.status in UNAPPROVED:
        what = _what_they_changed(source, by)
        if what:
            return f"{what} in {source.label}, which it copies"
        source = source.based_on
    return what


def _what_they_changed(version: ScoringModelVersion, by) -> str:
    """'draft on 2026-11-23, rules and submission on 2026-11-29': each kind of change on the last day it was made."""
    entries = AuditEntry.objects.filter(
        object_type=version._meta.label_lower,
        object_id=str(version.pk),
        actor_id=by.pk,
        action__in=[*_KIND_OF_ACTION, "scoring.settings_update"],
    ).values_list("action", "changes", "at")
    last_day = {}
    for action, changes, at in entries:
        if action == "scoring.settings_update":
            kinds = ["change note"] if "change_note" in changes else []
            if set(changes) - {"change_note"} or not kinds:
                kinds.append("weights and thresholds")
        else:
            kinds = [_KIND_OF_ACTION[action]]
        day = timezone.localdate(at)
        for kind in kinds:
            last_day[kind] = max(day, last_day.get(kind, day))
    by_day: dict = {}
    for kind in CHANGE_KINDS:
        if kind in last_day:
            by_day.setdefault(last_day[kind], []).append(kind)
    return ", ".join(f"{_and(kinds)} on {day.isoformat()}" for day, kinds in sorted(by_day.items()))


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _enqueue_preview(version_id: int) -> None:
    from scoring import tasks

    tasks.version_prepare.delay(version_id)


def _enqueue_activation(version_id: int) -> None:
    from scoring import tasks

    tasks.version_rescore_all.delay(version_id, "activation")


def _jsonable(value):
    return value if isinstance(value, str | int | float | bool | list | dict | type(None)) else str(value)
