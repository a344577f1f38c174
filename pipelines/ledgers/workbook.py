"""The ledger workbook itself (xlsxwriter): the contract's columns, one sheet per township, locked
columns protected and grey, fill-in columns unlocked and yellow, frozen header, filters,
drop-downs for 核实结果 and (per rule, from a hidden sheet) 不属实原因, date checks on the dates.

An overdue clue (open, 整改期限 before the issue date: a sent-back clue carried again keeps its
deadline) is marked by format alone, so the contract's columns and values stay as they are: its
locked cells are red, and its 整改期限 cell shows the date followed by 已逾期 (a number format; the
cell still holds the date the import reads).

Protection has no password: it keeps hands off the locked columns, it is not a security control
(the import compares the locked columns with the store anyway).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from pipelines.clues import is_overdue

__all__ = [
    "DATE_COLUMNS",
    "FILL_IN_COLUMNS",
    "FILL_IN_FIELDS",
    "LEDGER_COLUMNS",
    "LOCKED_COLUMNS",
    "OVERDUE_FILL",
    "OVERDUE_LABEL",
    "row_is_overdue",
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
MARK_HEADING = "台账标识"
GUIDE_SHEET = "填写说明"
SERIAL = "序号"
TITLE_ROWS = 2  # title and count above the header; the import finds the header by its 线索编号
HEADER_ROW = TITLE_ROWS
# Print widths (Excel character units): all 21 columns on one A4 landscape page width, the long
# texts (问题描述, 证据) wrapping instead of running off, room to write in the fill-in columns.
_WIDTHS = {
    SERIAL: 5,
    "线索编号": 11,
    "规则": 13,
    "问题描述": 22,
    "乡镇": 8,
    "村": 8,
    "户编号": 17,
    "姓名": 7,
    "身份证号": 18,
    "证据": 34,
    "核实部门": 6,
    "核实结果": 6,
    "不属实原因": 14,
    "整改措施": 14,
    "核实人": 7,
    "签字人": 7,
}
_DATE_WIDTH = 10.5
_OVERDUE_DEADLINE_WIDTH = 17  # "2026-12-05 已逾期"; a date that does not fit would show as ####
OVERDUE_FILL = "#F8CBAD"
OVERDUE_LABEL = "已逾期"
_LINE_HEIGHT = 14  # points per wrapped line of 10-point text, CJK fonts included
_SIGNATURE_HEIGHT = 48  # points: room to sign by hand, and for the seal beside 填报单位
_SIGNATURES = [("填报单位（盖章）：", "核实人签字："), ("乡镇负责人签字：", "日期：        年    月    日")]
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
    base = {"border": 1, "valign": "top", "font_size": 10, "font_name": "宋体", "text_wrap": True}
    locked = {**base, "bg_color": "#EDEDED"}
    fill = {**base, "bg_color": "#FFF2CC", "locked": False}
    plain = {"font_name": "宋体", "font_size": 10, "valign": "vcenter"}
    return {
        "head_locked": book.add_format({**locked, "bold": True, "bg_color": "#BFBFBF", "valign": "vcenter"}),
        "head_fill": book.add_format({**base, "bold": True, "bg_color": "#FFD966", "valign": "vcenter"}),
        "locked": book.add_format(locked),
        "serial": book.add_format({**locked, "align": "center"}),
        "locked_date": book.add_format({**locked, "num_format": "yyyy-mm-dd"}),
        "overdue": book.add_format({**locked, "bg_color": OVERDUE_FILL}),
        "overdue_serial": book.add_format({**locked, "bg_color": OVERDUE_FILL, "align": "center"}),
        "overdue_date": book.add_format({**locked, "bg_color": OVERDUE_FILL, "num_format": "yyyy-mm-dd"}),
        "overdue_deadline": book.add_format(
            {
                **locked,
                "bg_color": OVERDUE_FILL,
                "num_format": f'yyyy-mm-dd" {OVERDUE_LABEL}"',
                "bold": True,
                "font_color": "#C00000",
            }
        ),
        "fill": book.add_format(fill),
        "fill_date": book.add_format({**fill, "num_format": "yyyy-mm-dd"}),
        "title": book.add_format({**plain, "bold": True, "font_size": 14, "align": "center"}),
        "subtitle": book.add_format(plain),
        "sign": book.add_format({**plain, "bold": True, "font_size": 12, "valign": "top"}),
        "gap": book.add_format({**plain, "locked": False}),
        "guide_title": book.add_format({**plain, "bold": True, "font_size": 14, "text_wrap": True}),
        "text": book.add_format({**plain, "font_size": 11, "text_wrap": True, "valign": "top"}),
    }


def _text_units(text: str) -> int:
    # Full-width characters take two Excel width units, the rest one.
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _lines(text: str, width: float) -> int:
    """How many lines `text` wraps to in a column `width` units wide (a unit of margin each side)."""
    per_line = max(int(width) - 2, 1)
    return sum(max(-(-_text_units(part) // per_line), 1) for part in str(text).split("\n"))


def _height(lines: int) -> int:
    # Set explicitly: Excel, WPS and LibreOffice then print the same row heights.
    return lines * _LINE_HEIGHT + 4


def _print_setup(sheet, title_rows: int | None, header_text: str) -> None:
    """A4 landscape, one page wide and as many tall as needed, page numbers below."""
    sheet.set_paper(9)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    sheet.center_horizontally()
    if title_rows is not None:
        sheet.repeat_rows(title_rows)
    sheet.set_header(f"&L&8{header_text}")
    sheet.set_footer("&C第 &P 页，共 &N 页")


def _write_guide(book, formats, county: str, issue_date: dt.date, counts: dict[str, int], masked: bool, overdue: int = 0) -> None:
    sheet = book.add_worksheet(GUIDE_SHEET)
    width = 110
    sheet.set_column(0, 0, width, formats["text"])
    title = f"{county}问题线索核实台账（下发日期 {issue_date.isoformat()}）"
    lines = [
        title,
        f"共 {sum(counts.values())} 条线索，按乡镇分表：" + "；".join(f"{k} {v} 条" for k, v in counts.items()),
        "灰色列为系统下发内容，已锁定，请勿修改；黄色列由核实、整改、签字人员填写。序号仅供查阅，导入时不读取。",
        "核实结果：从下拉框选择“属实”或“不属实”；选“不属实”时须从下拉框选择不属实原因。",
        "核实人、核实日期必填；属实的线索整改完成后填写整改措施和整改完成日期；乡镇审核后填写签字人和签字日期。",
        "日期请填写为 2026-11-20 的格式。谁核实、谁签字、谁负责。",
        "打印：各乡镇表按 A4 横向打印，每页重复表头；核实、签字后在表末填写填报单位、签字、日期并加盖公章。",
        "填好后交回县级，由县级用户导入（bidui ledgers import）。请勿增删列、改动线索编号或工作表表头。",
        "身份证号已脱敏显示。" if masked else "本台账含完整身份证号，请妥善保管，不得外传。",
    ]
    if overdue:
        lines.insert(
            2,
            f"其中 {overdue} 条已超过整改期限仍未销号（已逾期）：整行标红，整改期限后注明“{OVERDUE_LABEL}”，请优先核实整改。",
        )
    for row, line in enumerate(lines):
        sheet.write_string(row, 0, line, formats["guide_title"] if row == 0 else formats["text"])
        sheet.set_row(row, 24 if row == 0 else _height(_lines(line, width)) + 4)
    _print_setup(sheet, None, title)
    sheet.print_area(0, 0, len(lines) - 1, 0)
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


def _write_lists(book, rules_by_code: dict, used: list[str], mark: str | None) -> None:
    sheet = book.add_worksheet(LIST_SHEET)
    for col, code in enumerate(used):
        sheet.write_string(0, col, code)
        reasons = rules_by_code[code].dismiss_reasons if code in rules_by_code else ()
        for row, reason in enumerate(reasons, start=1):
            sheet.write_string(row, col, reason)
    if mark:  # which issue this file is: a returned copy is judged against it (pipelines.ledgers.reading)
        sheet.write_string(0, len(used), MARK_HEADING)
        sheet.write_string(1, len(used), mark)
    sheet.hide()
    sheet.protect()


def row_is_overdue(values: dict, issue_date: dt.date) -> bool:
    """Whether a ledger row's clue (its status in `_status`) is open and past 整改期限 on the issue date."""
    return is_overdue(values.get("_status") or "", values.get("整改期限"), issue_date)


