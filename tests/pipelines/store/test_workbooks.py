"""Reading xlsx workbooks within bounds: far-away cells are cut out before calamine sees the sheet."""

from __future__ import annotations

import datetime as dt
import zipfile

import pytest
import xlsxwriter

from pipelines.store import SheetCells, WorkbookUnreadable, read_sheets
from pipelines.store.workbooks import column_letters, column_number


def _book(path, sheets: dict[str, dict[str, object]]):
    """A workbook with the given cells ({sheet: {"A1": value}})."""
    book = xlsxwriter.Workbook(path)
    for name, cells in sheets.items():
        sheet = book.add_worksheet(name)
        for ref, value in cells.items():
            sheet.write(ref, value)
    book.close()
    return path


TABLE = {"A1": "姓名", "B1": "出生日期", "C1": "人数", "A2": "陈明", "B2": "1990-01-01", "C2": 3, "A3": "王芳", "C3": 2.5}


def test_a_plain_sheet_is_read_whole_with_empty_cells_as_none(tmp_path):
    path = _book(tmp_path / "a.xlsx", {"数据": TABLE})
    assert read_sheets(path, max_rows=100, max_cols=10) == [
        SheetCells("数据", [["姓名", "出生日期", "人数"], ["陈明", "1990-01-01", 3.0], ["王芳", None, 2.5]], [])
    ]


def test_cells_at_the_far_corner_are_ignored_and_named(tmp_path):
    # On calamine alone this sheet is 1048576 × 16384 cells: a 549 GB allocation that aborts the process.
    path = _book(tmp_path / "far.xlsx", {"数据": {**TABLE, "A1048576": "x", "XFD3": "y"}})
    [sheet] = read_sheets(path, max_rows=1_048_576, max_cols=200)
    assert sheet.rows == [["姓名", "出生日期", "人数"], ["陈明", "1990-01-01", 3.0], ["王芳", None, 2.5]]
    assert sheet.ignored == ["工作表在 XFD3 处有远离数据区的单元格，已忽略", "工作表在 A1048576 处有远离数据区的单元格，已忽略"]


def test_rows_and_columns_beyond_the_bounds_are_left_out(tmp_path):
    cells = {**TABLE, "D1": "备注", "D2": "多", "A4": "李四", "A5": "赵五"}
    [sheet] = read_sheets(_book(tmp_path / "b.xlsx", {"数据": cells}), max_rows=3, max_cols=3)
    assert sheet.rows == [["姓名", "出生日期", "人数"], ["陈明", "1990-01-01", 3.0], ["王芳", None, 2.5]]
    assert sheet.ignored == [
        "工作表在 D1 处有远离数据区的单元格，已忽略",
        "工作表在 D2 处有远离数据区的单元格，已忽略",
        "工作表在 A4 处有远离数据区的单元格，已忽略",
        "工作表在 A5 处有远离数据区的单元格，已忽略",
    ]


def test_many_far_cells_are_counted_after_the_first_five(tmp_path):
    far = {f"A{200_000 + i}": i for i in range(8)}
    [sheet] = read_sheets(_book(tmp_path / "c.xlsx", {"数据": {**TABLE, **far}}), max_rows=1_048_576, max_cols=10)
    assert len(sheet.rows) == 3
    assert sheet.ignored[5:] == ["另有 3 个远离数据区的单元格（超出 1048576 行 × 10 列或远离数据），已忽略"]


def test_every_sheet_or_only_the_first(tmp_path):
    path = _book(tmp_path / "d.xlsx", {"甲镇": {"A1": "线索编号", "A2": "C1"}, "乙镇": {"B2": 1, "XFD1": "z"}})
    sheets = read_sheets(path, max_rows=100, max_cols=20)
    assert sheets == [
        SheetCells("甲镇", [["线索编号"], ["C1"]], []),
        SheetCells("乙镇", [[None, None], [None, 1.0]], ["工作表在 XFD1 处有远离数据区的单元格，已忽略"]),
    ]
    assert read_sheets(path, max_rows=100, max_cols=20, first_only=True) == sheets[:1]


def test_dates_and_booleans_come_back_as_python_values(tmp_path):
    path = tmp_path / "e.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    sheet.write_datetime("A1", dt.datetime(2026, 11, 20), book.add_format({"num_format": "yyyy-mm-dd"}))
    sheet.write_boolean("B1", True)
    book.close()
    assert read_sheets(path, max_rows=10, max_cols=10)[0].rows == [[dt.date(2026, 11, 20), True]]


@pytest.mark.parametrize("data", [b"PK\x03\x04 not a workbook", b"plain text"])
def test_a_damaged_file_raises_a_chinese_error(tmp_path, data):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(data)
    with pytest.raises(WorkbookUnreadable, match="Excel 文件“bad.xlsx”无法打开"):
        read_sheets(path, max_rows=10, max_cols=10)


def test_a_zip_that_is_not_a_workbook_raises_a_chinese_error(tmp_path):
    path = tmp_path / "zip.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(WorkbookUnreadable, match="无法打开"):
        read_sheets(path, max_rows=10, max_cols=10)


def test_column_letters_round_trip():
    assert [column_letters(n) for n in (1, 26, 27, 702, 703, 16384)] == ["A", "Z", "AA", "ZZ", "AAA", "XFD"]
    assert [column_number(s) for s in ("A", "Z", "AA", "ZZ", "AAA", "XFD")] == [1, 26, 27, 702, 703, 16384]


def test_references_that_are_not_the_first_attribute_are_still_found(tmp_path):
    import re

    plain = _book(tmp_path / "plain.xlsx", {"数据": {**TABLE, "A1048576": "x", "XFD3": "y"}})
    path = tmp_path / "reordered.xlsx"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w") as copy:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<row r="(\d+)"', rb'<row customFormat="0" r="\1"', data)
                data = re.sub(rb'<c r="([A-Z]+\d+)"', rb'<c s="0" r="\1"', data)
            copy.writestr(info, data)
    [sheet] = read_sheets(path, max_rows=1_048_576, max_cols=200)
    assert sheet.rows == [["姓名", "出生日期", "人数"], ["陈明", "1990-01-01", 3.0], ["王芳", None, 2.5]]
    assert sheet.ignored == ["工作表在 XFD3 处有远离数据区的单元格，已忽略", "工作表在 A1048576 处有远离数据区的单元格，已忽略"]


def test_a_chart_sheet_reads_as_an_empty_sheet(tmp_path):
    path = tmp_path / "chart.xlsx"
    book = xlsxwriter.Workbook(path)
    book.add_worksheet("数据").write_row(0, 0, ["线索编号", 1])
    chart = book.add_chart({"type": "line"})
    chart.add_series({"values": "=数据!$B$1:$B$1"})
    book.add_chartsheet("图").set_chart(chart)
    book.close()
    assert read_sheets(path, max_rows=10, max_cols=10) == [
        SheetCells("数据", [["线索编号", 1.0]], []),
        SheetCells("图", [], []),
    ]
