"""The core records every LeadOps app shares: accounts, leads, their behaviour and outcomes, people, audit."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Lower

from leadops import rules
from leadops.rules import Department, ScoreTier, Segment, Seniority, Stage, stage_versus_tier


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"'{value}' is not a time zone name such as Europe/Berlin or America/New_York.")


class Team(models.Model):
    """A sales team in one territory (North America, EMEA, APAC, ...) with its manager."""

    name = models.CharField(max_length=100, unique=True)
    region = models.CharField(max_length=100, blank=True, help_text="Territory the team covers, e.g. EMEA.")
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="managed_teams"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RepProfile(models.Model):
    """What LeadOps needs to know about a person who works leads (roles themselves are auth groups)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members")
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="direct_reports"
    )
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    out_of_office_from = models.DateField(null=True, blank=True)
    out_of_office_until = models.DateField(null=True, blank=True)
    monthly_capacity = models.PositiveSmallIntegerField(
        default=80, help_text="SQLs this rep can take per month (benchmark 50-100)."
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(out_of_office_from__isnull=True)
                | Q(out_of_office_until__isnull=True)
                | Q(out_of_office_until__gte=F("out_of_office_from")),
                name="rep_out_of_office_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.team or 'no team'})"

    def is_out_of_office(self, on_date) -> bool:
        if self.out_of_office_from is None:
            return False
        return self.out_of_office_from <= on_date and (
            self.out_of_office_until is None or on_date <= self.out_of_office_until
        )


# Segment stored as a database-generated column so it can never disagree with the size fields it comes from;
# the bands are documented in leadops.rules.segment_for, which this expression mirrors.
_SEGMENT_EXPRESSION = Case(
    When(employees__gte=rules.ENTERPRISE_MIN_EMPLOYEES, then=Value(Segment.ENTERPRISE)),
    When(employees__gte=rules.MID_MARKET_MIN_EMPLOYEES, then=Value(Segment.MID_MARKET)),
    When(employees__isnull=False, then=Value(Segment.SMB)),
    When(annual_revenue__gte=rules.ENTERPRISE_MIN_REVENUE, then=Value(Segment.ENTERPRISE)),
    When(annual_revenue__gte=rules.MID_MARKET_MIN_REVENUE, then=Value(Segment.MID_MARKET)),
    default=Value(Segment.SMB),
)


class Account(models.Model):
    name = models.CharField(max_length=255)
    domain = models.CharField(max_length=255, blank=True, help_text="Company web domain, lower case, e.g. acme.com.")
    industry = models.CharField(max_length=100, blank=True)
    employees = models.PositiveIntegerField(null=True, blank=True)
    annual_revenue = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    country = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    segment = models.GeneratedField(
        expression=_SEGMENT_EXPRESSION,
        output_field=models.CharField(max_length=20, choices=Segment.CHOICES),
        db_persist=True,
    )
    named_account_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="named_accounts"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["domain"], condition=~Q(domain=""), name="account_domain_unique"),
            models.CheckConstraint(condition=Q(domain=Lower("domain")), name="account_domain_lower_case"),
            models.CheckConstraint(
                condition=Q(annual_revenue__isnull=True) | Q(annual_revenue__gte=0), name="account_revenue_not_negative"
            ),
        ]
        indexes = [models.Index(Lower("name"), name="account_name_ci")]

    def __str__(self) -> str:
        return self.name

    @property
    def segment_label(self) -> str:
        # A generated column gets no get_segment_display(); the label comes from the same choices.
        return Segment.LABELS.get(self.segment, Segment.LABELS[Segment.SMB])


class LeadSource:
    CHOICES = [
        ("web", "Website"),
        ("organic_search", "Organic search"),
        ("paid_search", "Paid search"),
        ("social", "Social"),
        ("email", "E-mail campaign"),
        ("webinar", "Webinar"),
        ("event", "Event / trade show"),
        ("content", "Content syndication"),
        ("referral", "Referral"),
        ("partner", "Partner"),
        ("outbound", "Outbound prospecting"),
        ("list_import", "List import"),
        ("other", "Other"),
    ]
    ALL = [value for value, _ in CHOICES]


