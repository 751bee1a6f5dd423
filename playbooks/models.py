"""Playbooks as data: versioned qualification templates (BANT, CHAMP) with their criteria and guiding questions per
persona, the objection library with its five-step talk tracks, next-step templates, and the discovery calls AEs log
against a template version (per-criterion answers, objections raised and how they were handled)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class Persona(models.TextChoices):
    IT_DIRECTOR = "it_director", "IT director"
    CFO = "cfo", "CFO"
    OPERATIONS_LEAD = "operations_lead", "Operations lead"
    VP_SALES = "vp_sales", "VP sales"


class QualificationTemplate(models.Model):
    """One version of a qualification framework. Editing makes a new version (the next number, active) and
    deactivates the old one; calls keep pointing at the version they were logged against."""

    key = models.SlugField(max_length=40, help_text="Stable across versions, e.g. bant or champ.")
    name = models.CharField(max_length=100)
    version = models.PositiveIntegerField(default=1)
    active = models.BooleanField(default=True)
    description = models.TextField(blank=True)
    change_note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["key", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="playbooks_template_version_unique"),
            models.UniqueConstraint(
                fields=["key"], condition=Q(active=True), name="playbooks_one_active_version_per_template"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class Criterion(models.Model):
    template = models.ForeignKey(QualificationTemplate, on_delete=models.CASCADE, related_name="criteria")
    key = models.SlugField(max_length=40)
    name = models.CharField(max_length=100)
    description = models.TextField()
    met_means = models.TextField(help_text='What "met" means for this criterion.')
    required = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=0)
    # {"it_director": ["question", ...], "cfo": [...], "operations_lead": [...], "vp_sales": [...]}
    questions = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["template", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["template", "key"], name="playbooks_criterion_key_unique_per_template"),
        ]

    def __str__(self) -> str:
        return self.name

    def questions_for(self, persona: str) -> list[str]:
        return list((self.questions or {}).get(persona, []))


class ObjectionKind(models.TextChoices):
    PRICING = "pricing", "Pricing"
    TIMELINE = "timeline", "Timeline"
    STAKEHOLDER_BUY_IN = "stakeholder_buy_in", "Stakeholder buy-in"
    COMPETITOR_ENTRENCHMENT = "competitor_entrenchment", "Competitor entrenchment"
    OTHER = "other", "Other"


# The five-step pattern for handling an objection, in order: (field stem, label).
HANDLING_STEPS = (
    ("listen", "Listen"),
    ("acknowledge", "Acknowledge"),
    ("clarify", "Clarify"),
    ("respond", "Respond"),
    ("confirm", "Confirm"),
)


class Objection(models.Model):
    """An objection of the library with its talk track, one text per handling step. Edited in place: a call
    records which steps the AE did, not the words of the track."""

    key = models.CharField(max_length=40, choices=ObjectionKind.choices, unique=True)
    name = models.CharField(max_length=100)
    listen = models.TextField()
    acknowledge = models.TextField()
    clarify = models.TextField()
    respond = models.TextField()
    confirm = models.TextField()
    order = models.PositiveSmallIntegerField(default=0)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def talk_track(self) -> list[tuple[str, str, str]]:
        return [(stem, label, getattr(self, stem)) for stem, label in HANDLING_STEPS]


class NextStep(models.TextChoices):
    DEMO = "demo", "Demo"
    PROPOSAL = "proposal", "Proposal"
    POC = "poc", "Proof of concept"
    FOLLOW_UP = "follow_up", "Follow-up call"
    NONE = "none", "None"


class NextStepTemplate(models.Model):
    """Text a rep copies into the follow-up e-mail for a demo, a proposal or a POC."""

    kind = models.CharField(
        max_length=20,
        choices=[(NextStep.DEMO, "Demo"), (NextStep.PROPOSAL, "Proposal"), (NextStep.POC, "Proof of concept")],
        unique=True,
    )
    name = models.CharField(max_length=100)
    body = models.TextField()
    order = models.PositiveSmallIntegerField(default=0)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


class CallOutcome(models.TextChoices):
    QUALIFIED = "qualified", "Qualified"
    NOT_QUALIFIED = "not_qualified", "Not qualified"


class DiscoveryCall(models.Model):
    lead = models.ForeignKey("leadops.Lead", on_delete=models.CASCADE, related_name="discovery_calls")
    ae = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="discovery_calls")
    template = models.ForeignKey(QualificationTemplate, on_delete=models.PROTECT, related_name="calls")
    persona = models.CharField(max_length=20, choices=Persona.choices, blank=True)
    occurred_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField()
    questions_asked = models.PositiveSmallIntegerField()
    questions_list = models.TextField(blank=True, help_text="The questions asked, one a line (optional).")
    decision_maker_present = models.BooleanField(default=False)
    notes = models.TextField(blank=True)
    next_step = models.CharField(max_length=20, choices=NextStep.choices)
    next_step_on = models.DateField(null=True, blank=True)
    next_step_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    next_step_notes = models.TextField(blank=True)
    no_next_step_reason = models.TextField(blank=True)
    outcome = models.CharField(max_length=20, choices=CallOutcome.choices)
    outcome_reason = models.TextField(blank=True)
    missing = models.JSONField(default=list, blank=True, help_text="Keys of the required criteria not met.")
    opportunity = models.ForeignKey(
        "leadops.Opportunity", null=True, blank=True, on_delete=models.SET_NULL, related_name="discovery_calls"
    )
    nurtured_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["lead", "-occurred_at"], name="playbooks_call_lead_idx"),
            models.Index(fields=["ae", "-occurred_at"], name="playbooks_call_ae_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=1, duration_minutes__lte=240), name="playbooks_call_duration_range"
            ),
        ]

    def __str__(self) -> str:
        return f"Discovery call with {self.lead} on {self.occurred_at:%Y-%m-%d}"

    @property
    def qualified(self) -> bool:
        return self.outcome == CallOutcome.QUALIFIED


class CriterionStatus(models.TextChoices):
    MET = "met", "Met"
    PARTIAL = "partial", "Partial"
    NOT_MET = "not_met", "Not met"
    UNKNOWN = "unknown", "Unknown"


class CriterionAnswer(models.Model):
    call = models.ForeignKey(DiscoveryCall, on_delete=models.CASCADE, related_name="answers")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="answers")
    status = models.CharField(max_length=10, choices=CriterionStatus.choices)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["call", "criterion__order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["call", "criterion"], name="playbooks_answer_unique_per_criterion"),
        ]

    def __str__(self) -> str:
        return f"{self.criterion}: {self.get_status_display()}"


class ObjectionRaised(models.Model):
    call = models.ForeignKey(DiscoveryCall, on_delete=models.CASCADE, related_name="objections")
    objection = models.ForeignKey(Objection, on_delete=models.PROTECT, related_name="raised")
    listened = models.BooleanField(default=False)
    acknowledged = models.BooleanField(default=False)
    clarified = models.BooleanField(default=False)
    responded = models.BooleanField(default=False)
    confirmed = models.BooleanField(default=False)
    resolved = models.BooleanField(default=False)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["call", "objection__order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["call", "objection"], name="playbooks_objection_once_per_call"),
        ]

    def __str__(self) -> str:
        return f"{self.objection} ({'resolved' if self.resolved else 'unresolved'})"

    STEP_FIELDS = (
        ("listened", "Listen"),
        ("acknowledged", "Acknowledge"),
        ("clarified", "Clarify"),
        ("responded", "Respond"),
        ("confirmed", "Confirm"),
    )

    @property
    def steps_done(self) -> list[str]:
        return [label for field, label in self.STEP_FIELDS if getattr(self, field)]


# --- coaching targets and next-best-action --------------------------------------------------------------------------


class CoachingTargets(models.Model):
    """The coaching targets of a team (managers edit their team's); the row without a team holds the playbook's
    defaults, used by teams that have not set their own (admins edit it)."""

    team = models.OneToOneField(
        "leadops.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="coaching_targets"
    )
    call_minutes_min = models.PositiveSmallIntegerField(default=20)
    call_minutes_max = models.PositiveSmallIntegerField(default=30)
    questions_min = models.PositiveSmallIntegerField(default=7)
    next_step_pct = models.PositiveSmallIntegerField(default=100)
    decision_maker_pct = models.PositiveSmallIntegerField(default=70)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "coaching targets"
        constraints = [
            models.UniqueConstraint(
                fields=["team"], condition=Q(team__isnull=True), name="playbooks_one_default_coaching_targets"
            ),
            models.CheckConstraint(
                condition=Q(
                    call_minutes_min__gte=1, call_minutes_max__lte=240, call_minutes_min__lte=F("call_minutes_max")
                ),
                name="playbooks_targets_call_length_range",
            ),
            models.CheckConstraint(
                condition=Q(next_step_pct__lte=100, decision_maker_pct__lte=100), name="playbooks_targets_shares_pct"
            ),
        ]

    def __str__(self) -> str:
        return f"Coaching targets of {self.team or 'every team'}"


class CadenceRules(models.Model):
    """Next-best-action rules of a team as a validated document (playbooks.cadence.rules_from_data); the row without
    a team holds the playbook's defaults."""

    team = models.OneToOneField(
        "leadops.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="cadence_rules"
    )
    rules = models.JSONField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "cadence rules"
        constraints = [
            models.UniqueConstraint(
                fields=["team"], condition=Q(team__isnull=True), name="playbooks_one_default_cadence_rules"
            ),
        ]

    def __str__(self) -> str:
        return f"Cadence rules of {self.team or 'every team'}"


class NextActionKind(models.TextChoices):
    CALL = "call", "Call"
    EMAIL = "email", "E-mail"
    LINKEDIN = "linkedin", "LinkedIn touch"
    CONTENT = "content", "Content"
    RESCORE = "rescore", "Re-score"


class NextActionState(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class NextAction(models.Model):
    """A touch a rep owes a lead, created by the cadence sweep: one step of the lead's sequence for its current
    stage (`sequence_started_at` is when the lead entered the stage)."""

    lead = models.ForeignKey("leadops.Lead", on_delete=models.CASCADE, related_name="next_actions")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="next_actions")
    sequence_started_at = models.DateTimeField()
    step_key = models.CharField(max_length=80, help_text="Band, step number and kind, e.g. warm:1:linkedin.")
    kind = models.CharField(max_length=10, choices=NextActionKind.choices)
    label = models.CharField(max_length=120)
    due_at = models.DateTimeField()
    reason = models.TextField()
    state = models.CharField(max_length=10, choices=NextActionState.choices, default=NextActionState.OPEN)
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["owner", "state", "due_at"], name="playbooks_action_owner_due"),
            models.Index(fields=["lead", "state"], name="playbooks_action_lead_state"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["lead", "step_key"], condition=Q(state="open"), name="playbooks_one_open_action_per_step"
            ),
            models.UniqueConstraint(
                fields=["lead", "sequence_started_at", "step_key"], name="playbooks_action_step_once_per_sequence"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["call", "email", "linkedin", "content", "rescore"]),
                name="playbooks_action_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["open", "done", "cancelled"]), name="playbooks_action_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.lead_id}, due {self.due_at:%Y-%m-%d %H:%M})"


class SequenceEnd(models.Model):
    """A lead's sequence for its current stage is over (stopped by a reply, a meeting or the stage changing, or every
    step taken): the sweep passes the lead by until it enters another stage."""

    lead = models.ForeignKey("leadops.Lead", on_delete=models.CASCADE, related_name="sequence_ends")
    sequence_started_at = models.DateTimeField()
    reason = models.CharField(max_length=300)
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["lead", "sequence_started_at"], name="playbooks_sequence_ends_once"),
        ]

    def __str__(self) -> str:
        return f"Sequence of lead {self.lead_id} ended: {self.reason}"
