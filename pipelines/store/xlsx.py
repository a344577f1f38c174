"""One table as an .xlsx for people (exports opened in Excel or WPS): text cells stored as text, so
an 18-digit key or ID number keeps every digit and a leading zero stays; frozen header, filters;
no cell able to run as a formula, even after it is edited; written whole or not at all."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xlsxwriter

from pipelines.errors import BiduiError
from pipelines.store.files import looks_like_formula, staged_files

__all__ = ["MAX_EXCEL_ROWS", "ExcelSheet", "write_excel_table", "write_excel_tables"]

_MAX_WIDTH = 40
# Rows a worksheet holds under its header row. Past it xlsxwriter returns -1 and drops the row
# without raising: the file would be cut short while the export reported every row.
MAX_EXCEL_ROWS = 1_048_575


def _width(value: Any) -> int:
    text = "" if value is None else str(value)
    # CJK characters take about two columns of Excel's width unit.
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


@dataclass(frozen=True)
class ExcelSheet:
    """One sheet of a workbook: its name (≤ 31 characters), headers and rows; `title` lines above
    the header (a document's heading and data date), `widths` per header."""

    name: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Any]]
    title: Sequence[str] = ()
    widths: dict[str, int] = field(default_factory=dict)


def write_excel_table(
    out: Path, sheet: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], widths: dict[str, int] | None = None
) -> int:
    """Write `rows` under `headers` to one sheet of `out`; returns the rows written. Strings are
    written as text (never read as numbers, dates or formulas), numbers as numbers, None as blank."""
    return write_excel_tables(out, [ExcelSheet(sheet, headers, rows, widths=dict(widths or {}))])[0]


def write_excel_tables(out: Path, sheets: Sequence[ExcelSheet]) -> list[int]:
    """Write each sheet to `out` (whole or not at all); returns the rows written per sheet."""
    counts = []
    with staged_files() as stage:
        # constant_memory streams rows to disk: an export of a whole prefecture stays small in memory.
        book = xlsxwriter.Workbook(str(stage(Path(out))), {"constant_memory": True})
        try:
            for sheet in sheets:
                counts.append(_write_sheet(book, sheet))
        finally:
            book.close()
    return counts


def _write_sheet(book, sheet: ExcelSheet) -> int:
    headers = list(sheet.headers)
    seen = {h: _width(h) + 2 for h in headers}
    page = book.add_worksheet(sheet.name)
    head_style = {"bold": True, "bg_color": "#D9E1F2", "border": 1}
    head = book.add_format(head_style)
    text = book.add_format({"num_format": "@"})
    # Excel's own quote prefix rather than a literal apostrophe: the cell shows the value as
    # delivered ('-', '+86…') and stays text when someone edits it and presses Enter.
    quoted_head = book.add_format({**head_style, "quote_prefix": True})
    quoted_text = book.add_format({"num_format": "@", "quote_prefix": True})
    title = book.add_format({"bold": True, "font_size": 13})
    for line_no, line in enumerate(sheet.title):
        page.write_string(line_no, 0, str(line), title if line_no == 0 else text)
    top = len(sheet.title)
    for col, header in enumerate(headers):
        page.write_string(top, col, str(header), quoted_head if looks_like_formula(header) else head)
    count = 0
    for count, row in enumerate(sheet.rows, start=1):
        if count > MAX_EXCEL_ROWS - top:  # raising discards the staged file: nothing partial is left
            raise BiduiError("超过 Excel 单个工作表 1,048,575 行的上限：请按县导出，或改用 .csv")
        for col, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                cell = str(value)
                page.write_string(top + count, col, cell, quoted_text if looks_like_formula(cell) else text)
            else:
                page.write_number(top + count, col, value)
            seen[headers[col]] = max(seen[headers[col]], _width(value) + 2)
    for col, header in enumerate(headers):
        page.set_column(col, col, min(sheet.widths.get(header, seen[header]), _MAX_WIDTH))
    page.freeze_panes(top + 1, 0)
    page.autofilter(top, 0, top + count, max(len(headers) - 1, 0))
    return count
