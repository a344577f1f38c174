"""One table as an .xlsx for people (exports opened in Excel or WPS): text cells stored as text, so
an 18-digit key or ID number keeps every digit and a leading zero stays; frozen header, filters;
no cell able to run as a formula, even after it is edited; overdue rows filled red when the sheet
says which they are; written whole or not at all."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xlsxwriter

from pipelines.errors import BiduiError
from pipelines.store.files import looks_like_formula, staged_files

__all__ = ["MAX_EXCEL_ROWS", "OVERDUE_FILL", "ExcelSheet", "write_excel_table", "write_excel_tables"]

_MAX_WIDTH = 40
# Rows a worksheet holds under its header row. Past it xlsxwriter returns -1 and drops the row
# without raising: the file would be cut short while the export reported every row.
MAX_EXCEL_ROWS = 1_048_575
# The red of an overdue clue's row, the same as in the issued ledgers (pipelines.ledgers.workbook).
OVERDUE_FILL = "#F8CBAD"
# The first characters of any text looks_like_formula can call a formula: the cheap test that
# spares almost every cell the full one (tests/pipelines/store/test_xlsx.py holds them together).
_FORMULA_FIRST = frozenset("\t\r=+-@")
_LONGER_THAN_ANY_CELL = 1 << 40  # Excel holds at most 32,767 characters in a cell


def _width(value: Any) -> int:
    text = "" if value is None else str(value)
    if text.isascii():
        return len(text)
    # CJK characters take about two columns of Excel's width unit.
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


@dataclass(frozen=True)
class ExcelSheet:
    """One sheet of a workbook: its name (≤ 31 characters), headers and rows; `title` lines above
    the header (a document's heading and data date), `widths` per header; `overdue`, for a list of
    clues with a deadline, tells from a row whether its clue is overdue: those rows are filled red
    across the table, as in the issued ledgers."""

    name: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Any]]
    title: Sequence[str] = ()
    widths: dict[str, int] = field(default_factory=dict)
    overdue: Callable[[Sequence[Any]], bool] | None = None


def write_excel_table(
    out: Path,
    sheet: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    widths: dict[str, int] | None = None,
    overdue: Callable[[Sequence[Any]], bool] | None = None,
) -> int:
    """Write `rows` under `headers` to one sheet of `out`; returns the rows written. Strings are
    written as text (never read as numbers, dates or formulas), numbers as numbers, None as blank;
    rows `overdue` holds true of are filled red."""
    return write_excel_tables(out, [ExcelSheet(sheet, headers, rows, widths=dict(widths or {}), overdue=overdue)])[0]


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


class _Widths:
    """Each column's width: the one the sheet gives, else its widest cell (header included) plus
    two, at most _MAX_WIDTH. A cell is measured only when it could widen its column: a text is at
    least as wide as it is long and at most twice, so one no longer than `half[col]` cannot."""

    def __init__(self, headers: list[str], given: dict[str, int]):
        self.given = [given.get(h) for h in headers]
        self.seen = [_width(h) + 2 for h in headers]
        self.room = [0] * len(headers)  # the widest cell that leaves its column as it is
        self.half = [0] * len(headers)
        for col in range(len(headers)):
            self._settle(col)

    def _settle(self, col: int) -> None:
        done = self.given[col] is not None or self.seen[col] >= _MAX_WIDTH
        self.room[col] = _LONGER_THAN_ANY_CELL if done else self.seen[col] - 2
        self.half[col] = self.room[col] // 2

    def see(self, col: int, cell: str) -> None:
        """Widen column `col` to fit `cell` (one longer than half[col])."""
        wide = _width(cell)
        if wide > self.room[col]:
            self.seen[col] = wide + 2
            self._settle(col)

    def final(self) -> list[int]:
        return [min(s if g is None else g, _MAX_WIDTH) for g, s in zip(self.given, self.seen)]


def _write_head(book, page, sheet: ExcelSheet) -> tuple[int, tuple]:
    """The title lines and the header row; returns the header's row and the formats of a row's
    cells (text, quoted text, number)."""
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
    for col, header in enumerate(sheet.headers):
        page.write_string(top, col, str(header), quoted_head if looks_like_formula(header) else head)
    return top, (text, quoted_text, None)


def _overdue_formats(book) -> tuple:
    red = {"bg_color": OVERDUE_FILL}
    return (
        book.add_format({"num_format": "@", **red}),
        book.add_format({"num_format": "@", "quote_prefix": True, **red}),
        book.add_format(red),
    )


def _write_sheet(book, sheet: ExcelSheet) -> int:
    headers = list(sheet.headers)
    page = book.add_worksheet(sheet.name)
    top, plain = _write_head(book, page, sheet)
    late = _overdue_formats(book) if sheet.overdue is not None else plain
    widths = _Widths(headers, sheet.widths)
    half, see = widths.half, widths.see
    write_string, write_number, write_blank = page.write_string, page.write_number, page.write_blank
    count, limit = 0, MAX_EXCEL_ROWS - top
    for count, row in enumerate(sheet.rows, start=1):
        if count > limit:  # raising discards the staged file: nothing partial is left
            raise BiduiError("超过 Excel 单个工作表 1,048,575 行的上限：请按县导出，或改用 .csv")
        at = top + count
        marked = sheet.overdue is not None and sheet.overdue(row)
        as_text, as_quoted, as_number = late if marked else plain
        for col, value in enumerate(row):
            if value is None or value == "":
                if marked:
                    write_blank(at, col, None, as_number)
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                cell = str(value)
                quoted = cell[:1] in _FORMULA_FIRST and looks_like_formula(cell)
                write_string(at, col, cell, as_quoted if quoted else as_text)
            else:
                cell = str(value)
                write_number(at, col, value, as_number)
            if len(cell) > half[col]:
                see(col, cell)
        if marked:  # a short row is red to the table's edge all the same
            for col in range(len(row), len(headers)):
                write_blank(at, col, None, as_number)
    for col, width in enumerate(widths.final()):
        page.set_column(col, col, width)
    page.freeze_panes(top + 1, 0)
    page.autofilter(top, 0, top + count, max(len(headers) - 1, 0))
    return count
