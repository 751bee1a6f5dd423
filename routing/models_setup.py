"""The routing set-up as a draft an admin edits while the published one keeps routing, and ownership disputes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

__all__ = ["DisputeOutcome", "DisputeStatus", "OwnershipDispute", "RoutingSetupDraft", "SetupDraftStatus"]


class SetupDraftStatus(models.TextChoices):
    OPEN = "open", "Open"
    PUBLISHED = "published", "Published"
    DISCARDED = "discarded", "Discarded"


class RoutingSetupDraft(models.Model):
    """The territories (criteria, calendar, members) and named-account changes as one JSON document, validated by
    routing.services_setup before it is stored; publishing writes the Territory / TerritoryMember rows at once.

    spec = {"territories": [{"key", "id", "name", "priority", criteria..., "team_id", "calendar", "active",
    "members": [{"user_id", "role", "weight", "monthly_capacity", "active"}]}], "named_accounts": {account id: user id
    or null}}. At most one draft is open at a time.
    """

    status = models.CharField(max_length=10, choices=SetupDraftStatus.choices, default=SetupDraftStatus.OPEN)
    spec = models.JSONField(default=dict)
    based_on_version = models.PositiveIntegerField(default=0, help_text="The published set-up version it copies.")
    published_version = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["status"], condition=Q(status="open"), name="routing_one_open_setup_draft"),
        ]

    def __str__(self) -> str:
        return f"routing set-up draft {self.pk} ({self.status})"


class DisputeStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class DisputeOutcome(models.TextChoices):
    KEEP = "keep", "Kept with the rep"
    MOVE = "move", "Moved to another rep"
    SPLIT = "split", "Credit split"


class OwnershipDispute(models.Model):
    """A rep disputes the assignment of a lead they own; RevOps keeps it, moves it or splits the credit."""

    lead = models.ForeignKey("leadops.Lead", on_delete=models.CASCADE, related_name="ownership_disputes")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.TextField()
    opened_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=DisputeStatus.choices, default=DisputeStatus.OPEN)
    outcome = models.CharField(max_length=10, choices=DisputeOutcome.choices, blank=True)
    resolution_note = models.TextField(blank=True)
    # move: the rep the lead went to; split: the rep who shares the credit with the owner.
    other_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["lead"], condition=Q(status="open"), name="dispute_one_open_per_lead"),
            models.CheckConstraint(
                condition=(Q(status="open") & Q(outcome="") & Q(resolved_at__isnull=True))
                | (Q(status="resolved") & ~Q(outcome="") & Q(resolved_at__isnull=False)),
                name="dispute_resolved_has_outcome",
            ),
        ]

    def __str__(self) -> str:
        return f"dispute {self.pk} on lead {self.lead_id} ({self.status})"