def _write_township(
    book, formats, sheet_name: str, title: str, rows: list[dict], reason_lists: dict[str, str], issue_date: dt.date
) -> None:
    """One township's sheet: title rows, the header (序号 + the contract's columns), one row per
    clue (overdue ones in red), then the block the township fills in, signs and seals on paper."""
    sheet = book.add_worksheet(sheet_name)
    columns = [SERIAL, *LEDGER_COLUMNS]
    late = [row_is_overdue(values, issue_date) for values in rows]
    widths = [_WIDTHS.get(c, _DATE_WIDTH if c in DATE_COLUMNS else 12) for c in columns]
    if any(late):
        widths[columns.index("整改期限")] = _OVERDUE_DEADLINE_WIDTH
    last_col = len(columns) - 1
    for col, column in enumerate(columns):
        # Whole fill-in columns are unlocked, so a row the county adds below is editable too.
        unlocked = column in FILL_IN_FIELDS
        sheet.set_column(col, col, widths[col], formats["fill_date" if column in DATE_COLUMNS else "fill"] if unlocked else None)
        sheet.write_string(HEADER_ROW, col, column, formats["head_fill" if unlocked else "head_locked"])
    sheet.set_row(HEADER_ROW, _height(max(_lines(c, w) for c, w in zip(columns, widths))))
    sheet.merge_range(0, 0, 0, last_col, title, formats["title"])
    sheet.set_row(0, 26)
    sheet.merge_range(
        1,
        0,
        1,
        last_col,
        f"共 {len(rows)} 条线索"
        + (f"，其中已逾期 {sum(late)} 条（红色行）" if any(late) else "")
        + "。灰色列为系统下发内容，请勿修改；黄色列由核实、整改、签字人员填写。",
        formats["subtitle"],
    )
    for n, (values, overdue) in enumerate(zip(rows, late), start=1):
        r = HEADER_ROW + n
        sheet.write_number(r, 0, n, formats["overdue_serial" if overdue else "serial"])
        lines = 1
        for col, column in enumerate(LEDGER_COLUMNS, start=1):
            fill = column in FILL_IN_FIELDS
            value = values[column]
            if fill:
                date_format, text_format = formats["fill_date"], formats["fill"]
            elif overdue:
                date_format = formats["overdue_deadline" if column == "整改期限" else "overdue_date"]
                text_format = formats["overdue"]
            else:
                date_format, text_format = formats["locked_date"], formats["locked"]
            if value in (None, ""):
                sheet.write_blank(r, col, None, date_format if column in DATE_COLUMNS else text_format)
            elif column in DATE_COLUMNS:
                sheet.write_datetime(r, col, dt.datetime.combine(value, dt.time()), date_format)
            else:
                sheet.write_string(r, col, str(value), text_format)
                lines = max(lines, _lines(str(value), widths[col]))
        sheet.set_row(r, _height(lines))
    last = HEADER_ROW + max(len(rows), 1)
    sheet.freeze_panes(HEADER_ROW + 1, 0)
    sheet.autofilter(HEADER_ROW, 0, last, last_col)
    if rows:
        _validations(sheet, rows, reason_lists)
    end = _write_signatures(sheet, formats, last + 2, last_col)
    _print_setup(sheet, HEADER_ROW, title)
    sheet.print_area(0, 0, end, last_col)
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


