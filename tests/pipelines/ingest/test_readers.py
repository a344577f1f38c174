"""Reading delivered files: encodings, xlsx, title rows, header aliases, broken files."""

from __future__ import annotations

import pytest
import xlsxwriter

from pipelines.catalog.feeds import load_feeds
from pipelines.ingest.readers import FeedRejected, read_feed_file

FEEDS = load_feeds()
HUKOU = FEEDS["hukou"]
MAX = 1 << 30
HEADER = "人员编号,公民身份号码,姓名,性别,人口状态,户籍地区划代码\n"
ROWS = "P001,522725199001011234,陈明,男,正常,522725102203\nP002,,王芳,女,死亡,522725102203\n"


def _write(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_utf8_bom_csv_with_alias_and_fullwidth_headers(tmp_path):
    header = " 人员编号 ,身份证号,姓　名,性别,户口状态,区划代码,备注\n"  # alias, full-width space, extra column
    path = _write(tmp_path, "hukou.csv", ("\ufeff" + header + "P001,1,陈明, 男 ,正常,522725102203,无\n").encode())
    table = read_feed_file(path, HUKOU, MAX)
    assert table.encoding == "UTF-8 (BOM)"
    assert table.frame.to_dict("records") == [
        {
            "row_no": 2,
            "person_no": "P001",
            "id_number": "1",
            "name": "陈明",
            "sex": "男",
            "state": "正常",
            "village_code": "522725102203",
            "extra": '{"备注": "无"}',
        }
    ]
    assert table.unknown_columns == ["备注"]


def test_gb18030_csv(tmp_path):
    path = _write(tmp_path, "hukou.csv", (HEADER + ROWS).encode("gb18030"))
    table = read_feed_file(path, HUKOU, MAX)
    assert table.encoding == "GB18030"
    assert list(table.frame["name"]) == ["陈明", "王芳"]


def test_gbk_body_under_utf8_header_is_decoded_line_by_line(tmp_path):
    path = _write(tmp_path, "hukou.csv", HEADER.encode("utf-8") + ROWS.encode("gbk"))
    table = read_feed_file(path, HUKOU, MAX)
    assert table.encoding == "混合编码"
    assert list(table.frame["name"]) == ["陈明", "王芳"]
    assert [n["check"] for n in table.notes] == ["encoding"]


def test_truncated_csv_keeps_the_partial_row_and_says_so(tmp_path):
    path = _write(tmp_path, "hukou.csv", (HEADER + ROWS + 'P003,"5227251990').encode())
    table = read_feed_file(path, HUKOU, MAX)
    assert list(table.frame["person_no"]) == ["P001", "P002", "P003"]
    assert table.frame["name"].iloc[2] is None
    assert [n["check"] for n in table.notes] == ["truncated"]


def test_blank_rows_are_skipped_and_counted_but_row_numbers_stay_true(tmp_path):
    path = _write(tmp_path, "hukou.csv", (HEADER + "P001,,陈明,男,正常,\n,,,,,\n\nP002,,王芳,女,正常,\n").encode())
    table = read_feed_file(path, HUKOU, MAX)
    assert list(table.frame["row_no"]) == [2, 5]
    assert [n["check"] for n in table.notes] == ["blank_rows"]


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "文件为空"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "不是文本"),
        (HEADER.encode(), "只有表头"),
        ("姓名,性别\n陈明,男\n".encode(), "缺少关键列“人员编号”"),
        ("甲,乙\n1,2\n".encode(), "无法识别表头"),
    ],
    ids=["empty", "binary", "header-only", "no-key-column", "unknown-headers"],
)
def test_unusable_files_are_rejected_with_a_chinese_reason(tmp_path, data, reason):
    path = _write(tmp_path, "hukou.csv", data)
    with pytest.raises(FeedRejected, match=reason):
        read_feed_file(path, HUKOU, MAX)


