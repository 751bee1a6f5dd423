"""Importing leads from Salesforce and HubSpot CSV exports: what gets written, and that bad files write nothing."""

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from leadops.imports.parsing import RowError
from leadops.imports.services import leads_import
from leadops.models import Account, AuditEntry, Lead
from leadops.rules import Stage
from scoring.models import PendingRescore
from scoring.services import pending
from tests.factories import AccountFactory, LeadFactory

pytestmark = pytest.mark.sqlite

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)

# Excerpts of the real header lines, in their order (Salesforce lead export, HubSpot contacts export).
SALESFORCE_COLUMNS = next(
    csv.reader(
        [
            '"Id","IsDeleted","Salutation","FirstName","LastName","Title","Company","City","Country","Phone",'
            '"MobilePhone","Email","Website","LeadSource","Status","Industry","AnnualRevenue","NumberOfEmployees",'
            '"OwnerId","HasOptedOutOfEmail","IsConverted","CreatedDate"'
        ]
    )
)
HUBSPOT_COLUMNS = next(
    csv.reader(
        [
            '"Record ID","First Name","Last Name","Annual Revenue","City","Company Name","Contact owner",'
            '"Country/Region","Create Date","Email","Industry","Job Title","Lead Status","Lifecycle Stage",'
            '"Number of Employees","Original Source","Phone Number","Unsubscribed from all email","Website URL"'
        ]
    )
)


def csv_bytes(columns, rows, *, encoding="utf-8", delimiter=",", line_end="\r\n") -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=columns, delimiter=delimiter, lineterminator=line_end, quoting=csv.QUOTE_ALL
    )
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def salesforce_csv(*rows, **options) -> bytes:
    return csv_bytes(SALESFORCE_COLUMNS, rows, **options)


def hubspot_csv(*rows, **options) -> bytes:
    return csv_bytes(HUBSPOT_COLUMNS, rows, **options)


def ada(**overrides) -> dict:
    """A complete, valid Salesforce row."""
    return {
        "Id": "00Q5e00000AbCdE",
        "IsDeleted": "false",
        "FirstName": "Ada",
        "LastName": "Lovelace",
        "Title": "VP Engineering",
        "Company": "Acme",
        "Country": "Germany",
        "Phone": "+49 30 1234567",
        "Email": "Ada@Acme.com",
        "Website": "https://www.acme.com",
        "LeadSource": "Trade Show",
        "Status": "Open - Not Contacted",
        "Industry": "Software",
        "AnnualRevenue": "25000000",
        "NumberOfEmployees": "250",
        "HasOptedOutOfEmail": "false",
        "IsConverted": "false",
        "CreatedDate": "2024-01-05T10:00:00.000+0000",
        **overrides,
    }


def run(data: bytes, *, by="test", **options):
    return leads_import(data=data, file_name="leads.csv", by=by, now=NOW, **options)


def assert_nothing_written():
    assert Lead.objects.count() == 0
    assert Account.objects.count() == 0
    assert not AuditEntry.objects.filter(action="lead.import").exists()


# --- good files -------------------------------------------------------------------------------------------------


def test_salesforce_export_creates_leads_and_their_account(db):
    grace = ada(
        Id="00Q2", FirstName="Grace", LastName="Hopper", Title="Chief Executive Officer", Email="grace@acme.com"
    )
    result = run(salesforce_csv(ada(), grace))

    assert result.ok, result.errors
    assert (result.layout.key, result.created, result.updated, result.accounts_created) == ("salesforce", 2, 0, 1)
    lead = Lead.objects.get(email="ada@acme.com")
    assert (lead.first_name, lead.last_name, lead.phone, lead.country) == (
        "Ada",
        "Lovelace",
        "+49 30 1234567",
        "Germany",
    )
    assert (lead.title, lead.seniority, lead.department) == ("VP Engineering", "vp", "engineering")
    assert (lead.source, lead.source_detail, lead.external_id) == ("event", "Trade Show", "00Q5e00000AbCdE")
    assert lead.email_consent is True and lead.unsubscribed_at is None
    assert lead.stage == Stage.NEW
    assert lead.created_at == lead.stage_changed_at == datetime(2024, 1, 5, 10, 0, tzinfo=UTC)
    account = lead.account
    assert (account.name, account.domain, account.industry, account.country) == (
        "Acme",
        "acme.com",
        "Software",
        "Germany",
    )
    assert (account.employees, account.annual_revenue, account.segment) == (250, Decimal("25000000.00"), "mid_market")
    assert Lead.objects.get(email="grace@acme.com").account == account