def _write_signatures(sheet, formats, first: int, last_col: int) -> int:
    """填报单位（盖章）, 核实人, 乡镇负责人, 日期 below the data, clear of the 线索编号 column's
    contents (the import stops at the first row without one). Returns the last row used."""
    middle = last_col // 2
    for col in range(last_col + 1):  # the row between, without the fill-in columns' borders
        sheet.write_blank(first - 1, col, None, formats["gap"])
    for r, (left, right) in enumerate(_SIGNATURES, start=first):
        sheet.merge_range(r, 0, r, middle, left, formats["sign"])
        sheet.merge_range(r, middle + 1, r, last_col, right, formats["sign"])
        sheet.set_row(r, _SIGNATURE_HEIGHT)
    return first + len(_SIGNATURES) - 1


def _validations(sheet, rows: list[dict], reason_lists: dict[str, str]) -> None:
    col = {c: i for i, c in enumerate([SERIAL, *LEDGER_COLUMNS])}
    first, last = HEADER_ROW + 1, HEADER_ROW + len(rows)
    sheet.data_validation(
        first,
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
    start = 0
    for i, values in enumerate(rows):
        code = values["_rule"]
        if i == len(rows) - 1 or rows[i + 1]["_rule"] != code:
            if code in reason_lists:
                sheet.data_validation(
                    first + start,
                    col["不属实原因"],
                    first + i,
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
            start = i + 1
    for column in ("整改完成日期", "核实日期", "签字日期"):
        sheet.data_validation(
            first,
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
    path: Path,
    county: str,
    issue_date: dt.date,
    rows: list[dict],
    townships: dict[str, str],
    rules_by_code: dict,
    masked: bool,
    mark: str | None = None,
) -> list[str]:
    """Write a county's ledger to `path`. `rows`: ledger_values plus _township, _village, _rule and
    _status (the clue's status: an open one past its 整改期限 on `issue_date` is marked overdue);
    `townships`: township code → name; `mark`: the issue's mark (reading.ledger_mark). Returns the
    township sheet names in order."""
    by_township: dict[str, list[dict]] = {}
    for values in sorted(rows, key=lambda v: (v["_township"], v["_rule"], v["_village"], v["线索编号"])):
        by_township.setdefault(values["_township"], []).append(values)
    names = sheet_names([(code, townships.get(code) or code) for code in by_township])
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False})
    try:
        formats = _formats(book)
        overdue = sum(row_is_overdue(v, issue_date) for v in rows)
        _write_guide(book, formats, county, issue_date, {names[c]: len(v) for c, v in by_township.items()}, masked, overdue)
        used = sorted({v["_rule"] for v in rows})
        reason_lists = _reason_sources(rules_by_code, used)
        for code, township_rows in by_township.items():
            title = f"{county} {townships.get(code) or code} 问题线索核实台账（下发日期 {issue_date.isoformat()}）"
            _write_township(book, formats, names[code], title, township_rows, reason_lists, issue_date)
        _write_lists(book, rules_by_code, used, mark)
    finally:
        book.close()
    return list(names.values())
