"""Why SQLs are rejected, and each rejection (or AE return) with what the lead looked like at that moment."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class RejectionReason(models.Model):
    """A reason code an SDR picks when rejecting an SQL (admins edit the list). A disqualifying reason sends the lead
    to Disqualified instead of Nurture."""

    code = models.SlugField(max_length=40, unique=True)
    label = models.CharField(max_length=100)
    disqualifies = models.BooleanField(
        default=False, help_text="The lead is disqualified (bad data, student, competitor) instead of nurtured."
    )
    active = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "label"]

    def __str__(self) -> str:
        return self.label


class RejectionKind(models.TextChoices):
    SDR_REJECT = "sdr_reject", "Rejected by the SDR"
    AE_RETURN = "ae_return", "Returned by the AE"


class LeadRejection(models.Model):
    """One rejection of an SQL by its SDR, or one return of an accepted lead by its AE, with the reason code, the
    note and the score, tier and source the lead had then: what the marketing feedback view and the weekly scorecard
    read, so scoring can be fixed where it sends bad leads."""

    lead = models.ForeignKey("leadops.Lead", on_delete=models.CASCADE, related_name="rejections")
    kind = models.CharField(max_length=12, choices=RejectionKind.choices, default=RejectionKind.SDR_REJECT)
    reason = models.ForeignKey(RejectionReason, on_delete=models.PROTECT, related_name="rejections")
    note = models.TextField()
    by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    to_stage = models.CharField(max_length=20, help_text="Where the lead went: nurture, disqualified or back to SQL.")
    score_total = models.PositiveSmallIntegerField(null=True, blank=True)
    score_tier = models.CharField(max_length=20, blank=True)
    source = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["at"], name="rejection_at"),
            models.Index(fields=["lead", "at"], name="rejection_lead_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.reason} ({self.lead_id})"
