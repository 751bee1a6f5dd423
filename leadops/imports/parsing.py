"""Reading an exported CSV file into clean lead rows, or into a report of every bad row.

Pure: bytes and the current time in, rows and errors out. No ORM, no settings, no clock. Line numbers are the
physical lines of the file, so a quoted field that spans lines does not shift the lines reported after it.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from leadops import rules
from leadops.imports import layouts
from leadops.imports.layouts import Column, ColumnMap, Layout
from leadops.imports.sources import source_for_label
from leadops.models import Account, Lead

# A person fixes a file from the top; a thousand problems are plenty to see what is wrong with it.
MAX_REPORTED_ERRORS = 1000

# Salesforce's web-to-lead puts this in the required Company field when the visitor left it blank.
_NO_COMPANY_PLACEHOLDERS = frozenset({"[not provided]"})

_REVENUE_PLACES = Decimal("0.01")
_MAX_EMPLOYEES = 2_147_483_647  # PositiveIntegerField


def _max_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length


# Read from the models so a longer column there is a longer value here (model metadata, not a query).
MAX_LENGTH = {
    layouts.EMAIL: _max_length(Lead, "email"),
    layouts.FIRST_NAME: _max_length(Lead, "first_name"),
    layouts.LAST_NAME: _max_length(Lead, "last_name"),
    layouts.TITLE: _max_length(Lead, "title"),
    layouts.PHONE: _max_length(Lead, "phone"),
    layouts.COUNTRY: min(_max_length(Lead, "country"), _max_length(Account, "country")),
    layouts.COMPANY: _max_length(Account, "name"),
    layouts.INDUSTRY: _max_length(Account, "industry"),
    layouts.EXTERNAL_ID: _max_length(Lead, "external_id"),
    layouts.WEBSITE: _max_length(Account, "domain"),
}
_revenue_field = Account._meta.get_field("annual_revenue")
MAX_REVENUE = Decimal(10) ** (_revenue_field.max_digits - _revenue_field.decimal_places) - _REVENUE_PLACES


# .xlsx files are zip archives; .xls files are OLE2 compound documents.
_SPREADSHEET_SIGNATURES = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (empty, not CSV, unknown header); the message says why."""


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    column: str
    value: str
    reason: str


@dataclass(slots=True)
class LeadRow:
    """One lead as the file describes it, every value checked and normalised; '' / None where the file is blank."""

    line: int
    email: str
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    title: str = ""
    phone: str = ""
    # Company web domain, from the website column or else the e-mail address (never a free mailbox provider).
    domain: str = ""
    industry: str = ""
    annual_revenue: Decimal | None = None
    employees: int | None = None
    country: str = ""
    external_id: str = ""
    created_at: datetime | None = None
    source: str = "other"
    source_detail: str = ""
    # None when the file says nothing about consent; the importer then leaves it as it is.
    email_consent: bool | None = None
    opted_out: bool = False


@dataclass
class ParsedFile:
    layout: Layout
    encoding: str
    delimiter: str
    rows: list[LeadRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)  # the first MAX_REPORTED_ERRORS
    error_count: int = 0
    bad_rows: int = 0
    row_count: int = 0

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def unreported_errors(self) -> int:
        return self.error_count - len(self.errors)


# --- the file ---------------------------------------------------------------------------------------------------