def test_hubspot_export_creates_leads(db):
    rows = [
        {
            "Record ID": "51",
            "First Name": "Linus",
            "Last Name": "Torvalds",
            "Company Name": "Initech",
            "Country/Region": "Finland",
            "Create Date": "2024-03-01 09:30",
            "Email": "linus@initech.io",
            "Industry": "Computer Software",
            "Job Title": "Director of IT",
            "Lifecycle Stage": "lead",
            "Number of Employees": "1000+",
            "Original Source": "ORGANIC_SEARCH",
            "Phone Number": "555-0100",
            "Unsubscribed from all email": "true",
        },
        {"Record ID": "52", "Email": "kim@initech.io", "Original Source": "Billboard", "Company Name": "Initech"},
    ]
    result = run(hubspot_csv(*rows))

    assert result.ok, result.errors
    assert (result.layout.key, result.created, result.accounts_created) == ("hubspot", 2, 1)
    linus = Lead.objects.get(email="linus@initech.io")
    assert (linus.first_name, linus.title, linus.seniority, linus.department) == (
        "Linus",
        "Director of IT",
        "director",
        "it",
    )
    assert (linus.source, linus.external_id, linus.country) == ("organic_search", "51", "Finland")
    assert linus.email_consent is False and linus.unsubscribed_at == NOW
    assert linus.created_at == datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
    assert (linus.account.domain, linus.account.employees, linus.account.segment) == ("initech.io", 1000, "enterprise")
    kim = Lead.objects.get(email="kim@initech.io")
    assert (kim.source, kim.source_detail) == ("other", "Billboard")
    assert kim.email_consent is False  # the file says nothing about her consent
    assert kim.created_at == kim.stage_changed_at == NOW


def test_import_is_written_to_the_audit_log(db, admin_user):
    run(salesforce_csv(ada()), by=admin_user)
    entry = AuditEntry.objects.get(action="lead.import")
    assert entry.actor == admin_user
    assert entry.changes["file"] == "leads.csv"
    assert entry.changes["layout"] == "salesforce"
    assert (entry.changes["created"], entry.changes["updated"], entry.changes["accounts_created"]) == (1, 0, 1)


def test_dry_run_counts_but_writes_nothing(db):
    result = run(salesforce_csv(ada(), ada(Email="grace@acme.com")), dry_run=True)
    assert result.ok
    assert (result.created, result.accounts_created) == (2, 1)
    assert_nothing_written()


def test_semicolon_separated_file_with_blank_lines(db):
    data = salesforce_csv(ada(), delimiter=";").replace(b"\r\n", b"\r\n\r\n", 1)
    result = run(data)
    assert result.ok, result.errors
    assert Lead.objects.filter(email="ada@acme.com").exists()


def test_unknown_columns_are_ignored_and_missing_ones_are_blank(db):
    data = b"Email,Favourite Colour,LastName\nada@acme.com,teal,Lovelace\n"
    result = run(data)
    assert result.ok
    lead = Lead.objects.get()
    assert (lead.last_name, lead.first_name, lead.source) == ("Lovelace", "", "other")


# --- bad rows ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "column, value, reason",
    [
        ("Email", "abc", "'abc' is not an e-mail address"),
        ("Email", "", "the e-mail address is missing; every lead needs one"),
        ("NumberOfEmployees", "-5", "NumberOfEmployees must be a whole number >= 0, got '-5'"),
        ("NumberOfEmployees", "many", "NumberOfEmployees must be a whole number >= 0, got 'many'"),
        ("AnnualRevenue", "-100", "AnnualRevenue must be an amount >= 0 such as 2500000 or 2,500,000.00, got '-100'"),
        ("AnnualRevenue", "10M", "AnnualRevenue must be an amount >= 0 such as 2500000 or 2,500,000.00, got '10M'"),
        ("Title", "x" * 201, "Title is 201 characters long; at most 200 fit"),
        ("Website", "ask sales", "'ask sales' is not a web address such as acme.com"),
        ("HasOptedOutOfEmail", "maybe", "HasOptedOutOfEmail must be true or false, got 'maybe'"),
    ],
)
def test_bad_row_is_reported_with_line_column_and_reason_and_nothing_is_written(db, column, value, reason):
    result = run(salesforce_csv(ada(), ada(**{"Email": "grace@acme.com", column: value}), ada(Email="kim@acme.com")))

    assert not result.ok
    assert result.errors == [RowError(line=3, column=column, value=value, reason=reason)]
    assert (result.bad_rows, result.rows) == (1, 3)
    assert_nothing_written()


