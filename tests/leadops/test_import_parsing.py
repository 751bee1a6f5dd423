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


def test_utf8_is_read_with_or_without_byte_order_mark():
    assert decode("Müller".encode()) == ("Müller", "UTF-8")
    assert decode("\ufeffEmail".encode()) == ("Email", "UTF-8")


def test_report_is_capped_but_every_problem_is_counted():
    data = ("Email,LastName\n" + "not-an-email,Doe\n" * 8).encode()
    parsed = parse_leads_file(data, now=NOW, max_reported_errors=5)
    assert [error.line for error in parsed.errors] == [2, 3, 4, 5, 6]
    assert parsed.error_count == 8
    assert parsed.unreported_errors == 3
    assert parsed.bad_rows == 8


def test_every_bad_field_of_a_row_is_reported():
    data = b"Email,LastName,NumberOfEmployees,AnnualRevenue\nbad,Doe,-1,x\n"
    parsed = parse_leads_file(data, now=NOW)
    assert [(error.line, error.column) for error in parsed.errors] == [
        (2, "Email"),
        (2, "NumberOfEmployees"),
        (2, "AnnualRevenue"),
    ]
    assert parsed.bad_rows == 1


def test_future_and_unreadable_created_dates_are_left_to_the_importer():
    data = (
        b"Email,LastName,CreatedDate\n"
        b"a@acme.com,Doe,2999-01-01T00:00:00Z\nb@acme.com,Doe,yesterday\nc@acme.com,Doe,2024-01-05\n"
    )
    rows = parse_leads_file(data, now=NOW).rows
    assert [row.created_at for row in rows] == [None, None, datetime(2024, 1, 5, tzinfo=UTC)]


def test_salesforce_placeholder_company_counts_as_no_company():
    rows = parse_leads_file(b"Email,LastName,Company\na@gmail.com,Doe,[not provided]\n", now=NOW).rows
    assert rows[0].company == ""
    assert rows[0].domain == ""  # a free mailbox says nothing about the company


def test_file_with_only_blank_lines_is_empty():
    with pytest.raises(ImportFileError, match="empty"):
        parse_leads_file(b"\r\n\r\n  \n", now=NOW)


def test_a_stray_quote_that_leaves_a_quote_open_stops_the_reading_at_its_row():
    data = b'Email,LastName,Title\na@acme.com,Doe,"Head of "x"\n' + b"b@acme.com,Doe," + b"y" * 200_000 + b"\n"
    parsed = parse_leads_file(data, now=NOW)
    assert [(error.line, error.reason) for error in parsed.errors] == [
        (
            2,
            "a quoted field is followed by other text before the next separator (',' expected after '\"'); check "
            "for a stray quote character; a quote opened in this row is probably never closed, so nothing after it "
            "was read",
        )
    ]


def test_a_blank_column_falls_back_to_the_next_one_that_carries_the_same_attribute():
    data = b"Email,LastName,Phone,MobilePhone,Website\na@gmail.com,Doe,,+49 171 1234567,\n"
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


def test_a_repeat_with_a_problem_is_reported_and_not_merged():
    data = b"Email,LastName,NumberOfEmployees\na@acme.com,Doe,1\nA@acme.com,Doe,-1\n"
    parsed = parse_leads_file(data, now=NOW)
    assert [(error.line, error.reason) for error in parsed.errors] == [
        (3, "NumberOfEmployees must be a whole number >= 0, got '-1'"),
    ]
    assert (parsed.repeats, parsed.merged_rows) == ([], 0)


def test_utf16_file_from_excel_unicode_text_is_read():
    data = "Email\tFirstName\tLastName\r\nzoe@acme.com\tZoë\tZed\r\n".encode("utf-16")
    parsed = parse_leads_file(data, now=NOW)
    assert (parsed.encoding, parsed.delimiter, parsed.rows[0].first_name) == ("UTF-16", "\t", "Zoë")


def test_excel_workbook_is_refused_with_how_to_save_it_as_csv():
    with pytest.raises(ImportFileError, match="Excel workbook"):
        parse_leads_file(b"PK\x03\x04\x14\x00\x06\x00rest-of-a-zip", now=NOW)


# --- what the csv module cannot read ----------------------------------------------------------------------------


def test_a_header_longer_than_the_csv_field_limit_is_refused_with_its_line():
    data = b"Email," + b"x" * 140_000 + b"\na@acme.com,1\n"
    with pytest.raises(ImportFileError) as raised:
        parse_leads_file(data, now=NOW)
    assert str(raised.value).startswith("Line 1: a field is longer than 131,072 characters")


