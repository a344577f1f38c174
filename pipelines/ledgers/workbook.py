"""The ledger workbook itself (xlsxwriter): the contract's columns, one sheet per township, locked
columns protected and grey, fill-in columns unlocked and yellow, frozen header, filters,
drop-downs for 核实结果 and (per rule, from a hidden sheet) 不属实原因, date checks on the dates.

Protection has no password: it keeps hands off the locked columns, it is not a security control
(the import compares the locked columns with the store anyway).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

__all__ = [
    "DATE_COLUMNS",
    "FILL_IN_COLUMNS",
    "FILL_IN_FIELDS",
    "LEDGER_COLUMNS",
    "LOCKED_COLUMNS",
    "sheet_names",
    "write_ledger_workbook",
]

LOCKED_COLUMNS = [
    "线索编号",
    "规则",
    "问题描述",
    "乡镇",
    "村",
    "户编号",
    "姓名",
    "身份证号",
    "证据",
    "核实部门",
    "下发日期",
    "整改期限",
]
FILL_IN_COLUMNS = ["核实结果", "不属实原因", "整改措施", "整改完成日期", "核实人", "核实日期", "签字人", "签字日期"]
LEDGER_COLUMNS = LOCKED_COLUMNS + FILL_IN_COLUMNS
FILL_IN_FIELDS = {
    "核实结果": "verdict",
    "不属实原因": "dismiss_reason",
    "整改措施": "rectification",
    "整改完成日期": "rectified_on",
    "核实人": "verified_by",
    "核实日期": "verified_on",
    "签字人": "signed_by",
    "签字日期": "signed_on",
}
DATE_COLUMNS = ("下发日期", "整改期限", "整改完成日期", "核实日期", "签字日期")
LIST_SHEET = "可选原因"
GUIDE_SHEET = "填写说明"
_WIDTHS = {
    "线索编号": 13,
    "规则": 24,
    "问题描述": 32,
    "证据": 60,
    "身份证号": 20,
    "户编号": 20,
    "核实部门": 12,
    "不属实原因": 30,
    "整改措施": 30,
}
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def sheet_names(townships: list[tuple[str, str]]) -> dict[str, str]:
    """Township code → a sheet name: its name, Excel-safe, ≤31 characters, unique."""
    taken = {GUIDE_SHEET.casefold(), LIST_SHEET.casefold(), "history"}
    names = {}
    for code, name in townships:
        base = (_BAD_SHEET_CHARS.sub("", name).strip("' ") or code)[:31]
        candidate, n = base, 1
        while candidate.casefold() in taken:
            n += 1
            suffix = f"({n})"
            candidate = base[: 31 - len(suffix)] + suffix
        taken.add(candidate.casefold())
        names[code] = candidate
    return names


def _formats(book: xlsxwriter.Workbook) -> dict:
    base = {"border": 1, "valign": "top", "font_size": 10}
    locked = {**base, "bg_color": "#EDEDED"}
    fill = {**base, "bg_color": "#FFF2CC", "locked": False}
    return {
        "head_locked": book.add_format({**locked, "bold": True, "bg_color": "#BFBFBF", "text_wrap": True}),
        "head_fill": book.add_format({**base, "bold": True, "bg_color": "#FFD966", "text_wrap": True}),
        "locked": book.add_format(locked),
        "locked_wrap": book.add_format({**locked, "text_wrap": True}),
        "locked_date": book.add_format({**locked, "num_format": "yyyy-mm-dd"}),
        "fill": book.add_format(fill),
        "fill_date": book.add_format({**fill, "num_format": "yyyy-mm-dd"}),
        "title": book.add_format({"bold": True, "font_size": 14}),
        "text": book.add_format({"text_wrap": True, "valign": "top"}),
    }


def _write_guide(book, formats, county: str, issue_date: dt.date, counts: dict[str, int], masked: bool) -> None:
    sheet = book.add_worksheet(GUIDE_SHEET)
    sheet.set_column(0, 0, 100, formats["text"])
    lines = [
        f"{county}问题线索台账（下发日期 {issue_date.isoformat()}）",
        f"共 {sum(counts.values())} 条线索，按乡镇分表：" + "；".join(f"{k} {v} 条" for k, v in counts.items()),
        "灰色列为系统下发内容，已锁定，请勿修改；黄色列由核实、整改、签字人员填写。",
        "核实结果：从下拉框选择“属实”或“不属实”；选“不属实”时须从下拉框选择不属实原因。",
        "核实人、核实日期必填；属实的线索整改完成后填写整改措施和整改完成日期；乡镇审核后填写签字人和签字日期。",
        "日期请填写为 2026-11-20 的格式。谁核实、谁签字、谁负责。",
        "填好后交回县级，由县级用户导入（bidui ledgers import）。请勿增删列、改动线索编号或工作表表头。",
        "身份证号已脱敏显示。" if masked else "本台账含完整身份证号，请妥善保管，不得外传。",
    ]
    for row, line in enumerate(lines):
        sheet.write_string(row, 0, line, formats["title"] if row == 0 else formats["text"])
    sheet.protect("", {"select_locked_cells": True})
    sheet.activate()


def _reason_sources(rules_by_code: dict, used: list[str]) -> dict[str, str]:
    """Rule code → the list formula of its dismiss reasons on the hidden sheet (one column per rule)."""
    sources = {}
    for col, code in enumerate(used):
        reasons = rules_by_code[code].dismiss_reasons if code in rules_by_code else ()
        if reasons:
            letter = xl_col_to_name(col)
            sources[code] = f"='{LIST_SHEET}'!${letter}$2:${letter}${len(reasons) + 1}"
    return sources


def _write_lists(book, rules_by_code: dict, used: list[str]) -> None:
    sheet = book.add_worksheet(LIST_SHEET)
    for col, code in enumerate(used):
        sheet.write_string(0, col, code)
        reasons = rules_by_code[code].dismiss_reasons if code in rules_by_code else ()
        for row, reason in enumerate(reasons, start=1):
            sheet.write_string(row, col, reason)
    sheet.hide()
    sheet.protect()


def _write_township(book, formats, name: str, rows: list[dict], reason_lists: dict[str, str]) -> None:
    sheet = book.add_worksheet(name)
    locked_count = len(LOCKED_COLUMNS)
    for col, column in enumerate(LEDGER_COLUMNS):
        fill = col >= locked_count
        width = _WIDTHS.get(column, 12)
        # Whole fill-in columns are unlocked, so a row the county adds below is editable too.
        sheet.set_column(col, col, width, formats["fill_date" if column in DATE_COLUMNS else "fill"] if fill else None)
        sheet.write_string(0, col, column, formats["head_fill" if fill else "head_locked"])
    for r, values in enumerate(rows, start=1):
        for col, column in enumerate(LEDGER_COLUMNS):
            fill = col >= locked_count
            value = values[column]
            date_format = formats["fill_date" if fill else "locked_date"]
            text_format = formats["fill" if fill else ("locked_wrap" if column == "证据" else "locked")]
            if value in (None, ""):
                sheet.write_blank(r, col, None, date_format if column in DATE_COLUMNS else text_format)
            elif column in DATE_COLUMNS:
                sheet.write_datetime(r, col, dt.datetime.combine(value, dt.time()), date_format)
            else:
                sheet.write_string(r, col, str(value), text_format)
    last = len(rows)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(last, 1), len(LEDGER_COLUMNS) - 1)
    if last:
        _validations(sheet, rows, reason_lists)
    sheet.protect(
        "",
        {
            "autofilter": True,
            "format_columns": True,
            "format_rows": True,
            "select_locked_cells": True,
            "select_unlocked_cells": True,
        },
    )


def _validations(sheet, rows: list[dict], reason_lists: dict[str, str]) -> None:
    col = {c: i for i, c in enumerate(LEDGER_COLUMNS)}
    last = len(rows)
    sheet.data_validation(
        1,
        col["核实结果"],
        last,
        col["核实结果"],
        {
            "validate": "list",
            "source": ["属实", "不属实"],
            "input_title": "核实结果",
            "input_message": "请选择：属实 或 不属实",
            "error_title": "核实结果",
            "error_message": "只能选择“属实”或“不属实”",
        },
    )
    # Rows are sorted by rule, so each rule's rows form one block with its own reason list.
    start = 1
    for r in range(1, last + 1):
        code = rows[r - 1]["_rule"]
        if r == last or rows[r]["_rule"] != code:
            if code in reason_lists:
                sheet.data_validation(
                    start,
                    col["不属实原因"],
                    r,
                    col["不属实原因"],
                    {
                        "validate": "list",
                        "source": reason_lists[code],
                        "input_title": "不属实原因",
                        "input_message": "核实不属实时，从本规则的可选原因中选择",
                        "error_title": "不属实原因",
                        "error_message": "请从下拉框中选择本规则的不属实原因",
                    },
                )
            start = r + 1
    for column in ("整改完成日期", "核实日期", "签字日期"):
        sheet.data_validation(
            1,
            col[column],
            last,
            col[column],
            {
                "validate": "date",
                "criteria": "between",
                "minimum": dt.date(2000, 1, 1),
                "maximum": dt.date(2099, 12, 31),
                "input_title": column,
                "input_message": "日期，例如 2026-11-20",
                "error_title": column,
                "error_message": "请填写有效日期，例如 2026-11-20",
            },
        )


def write_ledger_workbook(
    path: Path, county: str, issue_date: dt.date, rows: list[dict], townships: dict[str, str], rules_by_code: dict, masked: bool
) -> list[str]:
    """Write a county's ledger to `path`. `rows`: ledger_values plus _township, _village, _rule;
    `townships`: township code → name. Returns the township sheet names in order."""
    by_township: dict[str, list[dict]] = {}
    for values in sorted(rows, key=lambda v: (v["_township"], v["_rule"], v["_village"], v["线索编号"])):
        by_township.setdefault(values["_township"], []).append(values)
    names = sheet_names([(code, townships.get(code) or code) for code in by_township])
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False})
    try:
        formats = _formats(book)
        _write_guide(book, formats, county, issue_date, {names[c]: len(v) for c, v in by_township.items()}, masked)
        used = sorted({v["_rule"] for v in rows})
        reason_lists = _reason_sources(rules_by_code, used)
        for code, township_rows in by_township.items():
            _write_township(book, formats, names[code], township_rows, reason_lists)
        _write_lists(book, rules_by_code, used)
    finally:
        book.close()
    return list(names.values())
