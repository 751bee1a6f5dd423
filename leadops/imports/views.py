from django.http import HttpResponse

from leadops.permissions import require_perm


@require_perm("leadops.import_leads")
def lead_import(request):
    # Filled in by the import work (issue 3); kept so the URL map is complete while it is built.
    return HttpResponse("Import page is being built.", status=503)
