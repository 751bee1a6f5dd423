"""Forms where a person submits or decides: a version for approval, its approval or rejection, a borderline lead."""

from __future__ import annotations

from django import forms


class SubmitForm(forms.Form):
    change_note = forms.CharField(
        label="Change note",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say what this version changes and why; the approving manager reads it first."},
        help_text="What changes and why. The approving manager reads this first.",
    )


class DecisionForm(forms.Form):
    comment = forms.CharField(
        label="Comment",
        required=False,  # optional to approve; version_reject says when a rejection lacks its reason
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional when approving; required when rejecting, so marketing knows what to fix.",
    )


class BorderlineDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("promote", "Promote to SQL"), ("keep", "Keep as MQL")])
    note = forms.CharField(required=False, max_length=1000)
