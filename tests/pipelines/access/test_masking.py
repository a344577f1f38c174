"""`mask_ids_in_text`: every ID form the feed contract allows is masked wherever it stands in free
text, keeping the region (first 6) and the tail; numbers that are not ID numbers stay as they are."""

from __future__ import annotations

import pytest

from pipelines.access import mask_id, mask_ids_in_text

# Synthetic numbers. 52270120120316687 + check digit 9 and 11010519491231002 + X pass the GB 11643
# checksum; 522725199001011234 does not (a mistyped number) but has a region and a birth date.
VALID = "522701201203166879"


@pytest.mark.parametrize(
    "text, masked",
    [
        # 18 digits, as delivered
        (f"身份证号 {VALID}", "身份证号 522701********6879"),
        ("身份证号 522725199001011234；姓名 张三", "身份证号 522725********1234；姓名 张三"),
        ("户主11010519491231002X，", "户主110105********002X，"),
        ("11010519491231002x", "110105********002x"),
        # spaces, hyphens, ideographic spaces, tabs and zero-width spaces inside
        ("证件 522701 20120316 6879 已核", "证件 522701********6879 已核"),
        ("522701-20120316-6879", "522701********6879"),
        ("522701\u201320120316\u20136879", "522701********6879"),
        ("５２２７０１－２０１２０３１６－６８７９", "522701********6879"),
        ("5227 0120 1203 1668 79", "522701********6879"),
        ("522701\u300020120316\u30006879", "522701********6879"),
        ("522701\t20120316\t6879", "522701********6879"),
        ("522701\u200b201203166879", "522701********6879"),
        # full-width digits and letters
        ("身份证号 ５２２７０１２０１２０３１６６８７９", "身份证号 522701********6879"),
        ("１１０１０５１９４９１２３１００２Ｘ", "110105********002X"),
        ("５２２７０１　２０１２０３１６　６８７９", "522701********6879"),
        # Excel's text marker or a leading tab stays; the number is masked
        (f"'{VALID}", "'522701********6879"),
        (f"\t{VALID}", "\t522701********6879"),
        # first generation, 15 digits (birth date YYMMDD, no check digit)
        ("老证 522725900101123 仍在用", "老证 522725******123 仍在用"),
        ("522725 900101 123", "522725******123"),
        # mistyped: one digit short or long, still a region and a birth date
        ("52272519900101123", "522725*******1123"),
        ("5227251990010112", "522725******0112"),
        # Excel's scientific form, with the digits it kept
        ("身份证号 5.22725E+17", "身份证号 5.2272*E+17"),
        ("5.22725199001012E+17", "5.2272**********E+17"),
        ("5.22725199001012e+17", "5.2272**********e+17"),
        ("５．２２７２５Ｅ＋１７", "5.2272*E+17"),
        # a float print of a cell Excel turned into a number
        ("522725199001011200.0", "522725********1200.0"),
        # several in one text, next to other numbers
        (
            f"{VALID}，522725900101123；2026-11-20 {VALID}",
            "522701********6879，522725******123；2026-11-20 522701********6879",
        ),
        ("3 522725199001011234", "3 522725********1234"),
        ("522725199001011234 2026-11-20", "522725********1234 2026-11-20"),
        ("记录 HK522725199001011234", "记录 HK522725********1234"),
    ],
)
def test_every_id_form_is_masked_in_free_text(text, masked):
    assert mask_ids_in_text(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "出生日期 2026-11-20；变动日期 20261120；2026年11月20日；2017/6/23",
        "联系电话 13800138000",
        "联系电话 138 0013 8000",
        "行政区划代码 522725102203",
        "户编码 H5227251022030001",
        # village code + sequence: a region but no birth date (1022-03-00)
        "户编号 5227251022030001",
        "记录 522725102203000123",
        # passes the checksum by chance, but 1022-03-00 is no birth date
        "记录 522725102203000120",
        # village code then a date: joined they are 18 digits without a birth date
        "村 522725102203 2026-11-20",
        "日期 2026-11-20 13800138000",
        # a birth date but no province (90) and a wrong check digit
        "批次 902611199001011234",
        # 19 digits: a bank card, not an ID number
        "账号 6222021234567890123",
        "人均纯收入 12345.67；注册资本 1.5E+3；金额 1234567.89",
        "身份证号 522725********1234",
        "人员编号 P000000002；成员记录数 2",
        "",
    ],
)
def test_numbers_that_are_not_id_numbers_stay(text):
    assert mask_ids_in_text(text) == text


def test_users_allowed_full_ids_see_the_text_as_it_is():
    text = "证件 522701 20120316 6879"
    assert mask_ids_in_text(text, full_ids=True) == text
    assert mask_ids_in_text(None) == ""


@pytest.mark.parametrize(
    "value, masked",
    [
        ("522701 20120316 6879", "522701********6879"),
        ("522701-20120316-6879", "522701********6879"),
        ("５２２７０１２０１２０３１６６８７９", "522701********6879"),
        ("'522725199001011234", "522725********1234"),
        ("\t522725199001011234", "522725********1234"),
    ],
)
def test_mask_id_reads_the_same_forms_as_one_value(value, masked):
    assert mask_id(value) == masked
