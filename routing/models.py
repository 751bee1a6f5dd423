"""Territories, their members, the routing decisions on record and the per-rep monthly counters."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class MemberRole(models.TextChoices):
    SDR = "sdr", "SDR"
    AE = "ae", "Account executive"
    SPECIALIST = "specialist", "Specialist"
    GENERALIST = "generalist", "Generalist"


class Territory(models.Model):
    """Where a lead goes: match criteria (empty list / null = any), the team that works it and its calendar.

    Criteria and calendar are validated by routing.services.territory_save (rules.territory_problems), never by
    save(); the overflow queue belongs to the team's manager.
    """

    name = models.CharField(max_length=100, unique=True)
    priority = models.PositiveIntegerField(help_text="1 is looked at first; overlapping territories are allowed.")
    countries = models.JSONField(default=list, blank=True, help_text='ISO codes, e.g. ["DE", "FR"]')
    regions = models.JSONField(default=list, blank=True, help_text='e.g. ["EMEA"]')
    industries = models.JSONField(default=list, blank=True)
    segments = models.JSONField(default=list, blank=True, help_text='"smb", "mid_market", "enterprise"')
    employees_min = models.PositiveIntegerField(null=True, blank=True)
    employees_max = models.PositiveIntegerField(null=True, blank=True)
    revenue_min = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    revenue_max = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    team = models.ForeignKey("leadops.Team", on_delete=models.PROTECT, related_name="territories")
    calendar = models.JSONField(
        default=dict, blank=True, help_text="time_zone, weekly_hours, holidays_country, holidays"
    )
    active = models.BooleanField(default=True)
    # The set-up version this row was last published in (the set-up pages bump it; decisions record it).
    setup_version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["priority", "name"]
        verbose_name_plural = "territories"
        constraints = [
            models.CheckConstraint(
                condition=Q(employees_min__isnull=True)
                | Q(employees_max__isnull=True)
                | Q(employees_max__gte=models.F("employees_min")),
                name="territory_employee_range_ordered",
            ),
            models.CheckConstraint(
                condition=Q(revenue_min__isnull=True)
                | Q(revenue_max__isnull=True)
                | Q(revenue_max__gte=models.F("revenue_min")),
                name="territory_revenue_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name


def default_monthly_capacity() -> int:
    from leadops.models import RepProfile

    return RepProfile._meta.get_field("monthly_capacity").default


class TerritoryMember(models.Model):
    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="territory_memberships")
    role = models.CharField(max_length=20, choices=MemberRole.choices)
    weight = models.DecimalField(max_digits=5, decimal_places=2, default=1)
    monthly_capacity = models.PositiveSmallIntegerField(default=default_monthly_capacity)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["territory", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "user"], name="territory_member_once"),
            models.CheckConstraint(condition=Q(weight__gt=0), name="territory_member_weight_positive"),
            models.CheckConstraint(
                condition=Q(role__in=[value for value, _ in MemberRole.choices]), name="territory_member_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.territory} ({self.role})"


class RoutingQueue(models.TextChoices):
    NONE = "", "Assigned to a rep"
    NURTURE = "nurture", "Nurture queue"
    OVERFLOW = "overflow", "Overflow queue"
    GENERALIST = "generalist", "Generalist queue"


class DecisionKind(models.TextChoices):
    INITIAL = "initial", "Initial routing"
    REROUTE = "reroute", "Re-routed"
    MANUAL = "manual", "Reassigned by hand"
    HANDOFF = "handoff", "Accepted and handed to an AE"
    RETURNED = "returned", "Returned by the AE to the SDR"


class RoutingDecision(models.Model):
    """Where one lead went and why, in words; one row per routing, re-routing or reassignment."""

    lead = models.ForeignKey("leadops.Lead", on_delete=models.CASCADE, related_name="routing_decisions")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    queue = models.CharField(max_length=20, choices=RoutingQueue.choices, blank=True, default="")
    # Who works the queue (the territory team's manager for overflow); null for nurture or when there is nobody.
    queue_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    territory = models.ForeignKey(Territory, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    path = models.JSONField(default=list, help_text="The steps taken, in words.")
    reason = models.TextField()
    setup_version = models.PositiveIntegerField(default=0)
    decided_at = models.DateTimeField()
    by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    by_system = models.CharField(max_length=100, blank=True, help_text='"routing" when no person acted.')
    kind = models.CharField(max_length=10, choices=DecisionKind.choices, default=DecisionKind.INITIAL)

    class Meta:
        ordering = ["-decided_at", "-id"]
        indexes = [models.Index(fields=["lead", "-decided_at"], name="routing_decision_lead")]
        constraints = [
            # One initial decision per lead: two routers racing on the same lead cannot both record one.
            models.UniqueConstraint(fields=["lead"], condition=Q(kind="initial"), name="routing_one_initial_decision"),
            models.CheckConstraint(
                condition=(Q(assignee__isnull=False) & Q(queue="")) | (Q(assignee__isnull=True) & ~Q(queue="")),
                name="routing_decision_rep_or_queue",
            ),
            models.CheckConstraint(
                condition=Q(by_user__isnull=False) | ~Q(by_system=""), name="routing_decision_has_actor"
            ),
        ]

    def __str__(self) -> str:
        return f"lead {self.lead_id}: {self.assignee or self.get_queue_display()}"

    @property
    def actor_label(self) -> str:
        return self.by_system if self.by_user_id is None else str(self.by_user)


class RepMonthlyLoad(models.Model):
    """How many leads routing gave a rep in a month: the counter a conditional UPDATE keeps under capacity."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="First day of the month.")
    assigned = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "month"], name="rep_monthly_load_once"),
            models.CheckConstraint(condition=Q(month__day=1), name="rep_monthly_load_first_of_month"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.month:%Y-%m}: {self.assigned}"


from routing.models_setup import *  # noqa