def test_every_bad_row_is_listed(db):
    rows = [ada(Email=f"lead{n}@acme.com") for n in range(6)]
    rows[1]["Email"] = "lead1(at)acme.com"
    rows[3]["NumberOfEmployees"] = "-1"
    rows[5]["AnnualRevenue"] = "lots"
    result = run(salesforce_csv(*rows))
    assert [(error.line, error.column) for error in result.errors] == [
        (3, "Email"),
        (5, "NumberOfEmployees"),
        (7, "AnnualRevenue"),
    ]
    assert result.error_count == 3
    assert_nothing_written()


def test_embedded_newline_in_a_quoted_field_keeps_line_numbers_right(db):
    data = salesforce_csv(
        ada(Title="Head of\nSales", Company="Acme\r\nGermany"),  # lines 2-4
        ada(Email="grace@acme.com"),  # line 5
        ada(Email="not-an-address"),  # line 6
    )
    result = run(data)
    assert [error.line for error in result.errors] == [6]

    run(salesforce_csv(ada(Title="Head of\nSales")))
    assert Lead.objects.get().title == "Head of Sales"


def test_line_numbers_count_blank_lines(db):
    data = b"Email,FirstName,LastName\r\n\r\nada@acme.com,Ada,Lovelace\r\n\r\n\r\nbroken,Bob,Baker\r\n"
    assert [error.line for error in run(data).errors] == [6]


# --- files that are not lead exports ----------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"   \r\n\r\n", "\ufeff".encode()])
def test_empty_file_is_refused_with_a_clear_message(db, data):
    result = run(data)
    assert not result.ok
    assert "The file is empty" in result.problem
    assert_nothing_written()


def test_header_only_file_is_refused(db):
    result = run(salesforce_csv())
    assert result.problem == "The file has a header line but no leads below it."


def test_file_with_no_known_header_says_what_is_supported_and_missing(db):
    result = run(b"Name,Company,Phone\nAda Lovelace,Acme,123\n")
    assert not result.ok
    assert "Salesforce lead export: missing Email" in result.problem
    assert "HubSpot contacts export: missing Email" in result.problem
    assert_nothing_written()


# --- encodings --------------------------------------------------------------------------------------------------


def test_utf8_with_byte_order_mark(db):
    data = "\ufeff".encode() + salesforce_csv(ada(FirstName="Zoë"))
    result = run(data)
    assert result.ok and result.encoding == "UTF-8"
    lead = Lead.objects.get()
    assert (lead.first_name, lead.external_id) == ("Zoë", "00Q5e00000AbCdE")  # "Id" is the first column


def test_latin1_file_with_accented_names_is_read_when_latin1_is_chosen(db):
    data = salesforce_csv(
        ada(FirstName="José", LastName="Müller-Lüdenscheidt", Company="Société Générale"), encoding="latin-1"
    )
    assert run(data).problem.startswith("The file is not UTF-8: line 2 has bytes (e9")
    result = run(data, encoding="latin-1")
    assert result.ok and result.encoding == "Latin-1"
    lead = Lead.objects.get()
    assert (lead.first_name, lead.last_name, lead.account.name) == ("José", "Müller-Lüdenscheidt", "Société Générale")


def test_windows_1252_file_with_curly_quotes_is_read_when_windows_1252_is_chosen(db):
    data = hubspot_csv(
        {"Email": "renee@acme.com", "First Name": "Renée", "Job Title": "Owner’s assistant"}, encoding="cp1252"
    )
    result = run(data, encoding="windows-1252")
    assert result.ok and result.encoding == "Windows-1252"
    assert Lead.objects.get().title == "Owner’s assistant"


# --- existing leads and accounts --------------------------------------------------------------------------------


def test_existing_lead_is_updated_not_doubled(db, sdr):
    earlier = datetime(2024, 2, 1, tzinfo=UTC)
    lead = LeadFactory(
        email="ada@acme.com",
        first_name="A.",
        last_name="Lovelace-King",
        title="Engineer",
        phone="",
        stage=Stage.MQL,
        owner=sdr,
        source="webinar",
        created_at=earlier,
        stage_changed_at=earlier,
    )
    result = run(salesforce_csv(ada(Email="ADA@ACME.COM", LastName="", LeadSource="Web")))

    assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
    assert Lead.objects.count() == 1
    lead.refresh_from_db()
    assert (lead.first_name, lead.last_name, lead.phone) == ("Ada", "Lovelace-King", "+49 30 1234567")
    assert (lead.title, lead.seniority) == ("VP Engineering", "vp")
    assert (lead.stage, lead.owner, lead.stage_changed_at, lead.created_at) == (Stage.MQL, sdr, earlier, earlier)
    assert lead.source == "webinar"


