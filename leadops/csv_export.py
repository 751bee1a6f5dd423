"""The one way LeadOps writes CSV: cells a spreadsheet would run as a formula are written as plain text.

Lead data comes from web forms, CRM exports and tracking systems, so a name or a title may well be
`=HYPERLINK("http://evil.example", "click")` or `+cmd|' /C calc'!A0`. That is harmless in the database and on the
pages, but Excel, LibreOffice and Google Sheets run it when someone opens an export. Every CSV or spreadsheet LeadOps
writes (lead lists, scorecards, reports) therefore goes through `write_csv` or `csv_response`, which put an
apostrophe before such text: spreadsheets read a leading apostrophe as "this cell is text" (OWASP's advice for CSV
injection).

Numbers are left alone: a number cannot run anything, and -5 must arrive as -5, not as the text '-5.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header

# What makes Excel, LibreOffice or Google Sheets start a formula (or a DDE call): OWASP's list.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Text that is just a number ("-5", "+1.5e3", "-2500.50") is read as that number, never as a formula.
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def csv_safe_value(value: Any) -> Any:
    """The value as it may go into a CSV cell: text that would start a formula gets a leading apostrophe.

    Numbers (int, float, Decimal, bool) and None are returned unchanged, and so is text that is exactly a plain
    number. Leading spaces do not hide a formula sign: some spreadsheets skip them.
    """
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_STARTS) or value.lstrip().startswith(FORMULA_STARTS):
        if _PLAIN_NUMBER.fullmatch(value.strip()):
            return value
        return "'" + value
    return value


def csv_safe_row(row: Iterable[Any]) -> list[Any]:
    return [csv_safe_value(value) for value in row]


def write_csv(rows: Iterable[Sequence[Any]], headers: Sequence[str], file) -> None:
    """Write a header line and the rows to `file` (anything with .write), every cell made safe."""
    writer = csv.writer(file)
    writer.writerow(csv_safe_row(headers))
    for row in rows:
        writer.writerow(csv_safe_row(row))


class _Line:
    """A file-like object whose write() hands back what it was given, so csv.writer can feed a stream."""

    def write(self, text: str) -> str:
        return text


def _lines(rows: Iterable[Sequence[Any]], headers: Sequence[str]) -> Iterator[bytes]:
    # A UTF-8 byte order mark, or Excel on Windows opens the file as Windows-1252 and garbles every accent.
    yield "\ufeff".encode()
    writer = csv.writer(_Line())
    yield writer.writerow(csv_safe_row(headers)).encode()
    for row in rows:
        yield writer.writerow(csv_safe_row(row)).encode()


def csv_response(rows: Iterable[Sequence[Any]], headers: Sequence[str], *, filename: str) -> StreamingHttpResponse:
    """A download of the rows as a UTF-8 CSV file, streamed row by row (an iterator of rows is never held whole)."""
    # Line breaks in a header value would end the header; the rest is quoted by content_disposition_header.
    filename = "".join(char for char in filename if char not in "\r\n")
    response = StreamingHttpResponse(_lines(rows, headers), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response
