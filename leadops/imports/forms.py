"""The upload form of the lead import page: a file, its encoding if LeadOps cannot tell it, whether to only check."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from leadops.imports.parsing import AUTO_ENCODING, ENCODING_CHOICES, ENCODINGS_READ_BY_THEMSELVES


class LeadImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="A Salesforce lead export or a HubSpot contacts export, as the CRM saved it.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv,text/plain"}),
    )
    encoding = forms.ChoiceField(
        label="Encoding",
        choices=ENCODING_CHOICES,
        initial=AUTO_ENCODING,
        required=False,
        help_text=(
            f"LeadOps recognises {ENCODINGS_READ_BY_THEMSELVES} by itself and refuses other files rather than guess. "
            f"Choose another encoding only if you know the file was saved in it."
        ),
    )
    dry_run = forms.BooleanField(
        label="Validate only: check every row and show what would change, but import nothing",
        required=False,
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.LEADOPS_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"The file is {filesizeformat(upload.size)}; the largest file the page takes is "
                f"{filesizeformat(limit)}. Split it into smaller files, or ask an admin to run "
                f"'manage.py import_leads' on the server."
            )
        return upload

    def clean_encoding(self):
        return self.cleaned_data["encoding"] or AUTO_ENCODING
