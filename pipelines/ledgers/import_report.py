"""The import report of a returned ledger (导入报告): a summary and every rejected row with its reason."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import xlsxwriter

from pipelines.ledgers.reading import LedgerRow
from pipelines.ledgers.reading import cell_text as _text
from pipelines.settings import Settings

__all__ = ["report_path", "write_report"]


def report_path(settings: Settings, source: Path, at: dt.datetime) -> Path:
    """A new report file name under settings.data_dir/ledgers/imports (never an existing one)."""
    folder = settings.data_dir / "ledgers" / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"导入报告_{source.stem}_{at:%Y%m%d-%H%M%S}"
    path, n = folder / f"{stem}.xlsx", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}_{n}.xlsx"
    return path


def write_report(path: Path, summary: dict, rows: list[LedgerRow]) -> None:
    """Write the report workbook: the summary lines, then one line per rejected row."""
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False})
    try:
        bold = book.add_format({"bold": True})
        sheet = book.add_worksheet("导入结果")
        sheet.set_column(0, 0, 16)
        sheet.set_column(1, 2, 12)
        sheet.set_column(3, 3, 90)
        lines = [
            ("台账文件", summary["file_name"]),
            ("导入人", summary["user"]),
            ("导入时间", summary["imported_at"]),
            ("数据行", summary["rows"]),
            ("已导入", summary["applied"]),
            ("无变化", summary["unchanged"]),
            ("未填写", summary["blank"]),
            ("退回（未导入）", summary["rejected"]),
        ]
        for r, (label, value) in enumerate(lines):
            sheet.write_string(r, 0, label, bold)
            sheet.write_string(r, 1, str(value))
        top = len(lines) + 1
        for c, header in enumerate(("工作表", "行号", "线索编号", "退回原因")):
            sheet.write_string(top, c, header, bold)
        rejected = [row for row in rows if row.outcome == "rejected"]
        for r, row in enumerate(rejected, start=top + 1):
            sheet.write_string(r, 0, row.sheet)
            sheet.write_number(r, 1, row.row_no)
            sheet.write_string(r, 2, _text(row.cells["线索编号"]))
            sheet.write_string(r, 3, row.reason)
        if not rejected:
            sheet.write_string(top + 1, 0, "没有退回的行。")
    finally:
        book.close()