def test_reimporting_the_same_file_changes_nothing(db):
    run(salesforce_csv(ada(), ada(Email="grace@acme.com")))
    result = run(salesforce_csv(ada(), ada(Email="grace@acme.com")))
    assert (result.created, result.updated, result.unchanged, result.accounts_created) == (0, 0, 2, 0)
    assert Lead.objects.count() == 2 and Account.objects.count() == 1


def test_lead_unsubscribed_in_leadops_does_not_get_consent_back_from_an_export(db):
    lead = LeadFactory(email="ada@acme.com", email_consent=False, unsubscribed_at=datetime(2025, 1, 1, tzinfo=UTC))
    run(salesforce_csv(ada(HasOptedOutOfEmail="false")))
    lead.refresh_from_db()
    assert lead.email_consent is False


def test_opt_out_in_the_export_withdraws_consent(db):
    lead = LeadFactory(email="ada@acme.com", email_consent=True)
    run(salesforce_csv(ada(HasOptedOutOfEmail="true")))
    lead.refresh_from_db()
    assert lead.email_consent is False and lead.unsubscribed_at == NOW


def test_account_is_matched_by_email_domain_and_gaps_are_filled(db):
    account = AccountFactory(name="ACME Corporation", domain="acme.com", industry="", employees=900, country="")
    result = run(salesforce_csv(ada(Website="", Company="Acme Inc")))

    assert (result.accounts_created, result.accounts_updated) == (0, 1)
    assert Lead.objects.get().account == account
    account.refresh_from_db()
    assert account.name == "ACME Corporation"
    assert (account.industry, account.country) == ("Software", "Germany")  # filled in
    assert account.employees == 900  # known already: kept
    assert account.annual_revenue == Decimal("25000000.00")


def test_website_domain_decides_over_the_email_domain(db):
    account = AccountFactory(domain="initech.com")
    run(salesforce_csv(ada(Email="peter@initech-mail.com", Website="http://www.Initech.com/contact")))
    assert Lead.objects.get().account == account


def test_account_is_matched_by_name_when_no_domain_matches(db):
    globex = AccountFactory(name="Globex", domain="")
    result = run(
        salesforce_csv(
            ada(Email="hank@gmail.com", Company=" GLOBEX ", Website=""),
            ada(Email="mindy@globex.example", Company="globex", Website=""),
        )
    )
    assert result.accounts_created == 0
    assert {lead.account for lead in Lead.objects.all()} == {globex}
    globex.refresh_from_db()
    assert globex.domain == "globex.example"  # learnt from the second row


def test_new_accounts_are_created_once_per_company(db):
    rows = [
        ada(Email="a@gmail.com", Company="Umbrella", Website=""),  # no domain: by name
        ada(Email="b@umbrella.example", Company="Umbrella", Website=""),  # same company, now with its domain
        ada(Email="c@umbrella.example", Company="Umbrella Corp", Website=""),  # same domain, other spelling
        ada(Email="d@hotmail.com", Company="", Website=""),  # nothing to go on: no account
    ]
    result = run(salesforce_csv(*rows))
    assert result.accounts_created == 1
    umbrella = Account.objects.get()
    assert (umbrella.name, umbrella.domain) == ("Umbrella", "umbrella.example")
    assert Lead.objects.filter(account=umbrella).count() == 3
    assert Lead.objects.get(email="d@hotmail.com").account is None


def test_existing_lead_keeps_its_account(db):
    placed = AccountFactory(name="Acme Holding", domain="acme-holding.example")
    LeadFactory(email="ada@acme.com", account=placed)
    result = run(salesforce_csv(ada()))
    assert result.accounts_created == 0
    assert Lead.objects.get().account == placed


def test_import_reads_and_writes_in_sets_not_row_by_row(db, django_assert_max_num_queries):
    AccountFactory(domain="company3.example")
    LeadFactory(email="lead7@company7.example", account=None)
    rows = [ada(Email=f"lead{n}@company{n % 40}.example", Company=f"Firm {n % 40}", Website="") for n in range(300)]
    # A dozen INSERTs of leads on SQLite (999 parameters per statement), a few reads, and per updated table a
    # staging table, one executemany and one UPDATE: a number of statements that does not follow the rows.
    with django_assert_max_num_queries(30):
        result = run(salesforce_csv(*rows))
    assert (result.created, result.updated, result.accounts_created) == (299, 1, 39)


# --- rows that repeat an e-mail ---------------------------------------------------------------------------------


