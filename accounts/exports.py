"""Tables for download as CSV or XLSX, from one place (PRODUCT §9 exports).

Every export of the project is a :class:`Table` built by a selector that already applies the
reader's rules (PRODUCT §1.1); this module only writes it. It writes every text cell so that
no spreadsheet runs it: in CSV a text that starts like a formula gets a leading apostrophe
(the convention spreadsheet programs show as text), in XLSX every text cell is typed as a
string, never a formula. Numbers stay numbers, instants are written in ISO 8601 with their
offset, days as ISO dates, yes/no as words.
"""

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Spreadsheets run a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
# Characters XML 1.0 cannot hold (openpyxl refuses them): control characters but tab and
# newline. Names and titles refuse them already; free text from older rows may not.
NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
SHEET_TITLE_REFUSES = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class Table:
    """A sheet: ``name`` gives the file name and the sheet title; ``rows`` hold cell values
    (text, numbers, Decimal, bool, date, datetime or None)."""

    name: str
    columns: Sequence[str]
    rows: Iterable[Sequence[object]]


def safe_text(value: str) -> str:
    """A text a spreadsheet shows as written, never runs."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _plain(value: object) -> object:
    """A cell as CSV and XLSX both understand it: numbers stay numbers, the rest is text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, (int, float, Decimal)):
        return value
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _filename(table: Table, extension: str) -> str:
    return f"{slugify(table.name) or 'export'}.{extension}"


def _attachment(response: HttpResponseBase, filename: str) -> HttpResponseBase:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


class _Echo:
    """A file for ``csv.writer`` that hands each written line back (for streaming)."""

    def write(self, value: str) -> str:
        return value


def csv_lines(table: Table) -> Iterator[str]:
    """The table as CSV lines, a byte-order mark first (so spreadsheet programs read UTF-8)."""
    writer = csv.writer(_Echo())
    yield "\ufeff"
    yield writer.writerow([safe_text(str(title)) for title in table.columns])
    for row in table.rows:
        cells = (_plain(value) for value in row)
        yield writer.writerow(safe_text(c) if isinstance(c, str) else c for c in cells)


def csv_bytes(table: Table) -> bytes:
    """The table as UTF-8 CSV with a byte-order mark."""
    return "".join(csv_lines(table)).encode()


def xlsx_bytes(table: Table) -> bytes:
    """The table as one XLSX sheet, its header row bold and frozen, every text a string."""
    from openpyxl import Workbook  # type: ignore[import-untyped]
    from openpyxl.styles import Font  # type: ignore[import-untyped]

    book = Workbook(write_only=False)
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET_TITLE_REFUSES.sub(" ", table.name)[:31] or "Export"
    _append(sheet, table.columns)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for row in table.rows:
        _append(sheet, row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _append(sheet, values: Sequence[object]) -> None:
    """One row; every text typed as a string (never a formula, whatever it starts with)."""
    cells = [_plain(value) for value in values]
    sheet.append([NOT_IN_XML.sub("", c) if isinstance(c, str) else c for c in cells])
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def table_response(table: Table, fmt: str, *, stream: bool = False) -> HttpResponseBase:
    """The table as a download in ``fmt`` (one of :data:`FORMATS`); ``stream`` writes a CSV
    line by line as its rows come (a long audit trail), never holding it all."""
    if stream and fmt == "csv":
        streaming = StreamingHttpResponse(csv_lines(table), content_type="text/csv; charset=utf-8")
        return _attachment(streaming, _filename(table, fmt))
    if fmt == "xlsx":
        response = HttpResponse(xlsx_bytes(table), content_type=XLSX_TYPE)
    else:
        response = HttpResponse(csv_bytes(table), content_type="text/csv; charset=utf-8")
    return _attachment(response, _filename(table, fmt))
