"""Every CSV LeadOps writes goes through one writer that keeps spreadsheet formulas from running."""

import csv
import io
from decimal import Decimal

import pytest

from leadops.csv_export import csv_response, csv_safe_value, write_csv

pytestmark = pytest.mark.sqlite


@pytest.mark.parametrize(
    "value, expected",
    [
        # Text a spreadsheet would run as a formula gets a leading apostrophe, which makes it plain text.
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://evil.example","click")', '\'=HYPERLINK("http://evil.example","click")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\rfoo", "'\rfoo"),
        ("  =1+1", "'  =1+1"),
        ("+49 30 1234567", "'+49 30 1234567"),
        ("-", "'-"),
        # Ordinary text is left alone, also with a formula sign further in.
        ("Ada Lovelace", "Ada Lovelace"),
        ("a=b", "a=b"),
        ("", ""),
        # Numbers stay numbers, negative ones too, whether typed as numbers or as the text of a plain number.
        (-5, -5),
        (-0.5, -0.5),
        (Decimal("-2500.50"), Decimal("-2500.50")),
        (0, 0),
        ("-5", "-5"),
        ("-2500.50", "-2500.50"),
        ("+1.5e3", "+1.5e3"),
        (True, True),
        (None, None),
    ],
)
def test_csv_safe_value(value, expected):
    assert csv_safe_value(value) == expected


def test_write_csv_neutralises_headers_and_cells_and_keeps_numbers():
    buffer = io.StringIO()
    write_csv(
        [["=1+1", -5, Decimal("1.50"), None], ["@evil", "-5", "-5 days", "Ada"]],
        ["Name", "=Score", "Revenue", "Note"],
        buffer,
    )
    assert buffer.getvalue() == "Name,'=Score,Revenue,Note\r\n'=1+1,-5,1.50,\r\n'@evil,-5,'-5 days,Ada\r\n"
    assert list(csv.reader(io.StringIO(buffer.getvalue())))[1] == ["'=1+1", "-5", "1.50", ""]


def test_csv_response_streams_utf8_with_a_byte_order_mark_as_an_attachment():
    response = csv_response([["Zoë", "=2*3"], ["Renée", 7]], ["First name", "Score"], filename='leads "today"\r\n.csv')
    body = b"".join(response.streaming_content)
    assert body == "\ufeffFirst name,Score\r\nZoë,'=2*3\r\nRenée,7\r\n".encode()
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="leads \\"today\\".csv"'
