"""The pure part of the lead import: recognising export headers, reading values, mapping sources. No database."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from leadops.imports import layouts
from leadops.imports.layouts import UnrecognisedHeader, detect_layout
from leadops.imports.parsing import (
    ImportFileError,
    consent_for,
    decode,
    domain_for_website,
    parse_amount,
    parse_datetime,
    parse_employees,
    parse_leads_file,
)
from leadops.imports.sources import source_for_label
from leadops.models import LeadSource

pytestmark = pytest.mark.sqlite

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)

# Excerpts of the real header lines (Salesforce lead export, HubSpot "all properties" contacts export).
SALESFORCE_HEADER = (
    '"Id","IsDeleted","MasterRecordId","Salutation","FirstName","LastName","Title","Company","Street","City","State",'
    '"PostalCode","Country","Phone","MobilePhone","Email","Website","LeadSource","Status","Industry","Rating",'
    '"AnnualRevenue","NumberOfEmployees","OwnerId","HasOptedOutOfEmail","IsConverted","CreatedDate"'
)
HUBSPOT_HEADER = (
    '"Record ID","First Name","Last Name","Annual Revenue","City","Company domain name","Company Name",'
    '"Contact owner","Country/Region","Create Date","Email","HubSpot Score","Industry","Job Title","Lead Status",'
    '"Lifecycle Stage","Mobile Phone Number","Number of Employees","Original Source","Phone Number",'
    '"Unsubscribed from all email","Website URL","Associated Company"'
)


def _cells(header_line: str) -> list[str]:
    return [cell.strip('"') for cell in header_line.split(",")]


def test_salesforce_header_is_recognised_with_its_columns():
    column_map = detect_layout(_cells(SALESFORCE_HEADER))
    assert column_map.layout is layouts.SALESFORCE
    assert [column.name for column in column_map.columns[layouts.PHONE]] == ["Phone", "MobilePhone"]
    assert column_map.columns[layouts.EMAIL][0].index == 15


def test_hubspot_header_is_recognised_with_its_columns():
    column_map = detect_layout(_cells(HUBSPOT_HEADER))
    assert column_map.layout is layouts.HUBSPOT
    assert column_map.columns[layouts.COMPANY][0].name == "Company Name"
    assert [column.name for column in column_map.columns[layouts.WEBSITE]] == ["Website URL", "Company domain name"]


def test_headers_match_whatever_the_case_and_spacing():
    column_map = detect_layout(["  EMAIL ", "first  name", "LAST NAME", "job title", "Original source"])
    assert column_map.layout is layouts.HUBSPOT
    assert column_map.columns[layouts.EMAIL][0].name == "EMAIL"
    assert column_map.columns[layouts.TITLE][0].name == "job title"


def test_hubspot_api_property_names_are_read_as_hubspot():
    column_map = detect_layout(["hs_object_id", "email", "firstname", "lastname", "jobtitle", "hs_analytics_source"])
    assert column_map.layout is layouts.HUBSPOT
    assert layouts.SOURCE in column_map.columns


def test_header_without_email_names_the_layouts_and_the_missing_column():
    with pytest.raises(UnrecognisedHeader) as raised:
        detect_layout(["Name", "Company", "Phone"])
    message = str(raised.value)
    assert "Salesforce lead export: missing Email" in message
    assert "HubSpot contacts export: missing Email" in message
    assert "'Name', 'Company', 'Phone'" in message


@pytest.mark.parametrize(
    "value, expected",
    [
        ("250", 250),
        ("0", 0),
        ("1,200", 1200),
        ("1 200", 1200),
        ("250.0", 250),
        ("25-50", 25),
        ("1000+", 1000),
        ("-5", None),
        ("abc", None),
        ("12.5", None),
        ("50-25", None),
        ("99999999999", None),
    ],
)
def test_employee_counts(value, expected):
    assert parse_employees(value) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2500000", Decimal("2500000.00")),
        ("2,500,000.50", Decimal("2500000.50")),
        ("$2,500,000", Decimal("2500000.00")),
        ("2.5E6", Decimal("2500000.00")),
        ("1234.567", Decimal("1234.57")),
        ("-100", None),
        ("lots", None),
        ("1.200,50", None),
        ("NaN", None),
    ],
)
def test_amounts(value, expected):
    assert parse_amount(value) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        ("acme.com", "acme.com"),
        ("https://www.Acme.com/about", "acme.com"),
        ("http://shop.acme.co.uk:8080", "shop.acme.co.uk"),
        ("www.acme.com.", "acme.com"),
        ("not a website", None),
        ("localhost", None),
    ],
)
def test_website_domains(value, expected):
    assert domain_for_website(value) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2024-01-05T10:00:00.000+0000", datetime(2024, 1, 5, 10, 0, tzinfo=UTC)),
        ("2024-01-05T10:00:00.000Z", datetime(2024, 1, 5, 10, 0, tzinfo=UTC)),
        ("2024-01-05 10:00", datetime(2024, 1, 5, 10, 0, tzinfo=UTC)),
        ("1704448800000", datetime(2024, 1, 5, 10, 0, tzinfo=UTC)),
        ("05/01/2024", None),
    ],
)
def test_created_dates(value, expected):
    assert parse_datetime(value) == expected


@pytest.mark.parametrize(
    "label, source",
    [
        ("Web", "web"),
        ("Phone Inquiry", "other"),
        ("Partner Referral", "partner"),
        ("Purchased List", "list_import"),
        ("Advertisement", "paid_search"),
        ("Employee Referral", "referral"),
        ("Seminar - Internal", "event"),
        ("Trade Show", "event"),
        ("Word of mouth", "referral"),
        ("Organic Search", "organic_search"),
        ("ORGANIC_SEARCH", "organic_search"),
        ("Paid Social", "social"),
        ("EMAIL_MARKETING", "email"),
        ("Direct Traffic", "web"),
        ("OFFLINE", "other"),
        ("webinar", "webinar"),
        ("Event / trade show", "event"),
        ("Billboard on the A40", "other"),
    ],
)
def test_source_labels_map_onto_leadops_sources_keeping_the_label(label, source):
    assert source_for_label(label) == (source, label)
    assert source in LeadSource.ALL


def test_no_source_label_is_other_without_detail():
    assert source_for_label("  ") == ("other", "")


@pytest.mark.parametrize(
    "opted_out, marketable, expected",
    [
        (True, None, (False, True)),
        (True, True, (False, True)),
        (False, None, (True, False)),
        (None, True, (True, False)),
        (False, False, (False, False)),
        (None, None, (None, False)),
    ],
)
def test_consent_from_opt_out_and_marketing_status(opted_out, marketable, expected):
    assert consent_for(opted_out=opted_out, marketable=marketable) == expected


def test_utf8_is_tried_first_then_windows_1252():
    assert decode("Müller".encode()) == ("Müller", "UTF-8")
    assert decode("\ufeffEmail".encode()) == ("Email", "UTF-8")
    assert decode("Renée’s".encode("cp1252")) == ("Renée’s", "Windows-1252")


def test_report_is_capped_but_every_problem_is_counted():
    data = ("Email\n" + "not-an-email\n" * 8).encode()
    parsed = parse_leads_file(data, now=NOW, max_reported_errors=5)
    assert [error.line for error in parsed.errors] == [2, 3, 4, 5, 6]
    assert parsed.error_count == 8
    assert parsed.unreported_errors == 3
    assert parsed.bad_rows == 8


def test_every_bad_field_of_a_row_is_reported():
    data = b"Email,NumberOfEmployees,AnnualRevenue\nbad,-1,x\n"
    parsed = parse_leads_file(data, now=NOW)
    assert [(error.line, error.column) for error in parsed.errors] == [
        (2, "Email"),
        (2, "NumberOfEmployees"),
        (2, "AnnualRevenue"),
    ]
    assert parsed.bad_rows == 1


def test_future_and_unreadable_created_dates_are_left_to_the_importer():
    data = b"Email,CreatedDate\na@acme.com,2999-01-01T00:00:00Z\nb@acme.com,yesterday\nc@acme.com,2024-01-05\n"
    rows = parse_leads_file(data, now=NOW).rows
    assert [row.created_at for row in rows] == [None, None, datetime(2024, 1, 5, tzinfo=UTC)]


def test_salesforce_placeholder_company_counts_as_no_company():
    rows = parse_leads_file(b"Email,Company\na@gmail.com,[not provided]\n", now=NOW).rows
    assert rows[0].company == ""
    assert rows[0].domain == ""  # a free mailbox says nothing about the company


def test_file_with_only_blank_lines_is_empty():
    with pytest.raises(ImportFileError, match="empty"):
        parse_leads_file(b"\r\n\r\n  \n", now=NOW)


def test_broken_csv_names_the_line():
    data = b'Email,Title\na@acme.com,"Head of\x00 "x"\n' + b"b@acme.com," + b"y" * 200_000 + b"\n"
    with pytest.raises(ImportFileError, match=r"Line \d+ cannot be read as CSV"):
        parse_leads_file(data, now=NOW)


def test_a_blank_column_falls_back_to_the_next_one_that_carries_the_same_attribute():
    data = b"Email,Phone,MobilePhone,Website\na@gmail.com,,+49 171 1234567,\n"
    row = parse_leads_file(data, now=NOW).rows[0]
    assert row.phone == "+49 171 1234567"

    data = b"Email,Website URL,Company domain name,Lifecycle Stage\nb@gmail.com,,Initech.com,lead\n"
    parsed = parse_leads_file(data, now=NOW)
    assert parsed.layout is layouts.HUBSPOT
    assert parsed.rows[0].domain == "initech.com"


@pytest.mark.parametrize(
    "status, consent",
    [("Marketing contact", True), ("Non-marketing contact", False), ("false", False), ("", None)],
)
def test_hubspot_marketing_contact_status_sets_consent(status, consent):
    data = f"Email,Marketing contact status\nc@acme.com,{status}\n".encode()
    assert parse_leads_file(data, now=NOW).rows[0].email_consent is consent


def test_a_duplicate_is_reported_even_on_a_row_with_other_problems():
    data = b"Email,NumberOfEmployees\na@acme.com,1\nA@acme.com,-1\n"
    parsed = parse_leads_file(data, now=NOW)
    assert [(error.line, error.reason) for error in parsed.errors] == [
        (3, "e-mail also on line 2"),
        (3, "NumberOfEmployees must be a whole number >= 0, got '-1'"),
    ]


def test_utf16_file_from_excel_unicode_text_is_read():
    data = "Email\tFirstName\r\nzoe@acme.com\tZoë\r\n".encode("utf-16")
    parsed = parse_leads_file(data, now=NOW)
    assert (parsed.encoding, parsed.delimiter, parsed.rows[0].first_name) == ("UTF-16", "\t", "Zoë")


def test_excel_workbook_is_refused_with_how_to_save_it_as_csv():
    with pytest.raises(ImportFileError, match="Excel workbook"):
        parse_leads_file(b"PK\x03\x04\x14\x00\x06\x00rest-of-a-zip", now=NOW)
