"""The shared xlsx writer (pipelines.store.xlsx): overdue rows filled red, column widths, and the
cheap first-character test before the full formula test. Digits kept as text, quote prefixes and
the row limit: tests/pipelines/store/test_files.py."""

from __future__ import annotations

import openpyxl
import pandas as pd

from pipelines.store import ExcelSheet, write_excel_table, write_excel_tables, xlsx
from pipelines.store.files import looks_like_formula

RED = "FFF8CBAD"
HEAD = "FFD9E1F2"


def _fills(sheet) -> list[list[str | None]]:
    return [[cell.fill.fgColor.rgb if cell.fill.fill_type else None for cell in row] for row in sheet.iter_rows()]


def test_rows_the_sheet_calls_overdue_are_red_across_the_table(tmp_path):
    frame = pd.DataFrame(
        {
            "线索编号": ["R05-000001", "R06-000001", "R13-000001"],
            "姓名": ["张三", None, "王五"],
            "整改期限": ["2026-12-05", "2026-12-20", "2026-12-25"],
            "重开次数": [0, 2, 1],
        }
    )
    out = tmp_path / "逾期.xlsx"
    sheet = ExcelSheet(
        "线索",
        list(frame.columns),
        frame.itertuples(index=False, name=None),
        title=["逾期线索清单"],
        overdue=lambda row: row[2] < "2026-12-21",
    )

    assert write_excel_tables(out, [sheet]) == [3]

    page = openpyxl.load_workbook(out)["线索"]
    assert _fills(page) == [
        [None, None, None, None],
        [HEAD] * 4,
        [RED] * 4,  # the blank 姓名 too: the whole row is red
        [RED] * 4,
        [None] * 4,
    ]
    assert [[c.value for c in row] for row in page.iter_rows(min_row=3)] == [
        ["R05-000001", "张三", "2026-12-05", 0],
        ["R06-000001", None, "2026-12-20", 2],
        ["R13-000001", "王五", "2026-12-25", 1],
    ]
    # Red rows keep their formats: text stays text, numbers stay numbers.
    assert [c.number_format for c in page[3]] == ["@", "@", "@", "General"]
    assert page.freeze_panes == "A3"


def test_a_short_overdue_row_is_red_to_the_tables_edge_and_no_fill_without_the_option(tmp_path):
    out = tmp_path / "短行.xlsx"
    write_excel_table(
        out,
        "线索",
        ["线索编号", "姓名", "备注"],
        [["R05-000001"], ["R05-000002", "李四", "核实中"]],
        overdue=lambda row: len(row) == 1,
    )
    assert _fills(openpyxl.load_workbook(out)["线索"]) == [[HEAD] * 3, [RED] * 3, [None] * 3]

    write_excel_table(out, "线索", ["线索编号", "姓名"], [["R05-000001", "张三"]])
    assert _fills(openpyxl.load_workbook(out)["线索"]) == [[HEAD] * 2, [None] * 2]


def test_a_column_is_as_wide_as_its_widest_cell_with_cjk_counting_double(tmp_path):
    out = tmp_path / "宽度.xlsx"
    rows: list[list[object]] = [
        ["A1", "中文说明文字", 7, "x" * 50, "ab"],
        ["LONGER-ID-1", None, 123456, "", "=1"],
        ["=1", "很" * 30, 1.5, "y", "ＡＢＣ"],
    ]
    write_excel_table(out, "表", ["编号", "说明", "数", "固定", "全角"], rows, widths={"固定": 9})

    page = openpyxl.load_workbook(out)["表"]
    # Widest cell plus two (xlsxwriter stores 0.71 more): 'LONGER-ID-1' 11; 30 × 很 is 60, held at
    # 40; '123456' 6; 固定 as given, whatever it holds; full-width 'ＡＢＣ' 6.
    widths = [round(page.column_dimensions[letter].width, 2) for letter in "ABCDE"]
    assert widths == [13.71, 40.71, 8.71, 9.71, 8.71]


def test_every_text_a_spreadsheet_could_run_starts_with_a_character_the_writer_checks():
    # The writer calls looks_like_formula only for a text starting with one of _FORMULA_FIRST.
    firsts = {
        chr(code)
        for code in range(0x10000)
        if not 0xD800 <= code < 0xE000 and (looks_like_formula(chr(code) + "1") or looks_like_formula(chr(code) + "="))
    }
    assert firsts == set(xlsx._FORMULA_FIRST)
