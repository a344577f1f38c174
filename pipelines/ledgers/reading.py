"""Reading a returned ledger workbook: the data rows of every township sheet, by column name.

A township sheet may carry title rows above its header and a signature block below its data
(pipelines.ledgers.workbook): the header is the first row, within the first ten, holding 线索编号;
a 序号 column is ignored; the data ends at the first wholly empty row. Before it, a row with a
线索编号 or with any fill-in cell filled is read (one without a 线索编号 is rejected by the import).
A row further down whose 线索编号 still looks like a clue ID (R05-000123) is read too, so a stray
empty line in the middle of a sheet cannot drop the verdicts below it.

The hidden list sheet carries the issue's mark (county, issue date, the newest clue event when the
file was written): a returned copy is judged against the ledger it came from, and a clue sent back
after that moment is void in it, even when a later ledger (of the same day, too) carried it again.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from pipelines import store
from pipelines.errors import BiduiError
from pipelines.ledgers.workbook import FILL_IN_COLUMNS, LIST_SHEET, MARK_HEADING

__all__ = [
    "HEADER_SEARCH_ROWS",
    "IssueMark",
    "LedgerFile",
    "LedgerRow",
    "NotALedger",
    "cell_date",
    "cell_text",
    "read_ledger",
]

HEADER_SEARCH_ROWS = 10
MAX_ROWS, MAX_COLS = 100_000, 40
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")
_CLUE_ID = re.compile(r"^[A-Z][0-9]{2}-[0-9]{6}$")


class NotALedger(BiduiError):
    """The file itself is no ledger (not .xlsx, no ledger sheet, columns missing): what it says is
    the file's fault, unlike a busy store, and sending the file back is the answer."""


@dataclass
class LedgerRow:
    """One data row of a returned ledger: where it is and its cells by column name."""

    sheet: str
    row_no: int  # as Excel numbers it
    cells: dict[str, object]
    outcome: str = ""  # applied | unchanged | blank | rejected
    reason: str = ""
    events: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class IssueMark:
    """Which issue a workbook is: its county, issue date and the newest clue event when it was written."""

    county_code: str
    issue_date: dt.date
    event_id: int

    def text(self) -> str:
        return f"{self.county_code}/{self.issue_date.isoformat()}/{self.event_id}"

    @classmethod
    def parse(cls, text: str) -> IssueMark | None:
        parts = text.strip().split("/")
        try:
            return cls(parts[0], dt.date.fromisoformat(parts[1]), int(parts[2])) if len(parts) == 3 else None
        except ValueError:
            return None


@dataclass
class LedgerFile:
    """A returned ledger: its data rows and the mark of the issue it came from (None in a workbook
    issued before marks were written)."""

    rows: list[LedgerRow]
    mark: IssueMark | None


def cell_text(value) -> str:
    """A cell as the text a person sees in it."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def cell_date(value, column: str) -> dt.date | None:
    """A date cell as a date; BiduiError with the column's name when it is not one."""
    if value is None or cell_text(value) == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and 1 < value < 100000:  # an Excel serial day number
        return _EXCEL_EPOCH + dt.timedelta(days=int(value))
    text = cell_text(value)
    for form in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, form).date()
        except ValueError:
            continue
    raise BiduiError(f"{column}“{text}”不是有效日期（应为 2026-11-20 的格式）")


def _sheets(path: Path) -> list[tuple[str, list[list[object]]]]:
    """(name, rows) of every sheet, read no further than MAX_ROWS × MAX_COLS: a stray cell typed at
    A1048576 is left out, not read through a million empty rows."""
    return [(sheet.name, sheet.rows) for sheet in store.read_sheets(path, max_rows=MAX_ROWS, max_cols=MAX_COLS)]


def _header_at(table: list[list[object]]) -> int | None:
    for i, values in enumerate(table[:HEADER_SEARCH_ROWS]):
        if "线索编号" in (_heading(v) for v in values):
            return i
    return None


def _heading(value) -> str:
    return cell_text(value).replace(" ", "").replace("\u3000", "")


def _mark(table: list[list[object]]) -> IssueMark | None:
    heading = [cell_text(v) for v in table[0]] if table else []
    if MARK_HEADING not in heading or len(table) < 2:
        return None
    column = heading.index(MARK_HEADING)
    return IssueMark.parse(cell_text(table[1][column])) if column < len(table[1]) else None


def read_ledger(path: Path, needed: tuple[str, ...]) -> LedgerFile:
    """The data rows of every ledger sheet (one with a 线索编号 header), with the `needed` columns,
    and the issue's mark. BiduiError when the file is not a ledger or a ledger sheet lacks a needed column."""
    path = Path(path)
    if not path.is_file():
        raise BiduiError(f"台账文件 {path} 不存在")
    if path.suffix.lower() != ".xlsx":
        raise NotALedger(f"台账文件 {path.name} 不是 .xlsx 文件，请交回下发的 Excel 台账（.xlsx）")
    rows: list[LedgerRow] = []
    found = False
    mark = None
    for name, table in _sheets(path):
        if name == LIST_SHEET:
            mark = _mark(table)
        top = _header_at(table)
        if top is None:
            continue
        found = True
        header = [_heading(h) for h in table[top]]
        missing = [c for c in needed if c not in header]
        if missing:
            raise NotALedger(f"台账“{path.name}”的工作表“{name}”缺少列：{'、'.join(missing)}；请使用下发的台账，勿删改表头")
        where = {c: header.index(c) for c in needed}
        ended = False
        for offset, values in enumerate(table[top + 1 :], start=top + 2):
            cells: dict[str, object] = {c: (values[i] if i < len(values) else None) for c, i in where.items()}
            clue_id = cell_text(cells["线索编号"])
            # Only a wholly empty row ends the data: a filled row whose 线索编号 was cleared is read
            # (and rejected by the import), so its verdict cannot vanish unreported. The signature
            # block below the blank row writes its labels in locked columns, never in a fill-in one.
            ended = ended or not any(cell_text(v) for v in values)
            filled = any(cell_text(cells.get(c)) for c in FILL_IN_COLUMNS)
            if ((clue_id or filled) and not ended) or _CLUE_ID.match(clue_id):
                rows.append(LedgerRow(name, offset, cells))
    if not found:
        raise NotALedger(f"文件 {path.name} 不是问题台账：没有找到表头含“线索编号”的工作表")
    return LedgerFile(rows, mark)