def test_rows_repeating_an_email_become_one_lead_and_an_existing_lead_is_updated_once(db):
    LeadFactory(email="ada@acme.com", first_name="A.", last_name="Lovelace", title="Engineer")
    result = run(
        salesforce_csv(
            ada(Title="CTO"),  # line 2
            ada(Id="00Q2", Email="grace@acme.com", FirstName="Grace", LastName="Hopper"),  # line 3
            ada(Email=" ADA@acme.COM ", Title="", FirstName="Augusta"),  # line 4
            ada(Id="00Q2", Email="Grace@Acme.com", FirstName="", LastName="", Phone="+1 555 0199"),  # line 5
        )
    )

    assert result.ok, result.errors
    assert (result.rows, result.merged_rows, result.created, result.updated, result.unchanged) == (4, 2, 1, 1, 0)
    assert [(repeat.email, repeat.lines) for repeat in result.repeats] == [
        ("ada@acme.com", (2, 4)),
        ("grace@acme.com", (3, 5)),
    ]
    assert Lead.objects.count() == 2
    ada_lead = Lead.objects.get(email="ada@acme.com")
    assert (ada_lead.first_name, ada_lead.title) == ("Augusta", "CTO")
    grace = Lead.objects.get(email="grace@acme.com")
    assert (grace.first_name, grace.last_name, grace.phone) == ("Grace", "Hopper", "+1 555 0199")
    assert AuditEntry.objects.get(action="lead.import").changes["merged_rows"] == 2


# --- scoring ----------------------------------------------------------------------------------------------------


def _queued() -> list[int]:
    return sorted(PendingRescore.objects.values_list("lead_id", flat=True))


def test_created_and_updated_leads_are_queued_and_the_drain_scores_them(db):
    updated = LeadFactory(email="ada@acme.com", title="Engineer", account=None)
    unchanged = LeadFactory(email="kim@initech.example", first_name="Kim", last_name="Lee", phone="")
    kim = {"Email": "kim@initech.example", "FirstName": "Kim", "LastName": "Lee", "Title": unchanged.title}
    result = run(
        salesforce_csv(ada(), ada(Id="00Q2", Email="grace@acme.com", FirstName="Grace", LastName="Hopper"), kim)
    )
    assert (result.created, result.updated, result.unchanged) == (1, 1, 1), result.errors
    created = Lead.objects.get(email="grace@acme.com")
    assert _queued() == sorted([created.pk, updated.pk])
    assert result.queued_for_scoring == 2

    drained = pending.pending_rescore_drain()

    assert drained.scored == 2
    for lead in (created, updated):
        lead.refresh_from_db()
        assert lead.score_total is not None and lead.scored_at is not None
    unchanged.refresh_from_db()
    assert unchanged.scored_at is None


def test_the_commit_wakes_the_drain_which_scores_the_imported_leads(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run(salesforce_csv(ada()))
    assert len(callbacks) == 1
    lead = Lead.objects.get()
    assert lead.score_total is not None and lead.scored_at is not None  # tests run Celery tasks eagerly
    assert _queued() == []


def test_leads_of_an_account_the_import_filled_in_are_queued_too(db):
    account = AccountFactory(name="Acme", domain="acme.com", industry="")
    colleague = LeadFactory(email="kim@acme.com", account=account)
    run(salesforce_csv(ada()))
    assert _queued() == sorted([colleague.pk, Lead.objects.get(email="ada@acme.com").pk])


def test_dry_run_queues_nothing(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        result = run(salesforce_csv(ada()), dry_run=True)
    assert (result.created, result.queued_for_scoring) == (1, 0)
    assert _queued() == [] and callbacks == []


# --- what the result names --------------------------------------------------------------------------------------


def test_result_names_the_leads_created_and_updated_with_their_lines(db):
    updated = LeadFactory(email="ada@acme.com", title="Engineer")
    result = run(salesforce_csv(ada(), ada(Id="00Q2", Email="grace@acme.com", FirstName="Grace", LastName="Hopper")))
    grace = Lead.objects.get(email="grace@acme.com")
    assert [(lead.pk, lead.email, lead.name, lead.line) for lead in result.created_leads] == [
        (grace.pk, "grace@acme.com", "Grace Hopper", 3)
    ]
    assert [(lead.pk, lead.email, lead.line) for lead in result.updated_leads] == [(updated.pk, "ada@acme.com", 2)]


def test_dry_run_names_the_leads_it_would_update_but_has_no_ids_for_new_ones(db):
    updated = LeadFactory(email="ada@acme.com", title="Engineer")
    result = run(salesforce_csv(ada(), ada(Email="grace@acme.com")), dry_run=True)
    assert [(lead.pk, lead.email) for lead in result.created_leads] == [(None, "grace@acme.com")]
    assert [lead.pk for lead in result.updated_leads] == [updated.pk]
