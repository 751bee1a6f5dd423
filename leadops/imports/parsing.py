"""Reading an exported CSV file into clean lead rows, or into a report of every bad row.

Pure: bytes and the current time in, rows and errors out. No ORM, no settings, no clock. Line numbers are the
physical lines of the file, so a quoted field that spans lines does not shift the lines reported after it.

What cannot be read with certainty is refused, never guessed: bytes that are not in the file's encoding, a quote
that is never closed, a field longer than the csv module reads. Rows that repeat an e-mail address are one lead
(Salesforce allows several leads with one address) and are merged into the first of them.
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

    line: int  # the first line of the lead, when several rows were merged into it
    email: str
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    title: str = ""
    phone: str = ""
    # Company web domain, from the website column or else the e-mail address (never a free mailbox provider).
    domain: str = ""
    domain_from_website: bool = False
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


@dataclass(frozen=True, slots=True)
class Repeat:
    """Rows that share an e-mail address and became one lead: the address and their lines, first line first."""

    email: str
    lines: tuple[int, ...]


@dataclass
class ParsedFile:
    layout: Layout
    encoding: str
    delimiter: str
    rows: list[LeadRow] = field(default_factory=list)  # one per e-mail address, in the order they first appear
    errors: list[RowError] = field(default_factory=list)  # the first MAX_REPORTED_ERRORS
    error_count: int = 0
    bad_rows: int = 0
    row_count: int = 0
    repeats: list[Repeat] = field(default_factory=list)
    merged_rows: int = 0  # rows folded into an earlier row with the same e-mail

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def unreported_errors(self) -> int:
        return self.error_count - len(self.errors)


# --- the file ---------------------------------------------------------------------------------------------------


AUTO_ENCODING = "auto"
# Encodings a person can name for a file whose encoding LeadOps cannot tell by itself: choice -> (codec, label).
CHOSEN_ENCODINGS: dict[str, tuple[str, str]] = {
    "windows-1252": ("cp1252", "Windows-1252"),
    "latin-1": ("latin-1", "Latin-1"),
    "shift_jis": ("cp932", "Shift-JIS"),  # Windows' Shift-JIS, which Japanese Excel writes
}
ENCODING_CHOICES: tuple[tuple[str, str], ...] = (
    (AUTO_ENCODING, "Detect: UTF-8 (with or without byte order mark) or UTF-16 with byte order mark"),
    ("windows-1252", "Windows-1252: Excel's 'CSV (Comma delimited)' on Windows in Western Europe and the Americas"),
    ("latin-1", "Latin-1 (ISO 8859-1)"),
    ("shift_jis", "Shift-JIS: Excel's 'CSV (Comma delimited)' on Japanese Windows"),
)
ENCODINGS_READ_BY_THEMSELVES = "UTF-8 (with or without byte order mark) and UTF-16 with byte order mark"
_BYTE_ORDER_MARKS = ((codecs.BOM_UTF8, "UTF-8"), (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))
# Latin-1 maps 0x80-0x9F to control characters no export contains; Windows-1252 has letters and quotes there.
_C1_CONTROL = re.compile("[\x80-\x9f]")


def decode(data: bytes, encoding: str = AUTO_ENCODING) -> tuple[str, str]:
    """The text and the name of its encoding; ImportFileError when the bytes cannot be read with certainty.

    Of its own accord LeadOps reads only encodings that identify themselves: UTF-16 by its byte order mark, and
    UTF-8, which other encodings' non-ASCII text practically never passes for. A single-byte encoding such as
    Windows-1252 decodes any bytes at all, so reading a Shift-JIS file as Windows-1252 gives mojibake, not an
    error: such encodings are read only when the person names one (`encoding`, one of CHOSEN_ENCODINGS).
    """
    byte_order_mark = next((label for mark, label in _BYTE_ORDER_MARKS if data.startswith(mark)), None)
    chosen = encoding != AUTO_ENCODING
    if not chosen:
        codec, label = ("utf-16", "UTF-16") if byte_order_mark == "UTF-16" else ("utf-8-sig", "UTF-8")
    else:
        if encoding not in CHOSEN_ENCODINGS:
            raise ValueError(f"Unknown encoding choice {encoding!r}; choose one of {', '.join(CHOSEN_ENCODINGS)}.")
        codec, label = CHOSEN_ENCODINGS[encoding]
        if byte_order_mark is not None:
            raise ImportFileError(
                f"The file starts with a {byte_order_mark} byte order mark, so it is {byte_order_mark}, not {label}. "
                f"Upload it again with the encoding left to detect."
            )
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as error:
        raise ImportFileError(_undecodable(data, error, codec=codec, label=label, chosen=chosen)) from None
    if label == "Latin-1" and (control := _C1_CONTROL.search(text)):
        line = text.count("\n", 0, control.start()) + 1
        raise ImportFileError(
            f"Line {line} has the byte 0x{ord(control.group()):02X}, a control character in Latin-1 that no export "
            f"contains. The file is probably Windows-1252: choose that encoding instead."
        )
    return text, label


def _undecodable(data: bytes, error: UnicodeDecodeError, *, codec: str, label: str, chosen: bool) -> str:
    line = data[: error.start].decode(codec, errors="replace").count("\n") + 1
    shown = data[error.start : error.start + 4].split(b"\n")[0].split(b"\r")[0].hex(" ")
    if chosen:
        return (
            f"The file is not {label}: line {line} has bytes ({shown}) that {label} does not define. Choose the "
            f"encoding the file was saved in, or save it as 'CSV UTF-8 (Comma delimited)' and upload that."
        )
    return (
        f"The file is not {label}: line {line} has bytes ({shown}) that {label} does not allow, so its letters "
        f"cannot be read with certainty. LeadOps reads {ENCODINGS_READ_BY_THEMSELVES} by itself. Save the file as "
        f"'CSV UTF-8 (Comma delimited)', or choose its encoding under Encoding (manage.py import_leads --encoding): "
        f"Windows-1252 for Excel's 'CSV (Comma delimited)' on Windows in Western Europe and the Americas, Latin-1, "
        f"or Shift-JIS."
    )


def _delimiter_for(text: str) -> str:
    """Comma, unless the header line splits into more columns on a semicolon or tab (European Excel uses ';')."""
    first_line = next((line for line in io.StringIO(text, newline="") if line.strip()), "")
    best, best_count = ",", 0
    for delimiter in (",", ";", "\t"):
        try:
            count = len(next(csv.reader([first_line], delimiter=delimiter), []))
        except csv.Error:
            continue  # a field too long to read; the reader reports it with its line
        if count > best_count:
            best, best_count = delimiter, count
    return best


def _unreadable_record(error: csv.Error, *, last_line: int, inside_quotes: bool) -> tuple[str, bool]:
    """Why the csv module could not read a record, and whether reading must stop there."""
    message = str(error)
    if message.startswith("field larger than field limit"):
        reason = f"a field is longer than {csv.field_size_limit():,} characters, the longest LeadOps reads"
    elif message == "unexpected end of data":
        return (
            f"a quoted field opens on this line and is never closed: it runs to the end of the file (line {last_line})"
        ), True
    elif "expected after" in message:
        reason = (
            f"a quoted field is followed by other text before the next separator ({message}); "
            f"check for a stray quote character"
        )
    else:
        reason = f"the line cannot be read as CSV ({message}); check for a stray quote character"
    if inside_quotes:
        reason += "; a quote opened in this row is probably never closed, so nothing after it was read"
    return reason, inside_quotes


def parse_leads_file(
    data: bytes,
    *,
    now: datetime,
    encoding: str = AUTO_ENCODING,
    max_reported_errors: int = MAX_REPORTED_ERRORS,
) -> ParsedFile:
    """Every lead row of an export file, or the problems with them; ImportFileError if the file itself is unusable.

    `encoding` is AUTO_ENCODING or one of CHOSEN_ENCODINGS (see decode).
    """
    if not data.strip():
        raise ImportFileError("The file is empty: there is no header line and no leads.")
    if data.startswith(_SPREADSHEET_SIGNATURES):
        raise ImportFileError(
            "This is an Excel workbook, not a CSV file. Open it in Excel and save it as "
            "'CSV UTF-8 (Comma delimited)', then upload that file."
        )
    text, encoding_label = decode(data, encoding)
    if not text.strip():
        raise ImportFileError("The file is empty: there is no header line and no leads.")
    delimiter = _delimiter_for(text)
    # The physical lines, split as the csv module splits them; kept to look back at the lines of a record it fails on.
    lines = io.StringIO(text, newline="").readlines()
    # Strict: a quote that is never closed is an error, not a field that swallows the rest of the file.
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    parsed: ParsedFile | None = None
    column_map: ColumnMap | None = None
    by_email: dict[str, LeadRow] = {}
    repeat_lines: dict[str, list[int]] = {}
    lines_read = 0
    while True:
        # reader.line_num is the last physical line of a record; the next one starts after it.
        line = lines_read + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            lines_read = reader.line_num
            # An even number of quotes in the lines read for this record: the reader stopped outside any quoted
            # field, so the next line starts a new record. An odd number: a quoted field is still open, and what
            # follows cannot be told apart from its contents.
            quotes = sum(physical.count('"') for physical in lines[line - 1 : lines_read])
            reason, stop = _unreadable_record(error, last_line=lines_read, inside_quotes=quotes % 2 == 1)
            if parsed is None:
                raise ImportFileError(f"Line {line}: {reason}.") from None
            parsed.row_count += 1
            _count_errors(parsed, [RowError(line, "", "", reason)], max_reported_errors)
            if stop:
                break
            continue
        lines_read = reader.line_num
        if not any(cell.strip() for cell in record):
            continue  # blank lines, and the ",,,," rows spreadsheets leave behind
        if column_map is None:
            try:
                column_map = layouts.detect_layout(record)
            except layouts.UnrecognisedHeader as error:
                raise ImportFileError(str(error)) from None
            parsed = ParsedFile(layout=column_map.layout, encoding=encoding_label, delimiter=delimiter)
            continue
        parsed.row_count += 1
        row, errors = parse_row(record, column_map, line=line, now=now)
        if errors:
            _count_errors(parsed, errors, max_reported_errors)
        elif (first := by_email.get(row.email)) is not None:
            merge_repeat(first, row)
            repeat_lines.setdefault(row.email, [first.line]).append(line)
        else:
            by_email[row.email] = row
            parsed.rows.append(row)
    if parsed is None:
        raise ImportFileError("The file is empty: there is no header line and no leads.")
    if parsed.row_count == 0:
        raise ImportFileError("The file has a header line but no leads below it.")
    parsed.repeats = [Repeat(email, tuple(repeated)) for email, repeated in repeat_lines.items()]
    parsed.merged_rows = sum(len(repeat.lines) - 1 for repeat in parsed.repeats)
    return parsed


def _count_errors(parsed: ParsedFile, errors: list[RowError], max_reported_errors: int) -> None:
    parsed.bad_rows += 1
    parsed.error_count += len(errors)
    room = max_reported_errors - len(parsed.errors)
    parsed.errors.extend(errors[: max(room, 0)])


_LATER_WINS_TEXT = ("first_name", "last_name", "company", "title", "phone", "industry", "country", "external_id")


def merge_repeat(first: LeadRow, later: LeadRow) -> None:
    """Fold a later row with the same e-mail into the first one, which becomes the lead.

    Field by field, what the later row fills in wins and its blanks erase nothing (exports list records oldest
    first, so later is newer). Three exceptions: the earliest creation date and the first source label are kept,
    as they say when and where the person first came in; an opt-out in any row stands; and a domain read from a
    website beats one guessed from the e-mail address.
    """
    for name in _LATER_WINS_TEXT:
        if value := getattr(later, name):
            setattr(first, name, value)
    for name in ("annual_revenue", "employees"):
        if (value := getattr(later, name)) is not None:
            setattr(first, name, value)
    if later.domain and (later.domain_from_website or not first.domain):
        first.domain, first.domain_from_website = later.domain, later.domain_from_website
    if later.created_at is not None and (first.created_at is None or later.created_at < first.created_at):
        first.created_at = later.created_at
    if not first.source_detail and later.source_detail:
        first.source, first.source_detail = later.source, later.source_detail
    first.opted_out = first.opted_out or later.opted_out
    if first.opted_out:
        first.email_consent = False
    elif later.email_consent is not None:
        first.email_consent = later.email_consent


# --- one row ----------------------------------------------------------------------------------------------------


def parse_row(
    record: list[str], column_map: ColumnMap, *, line: int, now: datetime
) -> tuple[LeadRow | None, list[RowError]]:
    """The lead on one line and the problems with it. The row is None only when there is no usable e-mail."""
    errors: list[RowError] = []
    refused_columns: set[str] = set()

    def problem(column: str, value: str, reason: str) -> None:
        errors.append(RowError(line, column, value, reason))

    def cell(attribute: str) -> tuple[str, str]:
        """(value, column name in the file) of the first filled-in column that carries `attribute`."""
        columns: tuple[Column, ...] = column_map.columns.get(attribute, ())
        for column in columns:
            if column.index < len(record):
                value = record[column.index].strip()
                if "\x00" in value:
                    # PostgreSQL cannot store a NUL in text; nothing legitimate has one.
                    if column.name not in refused_columns:
                        refused_columns.add(column.name)
                        problem(
                            column.name,
                            value.replace("\x00", ""),
                            f"{column.name} contains a NUL character (byte 0), which no lead field can hold",
                        )
                    continue
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
    if column_map.layout.needs_last_name_or_company:
        has_last_name = bool(cell(layouts.LAST_NAME)[0])
        has_company = cell(layouts.COMPANY)[0].casefold() not in _NO_COMPANY_PLACEHOLDERS | {""}
        if not (has_last_name or has_company or refused_columns):
            names = column_map.layout.columns
            columns = [
                column_map.columns[attribute][0].name if attribute in column_map.columns else names[attribute][0]
                for attribute in (layouts.LAST_NAME, layouts.COMPANY)
            ]
            problem(
                ", ".join(columns),
                "",
                f"the row has neither a last name nor a company; a {column_map.layout.crm} lead has both",
            )
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
            row.domain, row.domain_from_website = domain, True
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