def decode(data: bytes) -> tuple[str, str]:
    """The text and the name of its encoding: UTF-8 (with or without BOM), else Windows-1252, else Latin-1.

    Excel on Windows saves "CSV" in Windows-1252, where bytes that are not valid UTF-8 are ordinary accented letters;
    Latin-1 decodes anything, so it is the last resort for the few bytes Windows-1252 leaves undefined.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode text" export.
        return data.decode("utf-16"), "UTF-16"
    for codec, label in (("utf-8-sig", "UTF-8"), ("cp1252", "Windows-1252"), ("latin-1", "Latin-1")):
        try:
            return data.decode(codec), label
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _delimiter_for(text: str) -> str:
    """Comma, unless the header line splits into more columns on a semicolon or tab (European Excel uses ';')."""
    first_line = next((line for line in io.StringIO(text, newline="") if line.strip()), "")
    best, best_count = ",", 0
    for delimiter in (",", ";", "\t"):
        count = len(next(csv.reader([first_line], delimiter=delimiter), []))
        if count > best_count:
            best, best_count = delimiter, count
    return best


def parse_leads_file(data: bytes, *, now: datetime, max_reported_errors: int = MAX_REPORTED_ERRORS) -> ParsedFile:
    """Every lead row of an export file, or the problems with them; ImportFileError if the file itself is unusable."""
    if not data.strip():
        raise ImportFileError("The file is empty: there is no header line and no leads.")
    if data.startswith(_SPREADSHEET_SIGNATURES):
        raise ImportFileError(
            "This is an Excel workbook, not a CSV file. Open it in Excel and save it as "
            "'CSV UTF-8 (Comma delimited)', then upload that file."
        )
    text, encoding = decode(data)
    if not text.strip():
        raise ImportFileError("The file is empty: there is no header line and no leads.")
    delimiter = _delimiter_for(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    parsed: ParsedFile | None = None
    column_map: ColumnMap | None = None
    first_line_of_email: dict[str, int] = {}
    lines_read = 0
    try:
        for record in reader:
            # reader.line_num is the last physical line of this record; it started after the previous one ended.
            line = lines_read + 1
            lines_read = reader.line_num
            if not any(cell.strip() for cell in record):
                continue  # blank lines, and the ",,,," rows spreadsheets leave behind
            if column_map is None:
                try:
                    column_map = layouts.detect_layout(record)
                except layouts.UnrecognisedHeader as error:
                    raise ImportFileError(str(error)) from None
                parsed = ParsedFile(layout=column_map.layout, encoding=encoding, delimiter=delimiter)
                continue
            parsed.row_count += 1
            row, errors = parse_row(record, column_map, line=line, now=now)
            if row is not None:
                earlier = first_line_of_email.setdefault(row.email, line)
                if earlier != line:
                    email_column = column_map.columns[layouts.EMAIL][0].name
                    errors.insert(0, RowError(line, email_column, row.email, f"e-mail also on line {earlier}"))
            if errors:
                parsed.bad_rows += 1
                parsed.error_count += len(errors)
                room = max_reported_errors - len(parsed.errors)
                parsed.errors.extend(errors[: max(room, 0)])
            else:
                parsed.rows.append(row)
    except csv.Error as error:
        raise ImportFileError(
            f"Line {lines_read + 1} cannot be read as CSV ({error}); check for a stray quote character."
        ) from None
    if parsed is None:
        raise ImportFileError("The file is empty: there is no header line and no leads.")
    if parsed.row_count == 0:
        raise ImportFileError("The file has a header line but no leads below it.")
    return parsed


# --- one row ----------------------------------------------------------------------------------------------------


def parse_row(
    record: list[str], column_map: ColumnMap, *, line: int, now: datetime
) -> tuple[LeadRow | None, list[RowError]]:
    """The lead on one line and the problems with it. The row is None only when there is no usable e-mail."""
    errors: list[RowError] = []

    def cell(attribute: str) -> tuple[str, str]:
        """(value, column name in the file) of the first filled-in column that carries `attribute`."""
        columns: tuple[Column, ...] = column_map.columns.get(attribute, ())
        for column in columns:
            if column.index < len(record):
                value = record[column.index].strip()
                if value:
                    return value, column.name
        return "", columns[0].name if columns else ""

    def text(attribute: str) -> str:
        value, column = cell(attribute)
        value = " ".join(value.split())  # a name or title broken over lines in a spreadsheet cell is one line here
        limit = MAX_LENGTH[attribute]
        if len(value) > limit:
            errors.append(
                RowError(line, column, value, f"{column} is {len(value)} characters long; at most {limit} fit")
            )
            return ""
        return value

    def problem(column: str, value: str, reason: str) -> None:
        errors.append(RowError(line, column, value, reason))

    raw_email, email_column = cell(layouts.EMAIL)
    email = raw_email.lower()
    if not email:
        problem(email_column, "", "the e-mail address is missing; every lead needs one")
    elif len(email) > MAX_LENGTH[layouts.EMAIL]:
        problem(email_column, raw_email, f"the e-mail address is longer than {MAX_LENGTH[layouts.EMAIL]} characters")
        email = ""
    elif not _is_email(email):
        problem(email_column, raw_email, f"'{raw_email}' is not an e-mail address")
        email = ""

    row = LeadRow(line=line, email=email)
    row.first_name = text(layouts.FIRST_NAME)
    row.last_name = text(layouts.LAST_NAME)
    company = text(layouts.COMPANY)
    row.company = "" if company.casefold() in _NO_COMPANY_PLACEHOLDERS else company
    row.title = text(layouts.TITLE)
    row.phone = text(layouts.PHONE)
    row.industry = text(layouts.INDUSTRY)
    row.country = text(layouts.COUNTRY)
    row.external_id = text(layouts.EXTERNAL_ID)

    website, website_column = cell(layouts.WEBSITE)
    if website:
        domain = domain_for_website(website)
        if domain is None:
            problem(website_column, website, f"'{website}' is not a web address such as acme.com")
        elif len(domain) > MAX_LENGTH[layouts.WEBSITE]:
            problem(website_column, website, f"the domain is longer than {MAX_LENGTH[layouts.WEBSITE]} characters")
        else:
            row.domain = domain
    elif email:
        row.domain = rules.company_domain_for_email(email)

    value, column = cell(layouts.EMPLOYEES)
    if value:
        employees = parse_employees(value)
        if employees is None:
            problem(column, value, f"{column} must be a whole number >= 0, got '{value}'")
        else:
            row.employees = employees

    value, column = cell(layouts.ANNUAL_REVENUE)
    if value:
        revenue = parse_amount(value)
        if revenue is None:
            problem(column, value, f"{column} must be an amount >= 0 such as 2500000 or 2,500,000.00, got '{value}'")
        elif revenue > MAX_REVENUE:
            problem(column, value, f"{column} is larger than {MAX_REVENUE:,}, got '{value}'")
        else:
            row.annual_revenue = revenue

    value, _ = cell(layouts.CREATED_DATE)
    # A missing or unreadable creation date is not worth refusing a file for: the lead is then new as of now.
    created_at = parse_datetime(value) if value else None
    row.created_at = created_at if created_at is not None and created_at <= now else None

    row.source, row.source_detail = source_for_label(cell(layouts.SOURCE)[0])

    opted_out, marketable = None, None
    value, column = cell(layouts.OPTED_OUT)
    if value:
        opted_out = parse_bool(value)
        if opted_out is None:
            problem(column, value, f"{column} must be true or false, got '{value}'")
    value, column = cell(layouts.MARKETING_STATUS)
    if value:
        marketable = parse_marketing_status(value)
        if marketable is None:
            problem(column, value, f"{column} must be 'Marketing contact' or 'Non-marketing contact', got '{value}'")
    row.email_consent, row.opted_out = consent_for(opted_out=opted_out, marketable=marketable)

    return (row if email else None), errors


# --- values -----------------------------------------------------------------------------------------------------


def _is_email(value: str) -> bool:
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


_HOST = re.compile(r"^(?=.{1,253}$)(?!-)[\w-]{1,63}(\.[\w-]{1,63})+$")


def domain_for_website(value: str) -> str | None:
    """'https://www.Acme.com/about' -> 'acme.com'; None when the value is no web address."""
    value = value.strip().lower()
    if " " in value:
        return None
    try:
        host = urlsplit(value if "://" in value else f"http://{value}").hostname or ""
    except ValueError:
        return None
    host = host.rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    return host if _HOST.match(host) else None


_WHOLE_NUMBER = re.compile(r"^\d{1,3}(,\d{3})+$|^\d+(\.0*)?$")
# HubSpot's contact property "Number of Employees" is a pick list of bands ("25-50", "1000+").
_EMPLOYEE_BAND = re.compile(r"^(\d+)\s*[-\u2013]\s*(\d+)$|^(\d+)\s*\+$")


def parse_employees(value: str) -> int | None:
    """A head count >= 0, or None. A band counts as its lower bound, which keeps it in the same segment band."""
    value = "".join(value.split())  # "1 200" and "25 - 50" as people type them
    if _WHOLE_NUMBER.match(value):
        number = int(Decimal(value.replace(",", "")))
    elif match := _EMPLOYEE_BAND.match(value):
        low, high, open_ended = match.groups()
        if low is not None and int(low) > int(high):
            return None
        number = int(low if low is not None else open_ended)
    else:
        return None
    return number if number <= _MAX_EMPLOYEES else None


_AMOUNT = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$|^\d+(\.\d+)?([eE][+-]?\d+)?$|^\.\d+$")
_CURRENCY_SIGNS = "$€£¥"


def parse_amount(value: str) -> Decimal | None:
    """A money amount >= 0 rounded to cents: '2500000', '2,500,000.00', '$2,500,000', '2.5E6'; else None."""
    value = value.strip().strip(_CURRENCY_SIGNS).strip()
    for code in ("USD", "EUR", "GBP"):
        value = value.removeprefix(code).removesuffix(code).strip()
    if not _AMOUNT.match(value):
        return None
    try:
        amount = Decimal(value.replace(",", ""))
    except InvalidOperation:
        return None
    return amount.quantize(_REVENUE_PLACES, rounding=ROUND_HALF_UP)


def parse_datetime(value: str) -> datetime | None:
    """An aware datetime from the date formats CRMs export (ISO 8601, with or without a zone; epoch milliseconds).

    A time without a zone is taken as UTC, which is what both Salesforce and HubSpot exports use.
    """
    value = value.strip()
    if value.isdigit() and len(value) == 13:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


_TRUE = frozenset({"true", "yes", "y", "1", "t", "x"})
_FALSE = frozenset({"false", "no", "n", "0", "f"})


def parse_bool(value: str) -> bool | None:
    key = value.strip().casefold()
    return True if key in _TRUE else False if key in _FALSE else None


def parse_marketing_status(value: str) -> bool | None:
    """HubSpot's marketing contact status: a label in the app's export, true / false in the API's."""
    key = " ".join(value.replace("-", " ").split()).casefold()
    if key in ("marketing contact", "marketing"):
        return True
    if key in ("non marketing contact", "non marketing"):
        return False
    return parse_bool(value)


def consent_for(*, opted_out: bool | None, marketable: bool | None) -> tuple[bool | None, bool]:
    """(email consent, opted out) from what the file says; consent None when it says nothing.

    An opt-out always wins. A contact the CRM may e-mail (not opted out, or a marketing contact) has consent; a
    HubSpot non-marketing contact has not been opted out but must not get marketing e-mail either.
    """
    if opted_out:
        return False, True
    if marketable is False:
        return False, False
    if opted_out is False or marketable is True:
        return True, False
    return None, False
