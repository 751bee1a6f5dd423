"""CSV import of leads from Salesforce and HubSpot exports: the upload page."""

from __future__ import annotations

from django.shortcuts import render

from leadops.imports import services
from leadops.imports.forms import LeadImportForm
from leadops.imports.layouts import LAYOUTS
from leadops.permissions import require_perm


@require_perm("leadops.import_leads")
def lead_import(request):
    result = None
    if request.method == "POST":
        form = LeadImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            result = services.leads_import(
                data=upload.read(),
                file_name=upload.name,
                by=request.user,
                dry_run=form.cleaned_data["dry_run"],
                encoding=form.cleaned_data["encoding"],
            )
            # A fresh form once a file went through: after a real import nothing is sent twice by accident, and
            # after a successful "validate only" the next upload imports for real.
            if result.ok:
                form = LeadImportForm()
    else:
        form = LeadImportForm()
    return render(request, "leadops/imports/lead_import.html", {"form": form, "result": result, "layouts": LAYOUTS})