class Temperature:
    HOT = "hot"
    WARM = "warm"
    COLD = "cold"
    CHOICES = [(HOT, "Hot"), (WARM, "Warm"), (COLD, "Cold")]


class Lead(models.Model):
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    # Stored lower case (a check constraint holds it) so that uniqueness is case-insensitive and import can upsert.
    email = models.EmailField(max_length=254, unique=True)
    phone = models.CharField(max_length=50, blank=True)
    title = models.CharField(max_length=200, blank=True)
    seniority = models.CharField(max_length=20, choices=Seniority.CHOICES, default=Seniority.UNKNOWN)
    department = models.CharField(max_length=20, choices=Department.CHOICES, default="other")
    country = models.CharField(max_length=100, blank=True)
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.PROTECT, related_name="leads")
    source = models.CharField(max_length=20, choices=LeadSource.CHOICES, default="other")
    source_detail = models.CharField(max_length=200, blank=True, help_text="Campaign or original source label.")
    external_id = models.CharField(max_length=64, blank=True, help_text="Id in the CRM it was imported from.")
    email_consent = models.BooleanField(default=False)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    stage = models.CharField(max_length=20, choices=Stage.CHOICES, default=Stage.NEW)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_leads"
    )

    # The SDR who accepted the SQL and handed it to the AE who now owns it (the AE may return it to them).
    sdr = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="handed_over_leads"
    )

    # Scores (filled by the scoring app): four pillars 0-100 and their weighted total.
    score_fit = models.PositiveSmallIntegerField(null=True, blank=True)
    score_engagement = models.PositiveSmallIntegerField(null=True, blank=True)
    score_intent = models.PositiveSmallIntegerField(null=True, blank=True)
    score_buying = models.PositiveSmallIntegerField(null=True, blank=True)
    score_total = models.PositiveSmallIntegerField(null=True, blank=True)
    temperature = models.CharField(max_length=10, choices=Temperature.CHOICES, blank=True)
    score_tier = models.CharField(max_length=20, blank=True, choices=ScoreTier.CHOICES)
    # The fast-track (hand-raiser) rule that made the last score an SQL, '' when none did.
    score_fast_track = models.CharField(max_length=120, blank=True)
    scored_at = models.DateTimeField(null=True, blank=True)
    # No index: re-scoring rewrites this on every lead, and without an index PostgreSQL can do it as a HOT update
    # (no index maintenance) whenever the score itself did not change.
    score_version = models.ForeignKey(
        "scoring.ScoringModelVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )

    # Stage timestamps: the KPIs and SLA clocks are computed from these.
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    stage_changed_at = models.DateTimeField()
    lead_at = models.DateTimeField(null=True, blank=True)
    mql_at = models.DateTimeField(null=True, blank=True)
    sql_at = models.DateTimeField(null=True, blank=True)
    # Set when a hand-raiser signal (demo request, contact-sales form, RFP) fast-tracked the lead to SQL: the SLA
    # gives these the tighter follow-up clock.
    fast_tracked_at = models.DateTimeField(null=True, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    # When the AE took the accepted lead on as a sales-accepted lead (SAL), within their review window.
    sal_at = models.DateTimeField(null=True, blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)
    opportunity_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    nurture_at = models.DateTimeField(null=True, blank=True)
    disqualified_at = models.DateTimeField(null=True, blank=True)
    first_activity_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(stage__in=Stage.ALL), name="lead_stage_valid"),
            models.CheckConstraint(condition=Q(email=Lower("email")), name="lead_email_lower_case"),
            models.CheckConstraint(condition=~Q(email=""), name="lead_email_present"),
            models.CheckConstraint(condition=Q(source__in=LeadSource.ALL), name="lead_source_valid"),
            models.CheckConstraint(
                condition=Q(score_total__isnull=True) | Q(score_total__lte=100), name="lead_score_total_0_100"
            ),
        ]
        indexes = [
            # The SDR queue: my leads in a stage, best score first.
            models.Index(fields=["owner", "stage", "-score_total"], name="lead_queue"),
            models.Index(fields=["stage", "stage_changed_at"], name="lead_stage_age"),
            models.Index(fields=["account"], name="lead_account"),
            models.Index(fields=["sql_at"], name="lead_sql_at"),
        ]
        permissions = [
            ("work_lead_queue", "Can work a lead queue and log activities"),
            ("accept_sql", "Can accept or reject SQLs"),
            ("log_discovery_call", "Can log discovery calls"),
            ("edit_scoring_rules", "Can edit scoring rules and submit them for approval"),
            ("approve_scoring_rules", "Can approve or reject scoring rule changes"),
            ("view_team_leads", "Can see the leads of the teams one manages"),
            ("view_all_leads", "Can see every lead"),
            ("review_borderline", "Can review borderline leads and disputes"),
            ("view_scorecards", "Can read governance scorecards"),
            ("configure_territories", "Can configure territories, reps, capacities and SLA policies"),
            ("import_leads", "Can import leads from CSV"),
            ("view_audit_log", "Can read the audit log"),
            ("ingest_events", "Can send behaviour events and intent signals"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def stage_note(self) -> str:
        """Why the stage and the score tier differ, in words ('' when they agree)."""
        return stage_versus_tier(stage=self.stage, tier=self.score_tier)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def stage_label(self) -> str:
        return Stage.LABELS[self.stage]


class StageTransition(models.Model):
    """One lifecycle move: from, to, who or what, why, when."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="transitions")
    from_stage = models.CharField(max_length=20, choices=Stage.CHOICES)
    to_stage = models.CharField(max_length=20, choices=Stage.CHOICES)
    by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    by_system = models.CharField(max_length=200, blank=True, help_text="Task or rule version when no person acted.")
    reason = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["lead", "at"], name="transition_lead_time")]
        constraints = [
            models.CheckConstraint(
                condition=Q(from_stage__in=Stage.ALL) & Q(to_stage__in=Stage.ALL), name="transition_stages_valid"
            ),
            models.CheckConstraint(condition=Q(by_user__isnull=False) | ~Q(by_system=""), name="transition_has_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.from_stage} -> {self.to_stage}"

    @property
    def actor_label(self) -> str:
        return self.by_system if self.by_user_id is None else str(self.by_user)


class EventKind:
    CHOICES = [
        ("page_view", "Page view"),
        ("pricing_page_visit", "Pricing page visit"),
        ("demo_request", "Demo request"),
        ("email_open", "E-mail open"),
        ("email_click", "E-mail click"),
        ("content_download", "Content download"),
        ("webinar_attended", "Webinar attended"),
        ("trial_started", "Trial started"),
        ("rfp_submitted", "RFP submitted"),
        ("competitor_comparison_download", "Competitor comparison download"),
        ("form_submitted", "Form submitted"),
        ("unsubscribed", "Unsubscribed"),
    ]
    ALL = [value for value, _ in CHOICES]


class LeadEvent(models.Model):
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=40, choices=EventKind.CHOICES)
    occurred_at = models.DateTimeField()
    properties = models.JSONField(default=dict, blank=True, help_text="e.g. page path, webinar minutes, asset name.")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["lead", "occurred_at"], name="event_lead_time")]
        constraints = [models.CheckConstraint(condition=Q(kind__in=EventKind.ALL), name="event_kind_valid")]

    def __str__(self) -> str:
        return f"{self.kind} @ {self.occurred_at:%Y-%m-%d}"


class IntentSignal(models.Model):
    """Third-party intent (surge) on a topic, observed for an account and, when resolved, a lead."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="intent_signals")
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="intent_signals")
    topic = models.CharField(max_length=100)
    surge_score = models.PositiveSmallIntegerField()
    source = models.CharField(max_length=100, help_text="Provider, e.g. Bombora or G2.")
    observed_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["account", "observed_at"], name="intent_account_time"),
            models.Index(fields=["lead", "observed_at"], name="intent_lead_time"),
        ]
        constraints = [models.CheckConstraint(condition=Q(surge_score__lte=100), name="intent_surge_0_100")]

    def __str__(self) -> str:
        return f"{self.topic} {self.surge_score}"


