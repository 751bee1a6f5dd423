"""Scoring models as versioned data: weights, thresholds and rules, plus the per-lead aggregates they read."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from scoring import rules as engine


class ScoringModel(models.Model):
    """A named scoring model; what scores leads is its one active version."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.name


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted for approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


class ScoringModelVersion(models.Model):
    model = models.ForeignKey(ScoringModel, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    based_on = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    change_note = models.TextField(blank=True, help_text="What this version changes and why.")

    weight_fit = models.DecimalField(max_digits=4, decimal_places=2, default=0.40)
    weight_engagement = models.DecimalField(max_digits=4, decimal_places=2, default=0.30)
    weight_intent = models.DecimalField(max_digits=4, decimal_places=2, default=0.20)
    weight_buying = models.DecimalField(max_digits=4, decimal_places=2, default=0.10)

    mql_cutoff = models.PositiveSmallIntegerField(default=50)
    sql_cutoff_smb = models.PositiveSmallIntegerField(default=60)
    sql_cutoff_mid_market = models.PositiveSmallIntegerField(default=75)
    sql_cutoff_enterprise = models.PositiveSmallIntegerField(default=90)
    hot_above = models.PositiveSmallIntegerField(default=80)
    warm_from = models.PositiveSmallIntegerField(default=50)
    borderline_band = models.PositiveSmallIntegerField(default=5)
    # A hand-raiser is fast-tracked to SQL only when its fit pillar reaches this floor: a student's demo request
    # does not reach sales.
    fast_track_fit_floor = models.PositiveSmallIntegerField(default=40)

    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # Everyone who changed this version (author, co-editors, submitter): none of them may approve or reject it.
    contributors = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    # False while the aggregates this version reads are being back-filled from stored events.
    aggregates_ready = models.BooleanField(default=True)

    class Meta:
        ordering = ["model", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["model", "number"], name="scoring_version_number_unique"),
            # Exactly one active version per model: the database refuses a second.
            models.UniqueConstraint(
                fields=["model"], condition=Q(status="active"), name="scoring_one_active_version_per_model"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[choice for choice, _ in VersionStatus.choices]),
                name="scoring_version_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model} v{self.number} ({self.get_status_display()})"

    @property
    def label(self) -> str:
        return f"{self.model.name} v{self.number}"

    @property
    def is_editable(self) -> bool:
        return self.status == VersionStatus.DRAFT


class RuleKind(models.TextChoices):
    ATTRIBUTE = "attribute", "Attribute (lead or account field)"
    BEHAVIOUR = "behaviour", "Behaviour (events)"
    INTENT = "intent", "Intent signal"
    INACTIVITY = "inactivity", "Inactivity"
    DISQUALIFY = "disqualify", "Disqualify"
    FAST_TRACK = "fast_track", "Fast-track to SQL (hand-raiser)"


class Pillar(models.TextChoices):
    FIT = "fit", "Fit"
    ENGAGEMENT = "engagement", "Engagement"
    INTENT = "intent", "Intent"
    BUYING = "buying", "Buying signals"


# What a rule says: copied into a new draft, compared by the diff, edited by the forms.
RULE_FIELDS = [
    "key",
    "name",
    "kind",
    "pillar",
    "points",
    "field",
    "operator",
    "value",
    "event_kind",
    "property_name",
    "property_value",
    "cap",
    "half_life_days",
    "min_count",
    "min_surge",
    "topics",
    "within_days",
    "days",
]


class ScoringRule(models.Model):
    """One rule of a version, stored as validated data; never evaluated as code."""

    version = models.ForeignKey(ScoringModelVersion, on_delete=models.CASCADE, related_name="rules")
    position = models.PositiveIntegerField(default=0)
    key = models.SlugField(max_length=60, help_text="Stable identifier, kept across versions for diffs.")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=RuleKind.choices)
    pillar = models.CharField(max_length=20, choices=Pillar.choices, blank=True)
    points = models.FloatField(default=0)
    # attribute / disqualify
    field = models.CharField(max_length=40, blank=True)
    operator = models.CharField(max_length=20, blank=True)
    value = models.JSONField(null=True, blank=True)
    # behaviour
    event_kind = models.CharField(max_length=40, blank=True)
    property_name = models.CharField(max_length=40, blank=True)
    property_value = models.CharField(max_length=200, blank=True)
    cap = models.FloatField(null=True, blank=True)
    half_life_days = models.FloatField(null=True, blank=True)
    min_count = models.PositiveIntegerField(default=1)
    # intent
    min_surge = models.PositiveSmallIntegerField(null=True, blank=True)
    topics = models.JSONField(default=list, blank=True)
    within_days = models.PositiveIntegerField(null=True, blank=True)
    # inactivity
    days = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["version", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="scoring_rule_key_unique_per_version"),
            models.CheckConstraint(
                condition=Q(kind__in=[choice for choice, _ in RuleKind.choices]), name="scoring_rule_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"

    def as_engine_rule(self) -> engine.Rule:
        """The rule as the pure engine's dataclass (the one place the stored form is translated)."""
        if self.kind == RuleKind.ATTRIBUTE:
            return engine.AttributeRule(
                key=self.key,
                name=self.name,
                pillar=self.pillar,
                points=self.points,
                condition=engine.Condition(self.field, self.operator, _listify(self.value)),
            )
        if self.kind == RuleKind.DISQUALIFY:
            return engine.DisqualifyRule(
                key=self.key,
                name=self.name,
                condition=engine.Condition(self.field, self.operator, _listify(self.value)),
            )
        if self.kind == RuleKind.BEHAVIOUR:
            return engine.BehaviourRule(
                key=self.key,
                name=self.name,
                pillar=self.pillar,
                event_kind=self.event_kind,
                points=self.points,
                cap=self.cap if self.cap is not None else 100.0,
                half_life_days=self.half_life_days,
                min_count=self.min_count,
                property_name=self.property_name,
                property_value=self.property_value,
            )
        if self.kind == RuleKind.INTENT:
            return engine.IntentRule(
                key=self.key,
                name=self.name,
                pillar=self.pillar or "intent",
                points=self.points,
                min_surge=self.min_surge or 0,
                within_days=self.within_days or 0,
                topics=tuple(self.topics or ()),
            )
        if self.kind == RuleKind.FAST_TRACK:
            return engine.FastTrackRule(
                key=self.key,
                name=self.name,
                event_kind=self.event_kind,
                within_days=self.within_days or 0,
                property_name=self.property_name,
                property_value=self.property_value,
            )
        if self.kind == RuleKind.INACTIVITY:
            return engine.InactivityRule(
                key=self.key, name=self.name, pillar=self.pillar, days=self.days or 0, points=self.points
            )
        raise ValueError(f"unknown rule kind {self.kind}")


def _listify(value):
    return list(value) if isinstance(value, tuple) else value


class LeadAggregate(models.Model):
    """What scoring needs to know about a lead's behaviour, kept up to date as events arrive.

    A rule change is arithmetic over these, not a rescan of events. `behaviour` maps a behaviour rule's matcher
    to [count, decayed sum at `as_of` (epoch seconds), last seen (epoch seconds)]; `intent` maps an intent
    rule's matcher to the last time a matching signal was seen.
    """

    lead = models.OneToOneField("leadops.Lead", primary_key=True, on_delete=models.CASCADE, related_name="aggregate")
    behaviour = models.JSONField(default=dict)
    intent = models.JSONField(default=dict)
    as_of = models.FloatField(default=0.0, help_text="Epoch seconds the decayed sums refer to.")
    last_event_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"aggregates of lead {self.lead_id}"


class PendingRescore(models.Model):
    """A lead whose events or signals changed and whose score has not caught up yet.

    Ingestion adds the lead in the same transaction as its events; a worker claims a batch of pending leads
    (skipping those another worker holds), re-scores them and deletes the entries in one transaction. A worker
    that dies leaves its entries pending, and a lead that gets more events while it waits is re-scored once.
    """

    lead = models.OneToOneField("leadops.Lead", primary_key=True, on_delete=models.CASCADE, related_name="+")
    queued_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"lead {self.lead_id} waiting for its score"


class BorderlineReview(models.Model):
    """A lead whose score sits within the borderline band of its SQL cut-off, waiting for a manager's call."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PROMOTED = "promoted", "Promoted to SQL"
        KEPT = "kept", "Kept as MQL"

    lead = models.ForeignKey("leadops.Lead", on_delete=models.CASCADE, related_name="borderline_reviews")
    version = models.ForeignKey(ScoringModelVersion, on_delete=models.PROTECT, related_name="+")
    score = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["lead"], condition=Q(status="open"), name="scoring_one_open_review_per_lead"
            )
        ]

    def __str__(self) -> str:
        return f"review of lead {self.lead_id} ({self.status})"


class RescoreRun(models.Model):
    """One re-scoring of every lead (activation, nightly decay, command line), split into claimable chunks.

    The run keeps its reference time, so a run that is resumed after a crash computes the same scores.
    """

    class Reason(models.TextChoices):
        ACTIVATION = "activation", "Version activated"
        NIGHTLY = "nightly", "Nightly decay"
        MANUAL = "manual", "Command line"

    version = models.ForeignKey(ScoringModelVersion, on_delete=models.PROTECT, related_name="rescore_runs")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    as_of = models.DateTimeField(help_text="The 'now' every chunk of this run scores with.")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    chunks_total = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"re-score {self.version} ({self.reason}) at {self.as_of:%Y-%m-%d %H:%M}"


class RescoreChunk(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        DONE = "done", "Done"

    run = models.ForeignKey(RescoreRun, on_delete=models.CASCADE, related_name="chunks")
    lo = models.BigIntegerField()
    hi = models.BigIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    scored = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["run", "lo"]
        indexes = [models.Index(fields=["run", "status"], name="rescore_chunk_run_status")]

    def __str__(self) -> str:
        return f"chunk {self.lo}-{self.hi} of run {self.run_id} ({self.status})"


class ImpactPreview(models.Model):
    """What a submitted version would change, computed in the background for marketing and the approver."""

    class Status(models.TextChoices):
        PENDING = "pending", "Being computed"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    version = models.OneToOneField(ScoringModelVersion, on_delete=models.CASCADE, related_name="preview")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_at = models.DateTimeField()
    computed_at = models.DateTimeField(null=True, blank=True)
    as_of = models.DateTimeField(null=True, blank=True)
    results = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"impact of {self.version} ({self.status})"