def test_xlsx_with_merged_title_and_two_row_header(tmp_path):
    path = tmp_path / "poverty_members.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.merge_range("A1:E1", "扶贫·家庭成员信息表")
    sheet.merge_range("A2:A3", "成员编号")  # merged down over the two header rows
    sheet.merge_range("B2:C2", "基本信息")  # a group header above two columns
    sheet.write_row("B3", ["姓名", "身份证号", "出生日期"])
    sheet.write_row("D2", ["户编号"])
    sheet.write_row("A4", ["M1", "陈明", 5.22701199001011e17])
    sheet.write_datetime("D4", __import__("datetime").datetime(2017, 6, 23), date_format)
    sheet.write("E3", "户编号")
    sheet.write("E4", 1001.0)
    book.close()
    table = read_feed_file(path, FEEDS["poverty_members"], MAX)
    assert table.encoding == "xlsx"
    assert table.header_row == 3
    assert table.frame.drop(columns=["extra"], errors="ignore").to_dict("records") == [
        {
            "row_no": 4,
            "member_no": "M1",
            "name": "陈明",
            "id_number": "5.22701199001011E+17",
            "birth_date": "2017-06-23",
            "household_no": "1001",
        }
    ]


def test_xlsx_named_csv_is_read_as_excel_with_a_warning(tmp_path):
    path = tmp_path / "hukou.csv"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["人员编号", "姓名"])
    sheet.write_row(1, 0, ["P1", "陈明"])
    book.close()
    table = read_feed_file(path, HUKOU, MAX)
    assert list(table.frame["name"]) == ["陈明"]
    assert [n["check"] for n in table.notes] == ["file_format"]


def test_a_damaged_xlsx_is_rejected(tmp_path):
    path = _write(tmp_path, "hukou.xlsx", b"PK\x03\x04 not really a workbook")
    with pytest.raises(FeedRejected, match="Excel"):
        read_feed_file(path, HUKOU, MAX)


# --- reading within bounds (issue 9: no bad file stops a night) ---------------------------------

MEDICAL = FEEDS["medical_insurance"]
MEDICAL_HEADER = "个人编号,姓名,身份证号,参保地区划代码,参保年度,参保状态,大病保险\n"


def _medical_rows(count: int) -> list[str]:
    return [f"Y{i:04d},人员{i},,522725102203,2026,正常参保,是\n" for i in range(1, count + 1)]


def test_far_away_xlsx_cells_are_ignored_with_a_warning_naming_them(tmp_path):
    # Read whole by calamine, this sheet is 1048576 × 16384 cells: the process aborted (rc 134).
    path = tmp_path / "hukou.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["人员编号", "姓名", "性别"])
    sheet.write_row(1, 0, ["P1", "陈明", "男"])
    sheet.write_row(2, 0, ["P2", "王芳", "女"])
    sheet.write("A1048576", "x")
    sheet.write("XFD3", "y")
    book.close()
    table = read_feed_file(path, HUKOU, MAX)
    assert table.frame.to_dict("records") == [
        {"row_no": 2, "person_no": "P1", "name": "陈明", "sex": "男"},
        {"row_no": 3, "person_no": "P2", "name": "王芳", "sex": "女"},
    ]
    assert [(n["check"], n["severity"], n["message"]) for n in table.notes] == [
        ("far_cells", "warning", "工作表在 XFD3 处有远离数据区的单元格，已忽略"),
        ("far_cells", "warning", "工作表在 A1048576 处有远离数据区的单元格，已忽略"),
    ]


def test_an_unclosed_quote_breaks_one_row_not_the_file(tmp_path):
    rows = _medical_rows(20)
    rows[4] = 'Y0005,"张三,,522725102203,2026,正常参保,是\n'  # line 6 of the file
    path = _write(tmp_path, "medical_insurance.csv", (MEDICAL_HEADER + "".join(rows)).encode())
    table = read_feed_file(path, MEDICAL, MAX)
    assert len(table.frame) == 20
    assert list(table.frame["insured_no"]) == [f"Y{i:04d}" for i in range(1, 21)]
    assert table.frame.loc[4].to_dict() == {
        "row_no": 6,
        "insured_no": "Y0005",
        "name": '"张三',
        "id_number": None,
        "village_code": "522725102203",
        "year": "2026",
        "state": "正常参保",
        "critical_illness_cover": "是",
    }
    assert table.frame.loc[5, "name"] == "人员6"
    assert [(n["check"], n["severity"], n["row_no"]) for n in table.notes] == [("broken_quote", "error", 6)]
    assert table.notes[0]["message"] == "第 6 行的引号没有闭合，已按原样逐行读取该行（引号保留），请核对"


def test_a_closed_quote_with_a_line_break_inside_is_still_one_field(tmp_path):
    rows = _medical_rows(3)
    rows[1] = 'Y0002,"李\n四",,522725102203,2026,正常参保,是\n'
    path = _write(tmp_path, "medical_insurance.csv", (MEDICAL_HEADER + "".join(rows)).encode())
    table = read_feed_file(path, MEDICAL, MAX)
    assert list(table.frame["name"]) == ["人员1", "李\n四", "人员3"]
    assert table.notes == []


