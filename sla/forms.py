"""Forms of the SLA pages: they shape input; the checks are sla.rules' and sla.calendars', by field."""

from __future__ import annotations

import json

from django import forms

from routing.models import Territory
from sla.models import LadderAction
from sla.rules import MAX_TARGET


class PolicyForm(forms.Form):
    name = forms.CharField(max_length=120)
    target_minutes = forms.IntegerField(
        max_value=int(MAX_TARGET.total_seconds() // 60),
        label="Target (minutes)",
        help_text="In business time: working minutes of the lead's territory calendar.",
    )
    business_time = forms.BooleanField(required=False, help_text="Count only the territory's working hours.")
    active = forms.BooleanField(required=False)
    ladder = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=4000,
        help_text='JSON steps, e.g. [{"at": 1, "action": "notify_owner"}, {"at": 2, "action": "reassign"}]; "at" '
        "is a multiple of the target. Actions: " + ", ".join(value for value, _ in LadderAction.choices) + ".",
    )

    def clean_ladder(self):
        text = self.cleaned_data["ladder"].strip() or "[]"
        try:
            return json.loads(text)
        except ValueError as problem:
            raise forms.ValidationError(f"This is not JSON: {problem}.") from None
        except RecursionError:
            raise forms.ValidationError("This is not a list of steps: it is nested too deeply.") from None


class PreviewForm(forms.Form):
    """When would a clock started at `start` with `minutes` of business time be due on this calendar?"""

    territory = forms.ModelChoiceField(
        queryset=Territory.objects.order_by("priority", "name"),
        required=False,
        help_text="Its calendar; or write one below.",
    )
    calendar = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        help_text='{"time_zone": "Europe/Berlin", "weekly_hours": {"mon": [["09:00", "17:00"]], ...}, '
        '"holidays_country": "DE", "holidays": ["2026-12-24"]}',
    )
    start = forms.DateTimeField(
        help_text="In UTC, e.g. 2026-12-24 15:00.", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    minutes = forms.IntegerField(min_value=0, max_value=60 * 24 * 365, initial=16 * 60)

    def clean_calendar(self):
        text = self.cleaned_data["calendar"].strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError as problem:
            raise forms.ValidationError(f"This is not JSON: {problem}.") from None

    def clean(self):
        data = super().clean()
        if data.get("territory") is not None and data.get("calendar") is None:
            data["calendar"] = data["territory"].calendar or {}
        elif data.get("calendar") is None and "calendar" not in self.errors:
            self.add_error("calendar", "Choose a territory or write a calendar.")
        return data


class PolicyChangeDecisionForm(forms.Form):
    """Approve or reject a loosening policy change: a note, required to reject (sla.services says so by field)."""

    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=1000,
        label="Note",
        help_text="Why you approve or reject it; required to reject.",
    )
