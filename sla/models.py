"""Service-level policies, the clocks they run on leads, and the escalation steps taken on breached clocks."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q


class StartEvent(models.TextChoices):
    ASSIGNED = "assigned", "Lead assigned to a rep"
    SQL_ASSIGNED = "sql_assigned", "SQL assigned to an SDR"
    ACCEPTED = "accepted", "Lead accepted (handed to the AE)"
    REJECTED = "rejected", "Lead rejected"
    DISPUTE_OPENED = "dispute_opened", "Ownership dispute opened"


class StopEvent(models.TextChoices):
    FIRST_ACTIVITY = "first_activity", "First activity logged"
    ACCEPTED_OR_REJECTED = "accepted_or_rejected", "Lead accepted or rejected"
    AE_REVIEWED = "ae_reviewed", "AE opened an opportunity or returned the lead"
    RATIONALE_GIVEN = "rationale_given", "Rejected lead moved on (nurture or disqualified)"
    DISPUTE_RESOLVED = "dispute_resolved", "Dispute resolved"


class LadderAction(models.TextChoices):
    NOTIFY_OWNER = "notify_owner", "Notify the owner"
    NOTIFY_MANAGER = "notify_manager", "Notify the owner's manager"
    REASSIGN = "reassign", "Reassign through routing"
    AUTO_ACCEPT = "auto_accept", "Auto-accept the lead"


class SlaPolicy(models.Model):
    """What starts and stops a clock, its target (wall-clock or business time) and its escalation ladder.

    The ladder is a list of steps `{"at": 1.0, "action": "notify_owner"}`: `at` is a multiple of the target (1 =
    at breach, 2 = when twice the target has passed), validated by sla.rules.policy_problems before saving.
    In business time the target counts working time of the lead's territory calendar (2 business days of a
    09:00-17:00 week are 16 hours).
    """

    key = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=120)
    starts_on = models.CharField(max_length=30, choices=StartEvent.choices)
    stops_on = models.CharField(max_length=30, choices=StopEvent.choices)
    target = models.DurationField()
    business_time = models.BooleanField(default=False)
    temperature = models.CharField(
        max_length=10, blank=True, help_text="hot, warm or cold: only leads of that temperature; empty: any."
    )
    hand_raiser = models.BooleanField(default=False, help_text="Only fast-tracked hand-raisers.")
    ladder = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "key"]
        verbose_name_plural = "SLA policies"
        constraints = [
            models.CheckConstraint(condition=Q(target__gt=timedelta(0)), name="sla_policy_target_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class ClockState(models.TextChoices):
    OPEN = "open", "Open"
    MET = "met", "Met"
    BREACHED = "breached", "Breached"
    CANCELLED = "cancelled", "Cancelled"


OPEN_STATES = (ClockState.OPEN, ClockState.BREACHED)  # states the sweep still acts on


class SlaClock(models.Model):
    """One policy's clock on one lead for one owner.

    `escalation_step` counts the steps taken: step 0 is the breach itself, then the policy's ladder in order.
    `next_step_at` is when the next step is due (the due time while open; null once the ladder is done or the
    clock stopped): the sweep's one indexed query reads it, and a step is claimed by a conditional update of
    `escalation_step`, so two sweeps never take the same step.
    """

    lead = models.ForeignKey("leadops.Lead", on_delete=models.CASCADE, related_name="sla_clocks")
    policy = models.ForeignKey(SlaPolicy, on_delete=models.PROTECT, related_name="clocks")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="sla_clocks"
    )
    state = models.CharField(max_length=10, choices=ClockState.choices, default=ClockState.OPEN)
    started_at = models.DateTimeField()
    due_at = models.DateTimeField()
    met_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    escalation_step = models.PositiveSmallIntegerField(default=0)
    next_step_at = models.DateTimeField(null=True, blank=True)
    # While an ownership dispute on the lead is open the owner's clocks stand still: `paused_at` is when they
    # stopped, `remaining` the business (or wall-clock) time that was left to the next step, and `next_step_at` is
    # null so the sweep takes no step. Resuming moves the due time and the steps still to come by the pause.
    paused_at = models.DateTimeField(null=True, blank=True)
    remaining = models.DurationField(null=True, blank=True)
    # The steps as planned when the clock started: [[due ISO time, action], ...], step 0 being the breach; a
    # policy edited later does not move a running clock.
    schedule = models.JSONField(default=list)
    calendar_note = models.CharField(max_length=200, blank=True, help_text="Which calendar the due time came from.")
    outcome = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["due_at", "pk"]
        indexes = [
            models.Index(fields=["state", "due_at"], name="sla_clock_state_due"),
            models.Index(fields=["state", "next_step_at"], name="sla_clock_state_next_step"),
            models.Index(fields=["lead", "state"], name="sla_clock_lead_state"),
            models.Index(fields=["owner", "state", "due_at"], name="sla_clock_owner_state_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=[value for value, _ in ClockState.choices]), name="sla_clock_state_valid"
            ),
            models.CheckConstraint(condition=Q(due_at__gte=models.F("started_at")), name="sla_clock_due_after_start"),
            models.CheckConstraint(
                condition=Q(paused_at__isnull=True) | Q(next_step_at__isnull=True),
                name="sla_clock_paused_takes_no_step",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy} on lead {self.lead_id} ({self.state})"

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None and self.stopped_at is None

    @property
    def remaining_text(self) -> str:
        """'3 h 20 min', '2 d 4 h', '45 min' of what was left when the clock paused; '' when it is not paused."""
        if self.remaining is None:
            return ""
        minutes = int(self.remaining.total_seconds() // 60)
        days, hours, minutes = minutes // 1440, minutes // 60 % 24, minutes % 60
        if days:
            return f"{days} d {hours} h"
        return f"{hours} h {minutes} min" if hours else f"{minutes} min"


class SlaEscalation(models.Model):
    """One step taken on a clock: the breach, a notification, a reassignment or an auto-accept, with what it did."""

    clock = models.ForeignKey(SlaClock, on_delete=models.CASCADE, related_name="escalations")
    step = models.PositiveSmallIntegerField()
    action = models.CharField(max_length=20)
    at = models.DateTimeField()
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["clock", "step"]
        constraints = [models.UniqueConstraint(fields=["clock", "step"], name="sla_escalation_step_once")]

    def __str__(self) -> str:
        return f"clock {self.clock_id} step {self.step}: {self.action}"


class ChangeStatus(models.TextChoices):
    PENDING = "pending", "Waiting for approval"
    APPROVED = "approved", "Approved and applied"
    REJECTED = "rejected", "Rejected"
    SUPERSEDED = "superseded", "Replaced by a later proposal"


class SlaPolicyChange(models.Model):
    """A change that loosens a policy, stored instead of applied until a second person approves it.

    `data` is the whole policy as proposed and `base` the policy as it was when proposed (target in seconds), so
    approving applies exactly the fields the proposal changed and refuses when someone changed those meanwhile.
    `contributors` are everyone who proposed it or a pending change it replaced: none of them may decide it.
    """

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="changes")
    data = models.JSONField()
    base = models.JSONField()
    loosens = models.CharField(max_length=500, help_text="How the change makes the policy less strict, in words.")
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    proposed_at = models.DateTimeField()
    contributors = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="sla_policy_changes")
    replaces = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replaced_by"
    )
    status = models.CharField(max_length=12, choices=ChangeStatus.choices, default=ChangeStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-proposed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy"], condition=Q(status="pending"), name="sla_policy_one_pending_change"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[value for value, _ in ChangeStatus.choices]),
                name="sla_policy_change_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="pending", decided_at__isnull=True)
                | (~Q(status="pending") & Q(decided_at__isnull=False)),
                name="sla_policy_change_decided_when_not_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"change {self.pk} of {self.policy} ({self.status})"

    @property
    def proposed_changes(self) -> list[tuple[str, str, str]]:
        """(field, as it was, as proposed) for each field the proposal changes, in words for the pages."""

        def text(name, value):
            if name == "target":
                return str(timedelta(seconds=value))
            if name == "ladder":
                return "; ".join(f"{step['at']}× {step['action']}" for step in value) or "no steps"
            if isinstance(value, bool):
                return "yes" if value else "no"
            return str(value)

        return [
            (name.replace("_", " "), text(name, self.base.get(name)), text(name, value))
            for name, value in self.data.items()
            if self.base.get(name) != value
        ]
