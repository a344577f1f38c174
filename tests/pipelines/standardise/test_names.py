"""Names: one written form, and pinyin keys that read the surname as a surname. Names are made up."""

from __future__ import annotations

import pandas as pd
import pandas.testing as pdt
import pytest

from pipelines.standardise.names import initials_key, normalise_name, pinyin_key, standardise_names


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("张三", "张三"),
        (" 张 三 ", "张三"),
        ("张\u3000三", "张三"),  # ideographic space
        ("张\u00a0三\t", "张三"),  # NBSP, tab
        ("张\u200b三", "张三"),  # zero-width space
        ("Ｗａｎｇ　Ｌｉ", "WangLi"),  # full-width letters
        ("陳小明", "陈小明"),
        ("歐陽曉東", "欧阳晓东"),
        ("买买提·艾力", "买买提·艾力"),
        ("买买提•艾力", "买买提·艾力"),  # U+2022 bullet
        ("买买提．艾力", "买买提·艾力"),  # U+FF0E full-width full stop
        ("买买提・艾力", "买买提·艾力"),  # U+30FB katakana middle dot
        ("买买提･艾力", "买买提·艾力"),  # U+FF65 half-width katakana middle dot
        ("买买提‧艾力", "买买提·艾力"),  # U+2027 hyphenation point
        ("买买提∙艾力", "买买提·艾力"),  # U+2219 bullet operator
        ("买买提.艾力", "买买提·艾力"),  # ASCII full stop between Han characters
        ("买买提。艾力", "买买提·艾力"),
        ("买买提 · 艾力", "买买提·艾力"),
        ("买买提··艾力·", "买买提·艾力"),
        ("J.Smith", "J.Smith"),  # a full stop after a Latin initial is not the name dot
        (None, ""),
        (float("nan"), ""),
        ("  ", ""),
    ],
)
def test_normalise_name(raw, expected):
    assert normalise_name(raw) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("曾国藩", "zeng guo fan"),
        ("单雄信", "shan xiong xin"),
        ("解晓东", "xie xiao dong"),
        ("仇志强", "qiu zhi qiang"),
        ("区美玲", "ou mei ling"),
        ("查良镛", "zha liang yong"),
        ("朴海英", "piao hai ying"),
        ("盖立新", "ge li xin"),
        ("翟小红", "zhai xiao hong"),
        ("尉迟德明", "yu chi de ming"),
        ("万俟春华", "mo qi chun hua"),
        ("长孙秀兰", "zhang sun xiu lan"),
        ("张曾", "zhang ceng"),  # only the leading character takes the surname reading
        ("陈小明", "chen xiao ming"),
        ("陳 小明", "chen xiao ming"),
        ("吕红", "lv hong"),
        ("买买提·艾力", "mai mai ti ai li"),
        ("王A2", "wang a2"),
        ("WangLi", "wangli"),
        ("", ""),
    ],
)
def test_pinyin_key(name, expected):
    assert pinyin_key(name) == expected


def test_initials_key():
    assert initials_key("单雄信") == "sxx"
    assert initials_key("曾国藩") == "zgf"
    assert initials_key("买买提·艾力") == "mmtal"
    assert initials_key(None) == ""


def test_standardise_names_frame():
    raw = pd.Series(["陳小明", "曾 国藩", None, "陈小明", "买买提•艾力"], index=[5, 6, 7, 8, 9])
    expected = pd.DataFrame(
        {
            "name_norm": ["陈小明", "曾国藩", "", "陈小明", "买买提·艾力"],
            "name_pinyin": ["chen xiao ming", "zeng guo fan", "", "chen xiao ming", "mai mai ti ai li"],
            "name_initials": ["cxm", "zgf", "", "cxm", "mmtal"],
        },
        index=raw.index,
        dtype=object,
    )
    pdt.assert_frame_equal(standardise_names(raw), expected)