class Activity(models.Model):
    class Kind(models.TextChoices):
        CALL = "call", "Call"
        EMAIL = "email", "E-mail"
        MEETING = "meeting", "Meeting"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="activities")
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="activities")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    occurred_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        verbose_name_plural = "activities"
        indexes = [
            models.Index(fields=["lead", "occurred_at"], name="activity_lead_time"),
            models.Index(fields=["rep", "occurred_at"], name="activity_rep_time"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["call", "email", "meeting"]), name="activity_kind_valid")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.rep} on {self.occurred_at:%Y-%m-%d}"


class Opportunity(models.Model):
    class Stage(models.TextChoices):
        DISCOVERY = "discovery", "Discovery"
        PROPOSAL = "proposal", "Proposal"
        NEGOTIATION = "negotiation", "Negotiation"
        WON = "won", "Closed won"
        LOST = "lost", "Closed lost"

    OPEN_STAGES = ("discovery", "proposal", "negotiation")

    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="opportunities")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="opportunities")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="opportunities"
    )
    name = models.CharField(max_length=200)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.DISCOVERY)
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    expected_close = models.DateField(null=True, blank=True, help_text="When the AE expects the deal to close.")
    loss_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name_plural = "opportunities"
        indexes = [
            models.Index(fields=["owner", "stage"], name="opportunity_owner_stage"),
            models.Index(fields=["closed_at"], name="opportunity_closed_at"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="opportunity_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(stage__in=["discovery", "proposal", "negotiation", "won", "lost"]),
                name="opportunity_stage_valid",
            ),
            # Closed means won or lost, and only those have a close date.
            models.CheckConstraint(
                condition=(Q(stage__in=["won", "lost"]) & Q(closed_at__isnull=False))
                | (Q(stage__in=["discovery", "proposal", "negotiation"]) & Q(closed_at__isnull=True)),
                name="opportunity_closed_iff_won_or_lost",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_won(self) -> bool:
        return self.stage == self.Stage.WON


class AuditEntry(models.Model):
    """Who did what to which record, when and why. Written by services only; read by admins."""

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, help_text="User name, or the task / rule version that acted.")
    action = models.CharField(max_length=100, help_text="e.g. lead.transition, lead.import")
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    reason = models.TextField(blank=True)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["object_type", "object_id", "at"], name="audit_object"),
            models.Index(fields=["action", "at"], name="audit_action"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"


class Notification(models.Model):
    """Something a person should know about (a lead assigned to them, a breached SLA, a decision): shown in the
    notification centre and, unless they muted its kind, e-mailed. Written by leadops.notifications only."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=64)
    message = models.TextField()
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    link = models.CharField(max_length=500, blank=True, help_text="Where the notification leads, e.g. /leads/42/.")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    dedupe_key = models.CharField(
        max_length=200, blank=True, help_text="Set by callers that may run twice: one notification per key and person."
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_inbox"),
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"], condition=~Q(dedupe_key=""), name="notification_dedupe_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}: {self.message[:60]}"

    @property
    def is_unread(self) -> bool:
        return self.read_at is None


class NotificationPreference(models.Model):
    """A person's choice for one kind of notification; no row means the kind's default."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_prefs")
    kind = models.CharField(max_length=64)
    email = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notification_pref_user_kind")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} e-mail={'on' if self.email else 'off'}"
