"""The validation report: an offline Chinese page, JSON that parses back, a CSV Excel opens; IDs masked."""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest

from pipelines.reports.validation import build_findings_csv, status_text, write_validation_report
from pipelines.store import files

ID = "522725199001010012"
FEEDS = [
    {
        "feed": "hukou",
        "title": "公安·户籍人口",
        "status": "loaded",
        "source_file": "hukou.csv",
        "encoding": "GB18030",
        "rows": 3,
        "bad_rows": 2,
        "effective_date": "2026-11-20",
        "message": None,
    },
    {
        "feed": "poverty_members",
        "title": "扶贫·家庭成员",
        "status": "rejected",
        "source_file": "poverty_members.xlsx",
        "encoding": "xlsx",
        "rows": 10,
        "bad_rows": 5,
        "effective_date": "2026-11-19",
        "message": "5 行存在错误（共 10 行，占 50.0%），超过允许的上限 20%（身份证号问题不计入）",
    },
    {
        "feed": "medical_insurance",
        "title": "医保·城乡居民参保",
        "status": "missing",
        "source_file": None,
        "encoding": None,
        "rows": None,
        "bad_rows": None,
        "effective_date": "2026-11-18",
        "message": None,
    },
    {
        "feed": "vehicles",
        "title": "公安交管·机动车",
        "status": "absent_optional",
        "source_file": None,
        "encoding": None,
        "rows": None,
        "bad_rows": None,
        "effective_date": None,
        "message": None,
    },
    {
        "feed": "illness_registry",
        "title": "卫健·大病慢病登记",
        "status": "unchanged",
        "source_file": "illness_registry.csv",
        "encoding": "UTF-8",
        "rows": 4,
        "bad_rows": 0,
        "effective_date": "2026-11-20",
        "message": None,
    },
]
FINDINGS = pd.DataFrame(
    [
        {
            "feed": "hukou",
            "record_key": "P1",
            "row_no": 2,
            "field": "id_number",
            "check": "id_format",
            "severity": "error",
            "value": ID,
            "message": f"身份证号位数错误（应为 18 位）：{ID}",
        },
        {
            "feed": "hukou",
            "record_key": "P2",
            "row_no": 3,
            "field": "sex",
            "check": "enum",
            "severity": "error",
            "value": "<b>男</b>",
            "message": "性别的值不在规定范围内（男、女）：<b>男</b>",
        },
        {
            "feed": "hukou",
            "record_key": "P2",
            "row_no": 3,
            "field": "id_number",
            "check": "id_empty",
            "severity": "warning",
            "value": None,
            "message": "身份证号为空",
        },
        {
            "feed": "poverty_members",
            "record_key": None,
            "row_no": None,
            "field": "name",
            "check": "missing_column",
            "severity": "error",
            "value": None,
            "message": "缺少必填列“姓名”",
        },
    ]
)


@pytest.fixture
def written(tmp_path):
    return write_validation_report("2026-11-20", FEEDS, FINDINGS, tmp_path / "reports" / "2026-11-20")


def test_ids_in_findings_are_masked_as_everywhere_else():
    values = [ID, "522725900101001", "5.22701E+17", "12345"]
    findings = pd.DataFrame(
        {
            "feed": "hukou",
            "record_key": [f"P{n}" for n in range(len(values))],
            "row_no": range(2, 2 + len(values)),
            "field": "id_number",
            "check": "id_format",
            "severity": "error",
            "value": values,
            "message": [f"身份证号无效：{v}" for v in values],
        }
    )
    rows = build_findings_csv(findings).splitlines()[1:]
    assert [row.split(",")[5:] for row in rows] == [
        ["522725********0012", "身份证号无效：522725********0012"],
        ["522725******001", "身份证号无效：522725******001"],  # first generation: the birth date hidden
        ["5.2270*E+17", "身份证号无效：5.2270*E+17"],
        ["*****", "身份证号无效：*****"],
    ]


def test_status_text_in_chinese_names_the_fallback():
    assert [status_text(f) for f in FEEDS] == [
        "已载入",
        "已拒收：5 行存在错误（共 10 行，占 50.0%），超过允许的上限 20%（身份证号问题不计入），沿用 2026-11-19 的数据",
        "缺失，沿用 2026-11-18 的数据",
        "可选数据未提供",
        "与上次相同",
    ]
    assert status_text({**FEEDS[2], "message": "沿用 2026-11-18 的数据"}) == "缺失，沿用 2026-11-18 的数据"
    assert status_text({**FEEDS[2], "effective_date": None}) == "缺失，没有可沿用的数据"


def test_writes_three_files_into_a_new_directory(written, tmp_path):
    out = tmp_path / "reports" / "2026-11-20"
    assert written == {"html": out / "validation.html", "json": out / "validation.json", "csv": out / "validation_findings.csv"}
    assert sorted(p.name for p in out.iterdir()) == ["validation.html", "validation.json", "validation_findings.csv"]


