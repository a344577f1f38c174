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
