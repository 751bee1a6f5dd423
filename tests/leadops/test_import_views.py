"""The lead import page: who may use it, and what it shows after an upload."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from leadops.models import AuditEntry, Lead
from tests.factories import LeadFactory
from tests.leadops.test_import import ada, hubspot_csv, salesforce_csv

pytestmark = pytest.mark.sqlite

URL = reverse("lead_import")


def upload(client, data: bytes, name="leads.csv", **fields):
    return client.post(URL, {"file": SimpleUploadedFile(name, data, content_type="text/csv"), **fields})


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", ["sdr", "ae", "manager", "outsider"])
def test_roles_without_the_import_permission_are_refused(client, cast, role):
    client.force_login(cast[role])
    assert client.get(URL).status_code == 403
    assert upload(client, salesforce_csv(ada())).status_code == 403
    assert Lead.objects.count() == 0


@pytest.mark.parametrize("role", ["admin", "marketer"])
def test_page_lists_the_supported_layouts_and_required_columns(client, cast, role):
    client.force_login(cast[role])
    response = client.get(URL)
    assert response.status_code == 200
    help_text = response.content.decode()
    assert "Salesforce lead export" in help_text and "HubSpot contacts export" in help_text
    assert "<code>Email</code>" in help_text
    assert 'enctype="multipart/form-data"' in help_text


def test_admin_upload_imports_and_shows_the_summary(client, admin_user):
    client.force_login(admin_user)
    response = upload(client, hubspot_csv({"Email": "linus@initech.io", "Company Name": "Initech"}), name="hubspot.csv")

    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="import-summary"' in page
    assert "Imported hubspot.csv" in page
    assert "HubSpot contacts export" in page
    result = response.context["result"]
    assert (result.created, result.updated, result.accounts_created) == (1, 0, 1)
    assert Lead.objects.filter(email="linus@initech.io").exists()
    assert AuditEntry.objects.get(action="lead.import").actor == admin_user


def test_validate_only_writes_nothing(client, admin_user):
    client.force_login(admin_user)
    response = upload(client, salesforce_csv(ada()), dry_run="on")
    assert "is valid: nothing was written" in response.content.decode()
    assert response.context["result"].created == 1
    assert not response.context["form"].is_bound  # the box is clear again, so the next upload imports for real
    assert Lead.objects.count() == 0


def test_bad_file_shows_every_bad_row_and_imports_nothing(client, admin_user):
    client.force_login(admin_user)
    response = upload(
        client, salesforce_csv(ada(), ada(Email="not-an-address"), ada(Email="kim@acme.com", NumberOfEmployees="-5"))
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "Nothing was imported from leads.csv" in page
    assert "2 of 3 rows have problems" in page
    assert "&#x27;not-an-address&#x27; is not an e-mail address" in page
    assert "NumberOfEmployees must be a whole number &gt;= 0, got &#x27;-5&#x27;" in page
    assert [(error.line, error.column) for error in response.context["result"].errors] == [
        (3, "Email"),
        (4, "NumberOfEmployees"),
    ]
    assert Lead.objects.count() == 0


def test_unrecognised_file_explains_what_is_supported(client, admin_user):
    client.force_login(admin_user)
    response = upload(client, b"Name,Phone\nAda,123\n")
    page = response.content.decode()
    assert "Nothing was imported" in page
    assert "Salesforce lead export: missing Email" in page


def test_file_over_the_size_limit_is_refused_with_the_limit(client, admin_user, settings):
    settings.LEADOPS_IMPORT_MAX_BYTES = 2048
    client.force_login(admin_user)
    response = upload(client, salesforce_csv(*[ada(Email=f"lead{n}@acme.com") for n in range(20)]))
    page = response.content.decode()
    assert "the largest file the page takes is 2.0\xa0KB" in page
    assert response.context["result"] is None
    assert Lead.objects.count() == 0


def test_page_without_a_file_asks_for_one(client, admin_user):
    client.force_login(admin_user)
    response = client.post(URL, {})
    assert "This field is required." in response.content.decode()


def test_a_header_longer_than_the_csv_field_limit_is_reported_not_a_server_error(client, admin_user):
    client.force_login(admin_user)
    response = upload(client, b"Email," + b"x" * 140_000 + b"\na@acme.com,1\n")
    assert response.status_code == 200
    assert "Line 1: a field is longer than 131,072 characters" in response.content.decode()
    assert Lead.objects.count() == 0


def test_windows_1252_file_is_refused_unless_the_encoding_is_chosen(client, admin_user):
    client.force_login(admin_user)
    data = salesforce_csv(ada(FirstName="Renée", Title="Owner’s assistant"), encoding="cp1252")

    page = upload(client, data).content.decode()
    assert "The file is not UTF-8: line 2" in page
    assert Lead.objects.count() == 0

    response = upload(client, data, encoding="windows-1252")
    assert response.context["result"].encoding == "Windows-1252"
    assert Lead.objects.get().first_name == "Renée"


def test_page_offers_the_encodings_it_reads_only_when_chosen(client, admin_user):
    client.force_login(admin_user)
    page = client.get(URL).content.decode()
    assert '<option value="windows-1252">' in page
    assert '<option value="auto" selected>' in page


def test_result_links_to_the_leads_created_and_updated(client, admin_user):
    existing = LeadFactory(email="ada@acme.com", title="Engineer")
    client.force_login(admin_user)
    response = upload(client, salesforce_csv(ada(), ada(Email="grace@acme.com", FirstName="Grace", LastName="Hopper")))

    page = response.content.decode()
    grace = Lead.objects.get(email="grace@acme.com")
    assert f'href="/leads/{grace.pk}/"' in page
    assert f'href="/leads/{existing.pk}/"' in page
    assert 'data-testid="import-created-leads"' in page and 'data-testid="import-updated-leads"' in page
    assert "Grace Hopper" in page


def test_result_lists_the_rows_merged_into_an_earlier_one(client, admin_user):
    client.force_login(admin_user)
    response = upload(client, salesforce_csv(ada(), ada(Email="grace@acme.com"), ada(Email="ADA@acme.com")))
    page = response.content.decode()
    assert "1 row repeated the e-mail of an earlier row and was merged into it" in page
    assert "ada@acme.com" in page and "lines 2, 4" in page
    assert Lead.objects.count() == 2