def test_html_renders_offline_escaped_and_masked(written):
    page = written["html"].read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="zh-CN">' in page and '<meta charset="utf-8">' in page
    assert "<style>" in page
    assert "http" not in page and "<link" not in page and "<script" not in page
    assert "<b>男</b>" not in page and "&lt;b&gt;男&lt;/b&gt;" in page
    assert ID not in page and "522725********0012" in page
    for text in ("已载入", "已拒收：5 行存在错误", "缺失，沿用 2026-11-18 的数据", "可选数据未提供", "与上次相同"):
        assert text in page
    assert "身份证号无效（id_format）" in page and "缺少列（missing_column）" in page


def test_html_shows_at_most_200_findings_per_feed(tmp_path):
    many = pd.DataFrame(
        [
            {
                "feed": "hukou",
                "record_key": f"P{n}",
                "row_no": n,
                "field": "sex",
                "check": "enum",
                "severity": "error",
                "value": "x",
                "message": "性别的值不在规定范围内（男、女）：x",
            }
            for n in range(2, 252)
        ]
    )
    page = write_validation_report("2026-11-20", FEEDS[:1], many, tmp_path)["html"].read_text(encoding="utf-8")
    assert page.count("<td>性别的值不在规定范围内（男、女）：x</td>") == 200
    assert "共 250 条，以下列出前 200 条" in page


def test_json_parses_back_with_every_finding_unmasked(written):
    document = json.loads(written["json"].read_text(encoding="utf-8"))
    assert document["delivery_date"] == "2026-11-20"
    assert document["feeds"] == FEEDS
    assert document["counts"] == {
        "hukou": {"enum": {"error": 1}, "id_empty": {"warning": 1}, "id_format": {"error": 1}},
        "poverty_members": {"missing_column": {"error": 1}},
    }
    expected = FINDINGS.astype(object).where(FINDINGS.notna(), None).to_dict("records")
    for record in expected:
        record["row_no"] = None if record["row_no"] is None else int(record["row_no"])
    assert document["findings"] == expected


def test_csv_has_bom_chinese_headers_and_masked_ids(written):
    raw = written["csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines == [
        "数据项,记录编号,字段,检查,严重程度,原值,说明",
        "公安·户籍人口,P1,公民身份号码,身份证号无效,错误,522725********0012,身份证号位数错误（应为 18 位）：522725********0012",
        "公安·户籍人口,P2,性别,取值不在规定范围,错误,<b>男</b>,性别的值不在规定范围内（男、女）：<b>男</b>",
        "公安·户籍人口,P2,公民身份号码,身份证号为空,警告,,身份证号为空",
        "扶贫·家庭成员,,姓名,缺少列,错误,,缺少必填列“姓名”",
    ]


def test_csv_defuses_values_excel_would_run_as_formulas(tmp_path):
    findings = pd.DataFrame(
        [
            {
                "feed": "poverty_households",
                "record_key": "=HYPERLINK(1)",
                "row_no": 2,
                "field": "size",
                "check": "number_format",
                "severity": "error",
                "value": "@SUM(1)",
                "message": "家庭人口数不是有效整数：@SUM(1)",
            },
            {
                "feed": "poverty_households",
                "record_key": "H2",
                "row_no": 3,
                "field": "size",
                "check": "number_range",
                "severity": "error",
                "value": "-1",
                "message": "家庭人口数应不小于 1：-1",
            },
        ]
    )
    lines = write_validation_report("2026-11-20", FEEDS, findings, tmp_path)["csv"].read_text(encoding="utf-8-sig")
    assert lines.splitlines()[1:] == [
        "扶贫·建档立卡户,'=HYPERLINK(1),家庭人口数,数字无效,错误,'@SUM(1),家庭人口数不是有效整数：@SUM(1)",
        "扶贫·建档立卡户,H2,家庭人口数,数值超出范围,错误,-1,家庭人口数应不小于 1：-1",
    ]


def test_no_findings_still_writes_a_report(tmp_path):
    paths = write_validation_report("2026-11-20", FEEDS, pd.DataFrame(), tmp_path)
    assert "本次未发现问题" in paths["html"].read_text(encoding="utf-8")
    assert json.loads(paths["json"].read_text(encoding="utf-8"))["findings"] == []
    assert paths["csv"].read_bytes() == "\ufeff数据项,记录编号,字段,检查,严重程度,原值,说明\r\n".encode()


def test_a_failed_write_leaves_the_previous_report_whole(written, monkeypatch):
    before = {kind: path.read_bytes() for kind, path in written.items()}
    real_fsync, calls = os.fsync, []

    def disk_full_on_second_file(fd):
        calls.append(fd)
        if len(calls) == 2:
            raise OSError("disk full")
        real_fsync(fd)

    monkeypatch.setattr(files.os, "fsync", disk_full_on_second_file)
    with pytest.raises(OSError, match="disk full"):
        write_validation_report("2026-11-21", FEEDS, FINDINGS.head(1), written["html"].parent)
    assert {kind: path.read_bytes() for kind, path in written.items()} == before
    assert sorted(p.name for p in written["html"].parent.iterdir()) == [
        "validation.html",
        "validation.json",
        "validation_findings.csv",
    ]


def test_report_files_are_readable_by_others(written):
    assert {oct(path.stat().st_mode & 0o777) for path in written.values()} == {"0o644"}