def test_an_over_long_field_further_down_is_reported_on_its_row_and_the_rows_after_it_are_still_read():
    data = (
        b"Email,LastName,Description\n"
        b"a@acme.com,Able,short\n"
        b"b@acme.com,Baker," + b"y" * 140_000 + b"\n"
        b"not-an-email,Charlie,short\n"
    )
    parsed = parse_leads_file(data, now=NOW)
    assert [(error.line, error.column, error.reason) for error in parsed.errors] == [
        (3, "", "a field is longer than 131,072 characters, the longest LeadOps reads"),
        (4, "Email", "'not-an-email' is not an e-mail address"),
    ]
    assert (parsed.row_count, parsed.bad_rows) == (3, 2)


def test_an_over_long_quoted_field_stops_the_reading_at_the_line_where_it_opens():
    data = b'Email,LastName,Description\na@acme.com,Able,"opened\n' + b"b@acme.com,Baker,more text\n" * 6_000
    parsed = parse_leads_file(data, now=NOW)
    assert len(parsed.errors) == 1
    error = parsed.errors[0]
    assert error.line == 2
    assert error.reason.startswith("a field is longer than 131,072 characters")
    assert "nothing after it was read" in error.reason


def test_an_unterminated_quote_is_reported_with_the_line_it_opens_on():
    data = b'Email,LastName,Title\na@acme.com,Ada,"Head of Sales\nb@acme.com,Bob,CEO\n'
    parsed = parse_leads_file(data, now=NOW)
    assert not parsed.ok
    assert [(error.line, error.reason) for error in parsed.errors] == [
        (2, "a quoted field opens on this line and is never closed: it runs to the end of the file (line 3)")
    ]
    assert parsed.rows == []


def test_text_after_a_closing_quote_is_reported_and_the_next_lines_are_still_read():
    data = b'Email,LastName\na@acme.com,"Love"lace\nnot-an-email,Bob\n'
    parsed = parse_leads_file(data, now=NOW)
    assert [(error.line, error.column) for error in parsed.errors] == [(2, ""), (3, "Email")]
    assert parsed.errors[0].reason == (
        "a quoted field is followed by other text before the next separator (',' expected after '\"'); "
        "check for a stray quote character"
    )


def test_a_nul_character_in_a_value_is_refused_with_its_column():
    parsed = parse_leads_file(b"Email,LastName\na@acme.com,Love\x00lace\n", now=NOW)
    assert [(error.line, error.column, error.reason) for error in parsed.errors] == [
        (2, "LastName", "LastName contains a NUL character (byte 0), which no lead field can hold")
    ]


# --- encodings --------------------------------------------------------------------------------------------------


def test_a_shift_jis_file_is_refused_naming_the_encodings_read_by_themselves():
    data = "Email,LastName,Company\nyamada@example.jp,山田,株式会社サンプル\n".encode("shift_jis")
    with pytest.raises(ImportFileError) as raised:
        parse_leads_file(data, now=NOW)
    message = str(raised.value)
    assert message.startswith("The file is not UTF-8: line 2 has bytes (8e 52 93 63) that UTF-8 does not allow")
    assert "UTF-8 (with or without byte order mark) and UTF-16 with byte order mark" in message
    assert "Windows-1252" in message


def test_a_shift_jis_file_is_read_when_shift_jis_is_chosen():
    data = "Email,LastName,Company\nyamada@example.jp,山田,株式会社サンプル\n".encode("shift_jis")
    parsed = parse_leads_file(data, now=NOW, encoding="shift_jis")
    assert (parsed.encoding, parsed.rows[0].last_name, parsed.rows[0].company) == (
        "Shift-JIS",
        "山田",
        "株式会社サンプル",
    )


def test_windows_1252_is_read_only_when_chosen():
    data = "Email,LastName\nrenee@acme.com,Renée’s\n".encode("cp1252")
    with pytest.raises(ImportFileError, match="The file is not UTF-8: line 2"):
        decode(data)
    assert decode(data, "windows-1252") == ("Email,LastName\nrenee@acme.com,Renée’s\n", "Windows-1252")


def test_a_chosen_encoding_refuses_bytes_it_does_not_define():
    with pytest.raises(ImportFileError) as raised:
        decode(b"Email,LastName\nx@acme.com,A\x81B\n", "windows-1252")
    assert str(raised.value).startswith("The file is not Windows-1252: line 2 has bytes (81")


