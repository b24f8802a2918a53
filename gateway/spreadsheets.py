"""The one writer of CSV and Excel files that every export uses (tasks, results, statistics,
inspectors, import templates).

Exported cells hold text that others typed (target names, remarks), so a spreadsheet must never
read one as a formula: in CSV a cell starting with ``= + - @``, a tab or a carriage return gets a
leading apostrophe (OWASP's advice; Excel hides it); in Excel every text cell is written as a
string with the quote-prefix style, never as a formula. CSV is UTF-8 with a byte-order mark so
that Excel opens it with the right encoding.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, datetime
from typing import Any, Iterable, Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Werkzeug appends "; charset=utf-8" to text types itself; naming it here would send it twice.
CSV_MIMETYPE = "text/csv"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell_value(value: Any) -> Any:
    """A value as a spreadsheet shows it: dates as ISO text, booleans as 是/否, None as empty."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "是" if value else "否"
    if value is None:
        return ""
    return value


def neutralise(value: Any) -> Any:
    """Text that a spreadsheet would take for a formula, made plain text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in headers])
    for row in rows:
        writer.writerow([neutralise(cell_value(v)) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], sheet: str = "Sheet1",
            stamp: datetime | None = None) -> bytes:
    return to_xlsx_sheets([(sheet, title, headers, rows)], stamp=stamp)


def to_xlsx_sheets(sheets: Iterable[tuple[str, str, Sequence[str], Iterable[Sequence[Any]]]],
                   stamp: datetime | None = None) -> bytes:
    """A workbook of (sheet name, title, headers, rows): each sheet has a merged title row, bold
    shaded headers, frozen panes and fitted column widths. With ``stamp``, every time the file
    holds (the archive's entries, the document's created and modified) is ``stamp``, so the same
    data gives the same bytes (a published file and its command-line copy)."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, title, headers, rows in sheets:
        _fill_sheet(workbook.create_sheet(name[:31]), title, headers, rows)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue() if stamp is None else _stamped(out.getvalue(), stamp)


def _stamped(data: bytes, stamp: datetime) -> bytes:
    """``data`` (an xlsx archive) with every entry dated ``stamp`` and the core properties' times too."""
    moment = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*", rb"\g<1>" + moment, content)
            target.writestr(zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6]), content,
                            compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _fill_sheet(ws, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    _append(ws, [title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(len(headers), 1))
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    ws.cell(row=1, column=1).alignment = Alignment(horizontal="center")
    _append(ws, list(headers))
    fill = PatternFill("solid", fgColor="DDEBF7")
    for column in range(1, len(headers) + 1):
        cell = ws.cell(row=2, column=column)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    widths = [_width(h) for h in headers]
    for row in rows:
        values = [cell_value(v) for v in row]
        _append(ws, values)
        for i, value in enumerate(values):
            if i < len(widths):
                widths[i] = max(widths[i], _width(value))
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = min(max(width + 2, 6), 60)
    ws.freeze_panes = "A3"
    # printed: A4 landscape, one page wide, the title and header rows on every page
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:2"


def _append(ws, values: list[Any]) -> None:
    ws.append(values)
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"  # openpyxl takes any text starting with "=" for a formula
            if cell.value.startswith(FORMULA_STARTS):
                cell.quotePrefix = True  # and Excel keeps it text when the cell is edited


def _width(value: Any) -> int:
    text = str(value)
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)
