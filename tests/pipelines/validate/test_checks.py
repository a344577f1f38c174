"""check_feed: findings named by row and record key, and when a feed is rejected whole."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from pipelines.catalog.feeds import load_feeds
from pipelines.settings import load_settings
from pipelines.standardise.ids import check_digit
from pipelines.store.snapshots import FINDING_COLUMNS
from pipelines.validate.checks import check_feed

AS_OF = dt.date(2026, 11, 20)
HUKOU = load_feeds()["hukou"]
KNOWN = {"522725102203", "522725102204"}


def _id(first17: str) -> str:
    return first17 + check_digit(first17)


ID_A = _id("52272519900101001")
ID_B = _id("52272519851231002")
BAD_CHECK = ID_A[:17] + ("0" if ID_A[17] != "0" else "1")


def _settings(max_bad_row_share: float = 0.2):
    return load_settings(environ={}, data_dir="data", show_progress=False, max_bad_row_share=max_bad_row_share)


def hukou_frame(rows: list[dict]) -> pd.DataFrame:
    """Hukou rows on top of a clean person; every canonical column present."""
    clean = {
        "id_number": ID_A,
        "name": "陈明",
        "sex": "男",
        "ethnicity": "汉族",
        "birth_date": "1990-01-01",
        "hukou_no": "HK1",
        "relation": "户主",
        "village_code": "522725102203",
        "address": "某村",
        "state": "正常",
        "changed_on": None,
        "moved_to": None,
    }
    return pd.DataFrame([{**clean, **row} for row in rows], dtype=object)


def _plain(value):
    return None if value is pd.NA else value


def findings_of(result) -> list[tuple]:
    columns = ["feed", "record_key", "row_no", "field", "check", "severity"]
    return [tuple(map(_plain, r)) for r in result.findings[columns].itertuples(index=False, name=None)]


def records(result) -> list[dict]:
    columns = ["record_key", "row_no", "field", "check", "severity", "message"]
    return [{c: _plain(v) for c, v in zip(columns, r)} for r in result.findings[columns].itertuples(index=False)]


def test_row_level_findings_name_feed_key_row_field_check_and_severity():
    frame = hukou_frame(
        [
            {"row_no": 2, "person_no": "P1"},
            {"row_no": 3, "person_no": "P2", "id_number": None, "sex": "未知"},
            {"row_no": 4, "person_no": "P3", "id_number": "5.22701E+17", "village_code": "52272510220"},
            {"row_no": 5, "person_no": "P4", "id_number": BAD_CHECK, "birth_date": "1990/01/01"},
            {
                "row_no": 6,
                "person_no": "P5",
                "id_number": ID_B,
                "birth_date": "1985-12-31",
                "village_code": "522725999999",
                "name": None,
            },
        ]
    )
    result = check_feed(HUKOU, frame, KNOWN, _settings(max_bad_row_share=1.0), AS_OF)
    assert list(result.findings.columns) == FINDING_COLUMNS
    assert findings_of(result) == [
        ("hukou", "P2", 3, "id_number", "id_empty", "warning"),
        ("hukou", "P2", 3, "sex", "enum", "error"),
        ("hukou", "P3", 4, "id_number", "id_format", "error"),
        ("hukou", "P3", 4, "village_code", "region_format", "error"),
        ("hukou", "P4", 5, "id_number", "id_format", "error"),
        ("hukou", "P4", 5, "birth_date", "date_format", "error"),
        ("hukou", "P5", 6, "name", "required", "error"),
        ("hukou", "P5", 6, "village_code", "region_known", "error"),
    ]
    assert result.findings["message"].tolist() == [
        "身份证号为空",
        "性别的值不在规定范围内（男、女）：未知",
        "身份证号被Excel转为科学计数法，已标记无效（不作猜测）",
        "户籍地区划代码应为 12 位数字：52272510220",
        "身份证号校验位错误",
        "出生日期不是有效日期：1990/01/01",
        "必填字段“姓名”为空",
        "区划代码不在区划名录中：522725999999",
    ]
    assert result.findings["value"].tolist() == [
        None,
        "未知",
        "5.22701E+17",
        "52272510220",
        BAD_CHECK,
        "1990/01/01",
        None,
        "522725999999",
    ]
    assert (result.rows, result.bad_rows, result.rejected, result.reason) == (5, 4, False, None)


def test_every_row_of_a_duplicated_key_is_flagged():
    frame = hukou_frame(
        [
            {"row_no": 2, "person_no": "P1"},
            {"row_no": 3, "person_no": "P2"},
            {"row_no": 4, "person_no": "P1"},
            {"row_no": 5, "person_no": None},
        ]
    )
    result = check_feed(HUKOU, frame, KNOWN, _settings(max_bad_row_share=1.0), AS_OF)
    assert records(result) == [
        {
            "record_key": "P1",
            "row_no": 2,
            "field": "person_no",
            "check": "unique_key",
            "severity": "error",
            "message": "人员编号重复（共 2 行）",
        },
        {
            "record_key": "P1",
            "row_no": 4,
            "field": "person_no",
            "check": "unique_key",
            "severity": "error",
            "message": "人员编号重复（共 2 行）",
        },
        {
            "record_key": None,
            "row_no": 5,
            "field": "person_no",
            "check": "required",
            "severity": "error",
            "message": "人员编号为空",
        },
    ]
    assert result.bad_rows == 3


def test_missing_key_column_rejects_the_feed():
    frame = hukou_frame([{"row_no": 2}, {"row_no": 3}])
    result = check_feed(HUKOU, frame, KNOWN, _settings(), AS_OF)
    assert result.rejected
    assert result.reason == "缺少关键列“人员编号”，无法识别每条记录"
    assert findings_of(result) == [("hukou", None, None, "person_no", "missing_column", "error")]


def test_missing_optional_column_is_a_warning_and_required_one_an_error():
    frame = hukou_frame([{"row_no": 2, "person_no": "P1"}]).drop(columns=["moved_to", "state"])
    result = check_feed(HUKOU, frame, KNOWN, _settings(), AS_OF)
    assert records(result) == [
        {
            "record_key": None,
            "row_no": None,
            "field": "state",
            "check": "missing_column",
            "severity": "error",
            "message": "缺少必填列“人口状态”",
        },
        {
            "record_key": None,
            "row_no": None,
            "field": "moved_to",
            "check": "missing_column",
            "severity": "warning",
            "message": "缺少列“迁往地”，依赖该列的比对将跳过",
        },
    ]
    assert (result.rejected, result.bad_rows) == (False, 0)


def test_header_only_file_is_rejected():
    frame = hukou_frame([]).reindex(columns=["row_no", *HUKOU.columns])
    result = check_feed(HUKOU, frame, KNOWN, _settings(), AS_OF)
    assert (result.rejected, result.reason, result.rows, result.bad_rows) == (True, "文件只有表头，没有数据行", 0, 0)
    assert findings_of(result) == [("hukou", None, None, None, "row_count", "error")]


def test_share_of_bad_rows_above_the_threshold_rejects_the_feed():
    frame = hukou_frame([{"row_no": n, "person_no": f"P{n}"} for n in range(2, 12)])
    frame.loc[frame["row_no"].isin([2, 3, 4]), "state"] = "失踪"
    rejected = check_feed(HUKOU, frame, KNOWN, _settings(max_bad_row_share=0.2), AS_OF)
    assert (rejected.rejected, rejected.bad_rows, rejected.rows) == (True, 3, 10)
    assert rejected.reason == "3 行存在错误（共 10 行，占 30.0%），超过允许的上限 20%（身份证号问题不计入）"
    accepted = check_feed(HUKOU, frame, KNOWN, _settings(max_bad_row_share=0.3), AS_OF)
    assert (accepted.rejected, accepted.reason, accepted.bad_rows) == (False, None, 3)


def test_id_errors_are_row_findings_not_a_reason_to_reject():
    frame = hukou_frame([{"row_no": n, "person_no": f"P{n}", "id_number": "5.22701E+17"} for n in range(2, 6)])
    result = check_feed(HUKOU, frame, KNOWN, _settings(max_bad_row_share=0.2), AS_OF)
    assert (result.rejected, result.bad_rows, len(result.findings)) == (False, 4, 4)
    assert set(result.findings["check"]) == {"id_format"}


def test_without_a_region_reference_only_the_code_format_is_checked():
    frame = hukou_frame(
        [
            {"row_no": 2, "person_no": "P1", "village_code": "522725999999"},
            {"row_no": 3, "person_no": "P2", "village_code": "5227"},
        ]
    )
    result = check_feed(HUKOU, frame, set(), _settings(), AS_OF)
    assert findings_of(result) == [("hukou", "P2", 3, "village_code", "region_format", "error")]


def test_snapshot_shaped_input_with_object_row_numbers():
    frame = hukou_frame([{"row_no": 2, "person_no": "P1", "sex": " 男"}]).astype(object)
    frame["extra"] = '{"备注": "无"}'
    result = check_feed(HUKOU, frame, KNOWN, _settings(), AS_OF)
    assert findings_of(result) == [("hukou", "P1", 2, "sex", "enum", "error")]
    assert result.findings["row_no"].dtype == "Int64"


def test_a_valid_id_whose_birth_date_contradicts_the_row_is_flagged_without_rejecting():
    frame = hukou_frame(
        [
            {"row_no": 2, "person_no": "P1"},
            {"row_no": 3, "person_no": "P2", "id_number": ID_B},  # 1985-12-31 in the ID, 1990-01-01 in the row
            {"row_no": 4, "person_no": "P3", "id_number": ID_B, "birth_date": "1985-12-31"},
        ]
    )
    result = check_feed(HUKOU, frame, KNOWN, _settings(max_bad_row_share=0.2), AS_OF)
    assert records(result) == [
        {
            "record_key": "P2",
            "row_no": 3,
            "field": "id_number",
            "check": "id_birth_date",
            "severity": "error",
            "message": "身份证号中的出生日期（1985-12-31）与出生日期（1990-01-01）不符",
        }
    ]
    assert result.findings["value"].tolist() == [ID_B]
    assert (result.rejected, result.bad_rows) == (False, 1)
