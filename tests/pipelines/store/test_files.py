"""The store's writers for people's files: formula injection neutralised in every cell (CSV and
xlsx, the OWASP way), long digit keys kept as text in the .xlsx."""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import load_workbook

from pipelines.errors import BiduiError
from pipelines.store.files import neutralise_cell, write_excel_csv
from pipelines.store.xlsx import write_excel_table

ATTACKS = ['=HYPERLINK("http://x","点我")', "+1+1", "-2+3", "@SUM(A1)", "\t=1+1", "\r@A1", "\t\r-5"]


@pytest.mark.parametrize("value", ATTACKS)
def test_a_cell_that_would_run_as_a_formula_gets_a_leading_quote(value):
    assert neutralise_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["张三", "522725199001011234", "a=b", " =x", "", None, 3.5, -2, "\tplain"])
def test_other_cells_stay_as_they_are(value):
    assert neutralise_cell(value) == value


def test_csv_cells_and_headers_are_neutralised(tmp_path):
    out = tmp_path / "x.csv"
    frame = pd.DataFrame({"key": ['=HYPERLINK("http://x")', "522725199001011234"], "n": [-1, 2]})
    assert write_excel_csv(out, ["key", "n"], [frame]) == 2
    assert out.read_bytes().decode("utf-8") == ('\ufeffkey,n\r\n"\'=HYPERLINK(""http://x"")",-1\r\n522725199001011234,2\r\n')


def test_xlsx_keeps_digits_as_text_and_neutralises_formulas(tmp_path):
    out = tmp_path / "x.xlsx"
    rows = [
        ["R06-000001", "522725199001011234", '=HYPERLINK("http://x")', 3, None],
        ["R06-000002", "0012", "@A1", 0.5, "张三"],
        ["R06-000003", "-", "+8613800000000", -1, "\t=1+1"],
    ]
    assert write_excel_table(out, "线索", ["线索编号", "记录编号", "说明", "次数", "姓名"], rows) == 3
    book = load_workbook(out)
    sheet = book["线索"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    # Values as delivered, no visible apostrophe: Excel's own quote prefix keeps them text, even
    # when someone edits the cell and presses Enter.
    assert values == [
        ["线索编号", "记录编号", "说明", "次数", "姓名"],
        ["R06-000001", "522725199001011234", '=HYPERLINK("http://x")', 3, None],
        ["R06-000002", "0012", "@A1", 0.5, "张三"],
        ["R06-000003", "-", "+8613800000000", -1, "\t=1+1"],
    ]
    quoted = {c.coordinate for row in sheet.iter_rows() for c in row if c.quotePrefix}
    assert quoted == {"C2", "C3", "B4", "C4", "E4"}
    assert sheet["C2"].data_type == "s" and sheet["C2"].number_format == "@"
    assert sheet["B2"].data_type == "s" and sheet["C2"].data_type == "s"
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:E4"
    assert [p.name for p in tmp_path.iterdir()] == ["x.xlsx"]


def test_xlsx_past_the_sheet_row_limit_is_refused_and_nothing_is_left(tmp_path, monkeypatch):
    from pipelines.store import xlsx

    # Excel's limit is 1,048,575 rows under the header; xlsxwriter drops the rest without a word.
    monkeypatch.setattr(xlsx, "MAX_EXCEL_ROWS", 2)
    out = tmp_path / "x.xlsx"
    out.write_bytes(b"last night's export")
    rows = ([f"R06-{i:06d}"] for i in range(1, 4))
    with pytest.raises(BiduiError) as caught:
        write_excel_table(out, "线索", ["线索编号"], rows)
    assert str(caught.value) == "超过 Excel 单个工作表 1,048,575 行的上限：请按县导出，或改用 .csv"
    assert [p.name for p in tmp_path.iterdir()] == ["x.xlsx"]
    assert out.read_bytes() == b"last night's export"
    assert write_excel_table(out, "线索", ["线索编号"], [["R06-000001"], ["R06-000002"]]) == 2
