"""Which lead to try a version on, looked up among the leads the person can see."""

from __future__ import annotations

from django import forms

from leadops import selectors as lead_selectors
from leadops.models import Lead


class TryLeadForm(forms.Form):
    lead = forms.CharField(label="Lead id or e-mail", max_length=254)

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_lead(self) -> Lead:
        query = self.cleaned_data["lead"].strip()
        leads = lead_selectors.lead_list(user=self.user)
        lead = leads.filter(pk=int(query)).first() if query.isdigit() else leads.filter(email=query.lower()).first()
        if lead is None:
            raise forms.ValidationError(f"No lead '{query}' is visible to you; use its id or its e-mail address.")
        return lead