def test_latin1_refuses_c1_control_characters_that_mean_windows_1252():
    data = "Email,Title\nx@acme.com,Owner’s assistant\n".encode("cp1252")
    with pytest.raises(ImportFileError) as raised:
        decode(data, "latin-1")
    assert str(raised.value).startswith("Line 2 has the byte 0x92, a control character in Latin-1")
    assert decode("Email\nJosé@acme.com\n".encode("latin-1"), "latin-1") == ("Email\nJosé@acme.com\n", "Latin-1")


def test_a_byte_order_mark_that_contradicts_the_chosen_encoding_is_refused():
    with pytest.raises(ImportFileError, match="starts with a UTF-8 byte order mark"):
        decode("\ufeffEmail\na@acme.com\n".encode(), "windows-1252")


# --- rows that repeat an e-mail ---------------------------------------------------------------------------------


def test_rows_repeating_an_email_are_merged_into_the_first_the_later_filled_in_values_winning():
    data = (
        b"Email,FirstName,LastName,Title,Phone,Website,NumberOfEmployees,LeadSource,CreatedDate,HasOptedOutOfEmail\n"
        b"ada@acme.com,Ada,Lovelace,Engineer,+1 555 0100,acme.com,250,Trade Show,2024-03-01,false\n"
        b"grace@navy.mil,Grace,Hopper,,,,,,,\n"
        b"ADA@Acme.com,,King,CTO,,,,Web,2024-01-05,true\n"
        b"ada@acme.com ,Augusta,King,,,,300,,2024-06-01,\n"
    )
    parsed = parse_leads_file(data, now=NOW)

    assert parsed.ok, parsed.errors
    assert [row.email for row in parsed.rows] == ["ada@acme.com", "grace@navy.mil"]
    ada = parsed.rows[0]
    assert (ada.line, ada.first_name, ada.last_name, ada.title, ada.phone) == (
        2,
        "Augusta",
        "King",
        "CTO",
        "+1 555 0100",
    )
    assert (ada.domain, ada.employees) == ("acme.com", 300)
    # Where and when the person first came in: the first source label, the earliest creation date.
    assert (ada.source, ada.source_detail) == ("event", "Trade Show")
    assert ada.created_at == datetime(2024, 1, 5, tzinfo=UTC)
    # An opt-out in any of the rows stands.
    assert (ada.opted_out, ada.email_consent) == (True, False)
    assert parsed.merged_rows == 2
    assert [(repeat.email, repeat.lines) for repeat in parsed.repeats] == [("ada@acme.com", (2, 4, 5))]


def test_a_website_in_a_later_row_decides_the_domain_over_one_taken_from_the_email():
    data = (
        b"Email,LastName,Website\n"
        b"ada@acme-mail.com,Lovelace,\n"
        b"ada@acme-mail.com,Lovelace,www.acme.com\n"
        b"ada@acme-mail.com,Lovelace,\n"
    )
    assert parse_leads_file(data, now=NOW).rows[0].domain == "acme.com"


# --- names ------------------------------------------------------------------------------------------------------


def test_salesforce_row_with_neither_last_name_nor_company_is_refused_naming_both_columns():
    data = b"Email,FirstName,LastName,Company\nada@acme.com,Ada,,\nbob@acme.com,Bob,,[not provided]\n"
    parsed = parse_leads_file(data, now=NOW)
    assert [(error.line, error.column, error.reason) for error in parsed.errors] == [
        (2, "LastName, Company", "the row has neither a last name nor a company; a Salesforce lead has both"),
        (3, "LastName, Company", "the row has neither a last name nor a company; a Salesforce lead has both"),
    ]


def test_a_missing_last_name_or_company_alone_is_accepted():
    data = b"Email,FirstName,LastName,Company\nada@acme.com,Ada,,Acme\nbob@acme.com,Bob,Baker,\n"
    parsed = parse_leads_file(data, now=NOW)
    assert parsed.ok
    assert [(row.last_name, row.company) for row in parsed.rows] == [("", "Acme"), ("Baker", "")]


def test_a_hubspot_contact_with_only_an_email_is_accepted():
    data = b"Email,First Name,Last Name,Company Name,Lifecycle Stage\nnews@acme.com,,,,subscriber\n"
    parsed = parse_leads_file(data, now=NOW)
    assert parsed.ok and parsed.layout is layouts.HUBSPOT