@pytest.mark.parametrize("at", [1, 2])  # a middle record, and the last record of the file
def test_a_closed_quote_ending_in_a_line_break_is_still_one_field(tmp_path, at):
    rows = _medical_rows(3)
    rows[at] = f'Y000{at + 1},人员{at + 1},,522725102203,2026,正常参保,"是\n"\n'  # Alt+Enter at the end of a cell
    path = _write(tmp_path, "medical_insurance.csv", (MEDICAL_HEADER + "".join(rows)).encode())
    table = read_feed_file(path, MEDICAL, MAX)
    assert list(table.frame["insured_no"]) == ["Y0001", "Y0002", "Y0003"]
    assert table.frame.loc[at, "critical_illness_cover"] == "是"  # cells are trimmed like any other
    assert table.notes == []


def test_an_unclosed_quote_on_the_last_line_is_still_a_broken_row(tmp_path):
    rows = _medical_rows(3)
    rows[2] = 'Y0003,"人员3,,522725102203,2026,正常参保,是\n'
    path = _write(tmp_path, "medical_insurance.csv", (MEDICAL_HEADER + "".join(rows)).encode())
    table = read_feed_file(path, MEDICAL, MAX)
    assert list(table.frame["insured_no"]) == ["Y0001", "Y0002", "Y0003"]
    assert table.frame.loc[2, "name"] == '"人员3'
    assert [(n["check"], n["row_no"]) for n in table.notes] == [("broken_quote", 4)]


def test_an_overlong_field_is_cut_and_flagged(tmp_path):
    rows = _medical_rows(3)
    rows[2] = "Y0003," + "长" * 2500 + ",,522725102203,2026,正常参保,是\n"
    path = _write(tmp_path, "medical_insurance.csv", (MEDICAL_HEADER + "".join(rows)).encode())
    table = read_feed_file(path, MEDICAL, MAX)
    assert table.frame.loc[2, "name"] == "长" * 2000
    assert [(n["check"], n["severity"], n["row_no"], n["field"]) for n in table.notes] == [("field_too_long", "error", 4, "name")]


def test_a_nul_byte_in_one_field_is_a_finding_not_a_binary_file(tmp_path):
    rows = _medical_rows(3)
    rows[1] = "Y0002,李\x00四,,522725102203,2026,正常参保,是\n"
    path = _write(tmp_path, "medical_insurance.csv", (MEDICAL_HEADER + "".join(rows)).encode())
    table = read_feed_file(path, MEDICAL, MAX)
    assert list(table.frame["name"]) == ["人员1", "李四", "人员3"]
    assert [(n["check"], n["severity"], n["row_no"], n["field"]) for n in table.notes] == [("nul_byte", "warning", 3, "name")]


def test_a_bom_in_the_middle_of_a_file_is_removed_from_keys_and_values(tmp_path):
    rows = _medical_rows(3)
    rows[1] = "\ufeffY0002,李\ufeff四,,522725102203,2026,正常参保,是\n"  # two files concatenated
    path = _write(tmp_path, "medical_insurance.csv", ("\ufeff" + MEDICAL_HEADER + "".join(rows)).encode())
    table = read_feed_file(path, MEDICAL, MAX)
    assert list(table.frame["insured_no"]) == ["Y0001", "Y0002", "Y0003"]
    assert list(table.frame["name"]) == ["人员1", "李四", "人员3"]
    assert [n["check"] for n in table.notes] == ["bom"]


def test_a_repeated_header_row_is_dropped_not_loaded_as_a_person(tmp_path):
    rows = _medical_rows(3)
    rows.insert(2, "参保人编号, 姓名 ,证件号码,区划代码,参保年度,参保状态,大病保险\n")  # aliases, spaces
    path = _write(tmp_path, "medical_insurance.csv", (MEDICAL_HEADER + "".join(rows)).encode())
    table = read_feed_file(path, MEDICAL, MAX)
    assert list(table.frame["insured_no"]) == ["Y0001", "Y0002", "Y0003"]
    assert list(table.frame["row_no"]) == [2, 3, 5]
    assert [(n["check"], n["row_no"], n["message"]) for n in table.notes] == [("repeated_header", 4, "第 4 行重复了表头，已跳过")]
