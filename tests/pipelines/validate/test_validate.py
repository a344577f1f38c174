"""Validation of stored snapshots: findings per row, feeds rejected whole, the night's report."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd

from pipelines import store
from pipelines.ingest.delivery import ingest_delivery
from pipelines.night.chain import run_night
from pipelines.validate.stage import finish_validation, validate_feed

REGIONS = (
    "区划代码,名称,级别,是否贫困村,贫困村出列年度,距县城公里数\n"
    "522725000000,瓮安县,county,否,,0\n522725102000,某镇,township,否,,12\n522725102203,某村,village,是,2019,15\n"
)
HUKOU = (
    "人员编号,公民身份号码,姓名,性别,出生日期,人口状态,户籍地区划代码\n"
    "P001,11010519491231002X,陈明,男,1949/12/31,正常,522725102203\n"
    "P002,,王芳,女,1985年3月5日,正常,522725102203\n"
    "P001,,李四,男,1990-01-01,正常,52272510220\n"
    "P004,,赵五,男,1990-01-01,正常,522725102203\n"
    "P005,,钱六,女,1991-01-01,正常,522725102203\n"
) + "".join(f"Q{i:03d},,孙{i},女,1992-01-01,正常,522725102203\n" for i in range(7))


def _night(tmp_path, day: str, hukou: str):
    folder = tmp_path / "drop" / day
    folder.mkdir(parents=True)
    (folder / "hukou.csv").write_text(hukou, encoding="utf-8")
    (folder / "regions.csv").write_text(REGIONS, encoding="utf-8")
    return folder


def _findings(settings, day="2026-11-20"):
    frame = store.load_findings(store.connect(settings), dt.date.fromisoformat(day), "hukou")
    return frame[frame["stage"] == "validate"]


def test_duplicated_keys_and_an_eleven_digit_region_are_named_row_by_row(settings, tmp_path):
    ingest_delivery(settings, _night(tmp_path, "2026-11-20", HUKOU))
    result = validate_feed(settings, "2026-11-20", "hukou")
    assert result.rejected is False
    found = {
        (r.record_key, None if pd.isna(r.row_no) else int(r.row_no), r.field, r.check) for r in _findings(settings).itertuples()
    }
    assert ("P001", 2, "person_no", "unique_key") in found
    assert ("P001", 4, "person_no", "unique_key") in found
    assert any(f[1] == 4 and f[2] == "village_code" for f in found)


def test_a_missing_optional_column_is_one_finding_not_one_per_row(settings, tmp_path):
    without_id = "\n".join(",".join(c for i, c in enumerate(line.split(",")) if i != 1) for line in HUKOU.splitlines())
    ingest_delivery(settings, _night(tmp_path, "2026-11-20", without_id + "\n"))
    validate_feed(settings, "2026-11-20", "hukou")
    findings = _findings(settings)
    id_findings = findings[findings["field"] == "id_number"]
    assert list(id_findings["check"]) == ["missing_column"]
    assert id_findings["row_no"].isna().all()


def test_a_feed_with_too_many_bad_rows_is_rejected_and_the_night_falls_back(settings, tmp_path):
    ingest_delivery(settings, _night(tmp_path, "2026-11-19", HUKOU))
    validate_feed(settings, "2026-11-19", "hukou")
    bad = HUKOU.replace(",正常,", ",活着,")  # every row has an unknown 人口状态
    ingest_delivery(settings, _night(tmp_path, "2026-11-20", bad))
    result = validate_feed(settings, "2026-11-20", "hukou")
    assert result.rejected is True
    engine = store.connect(settings)
    assert store.effective_date(engine, "hukou", dt.date(2026, 11, 20)) == dt.date(2026, 11, 19)
    assert len(store.load_snapshot(engine, "hukou", dt.date(2026, 11, 20))) == 12  # kept, with its findings
    report = finish_validation(settings, "2026-11-20")
    hukou = next(f for f in report.feeds if f["feed"] == "hukou")
    assert hukou["status"] == "rejected" and "沿用 2026-11-19 的数据" in hukou["message"]


def test_validating_twice_changes_nothing(settings, tmp_path):
    ingest_delivery(settings, _night(tmp_path, "2026-11-20", HUKOU))
    validate_feed(settings, "2026-11-20", "hukou")
    first = _findings(settings)
    validate_feed(settings, "2026-11-20", "hukou")
    pd.testing.assert_frame_equal(_findings(settings), first)


def test_the_night_writes_an_offline_report_naming_each_finding(settings, tmp_path):
    result = run_night(settings, _night(tmp_path, "2026-11-20", HUKOU))
    html = Path(result.report.html).read_text(encoding="utf-8")
    assert "公安·户籍人口" in html and "http" not in html.replace("http-equiv", "")
    summary = json.loads(Path(result.report.json).read_text(encoding="utf-8"))
    assert {"feed", "record_key", "field"} <= set(summary["findings"][0])
    assert {f["record_key"] for f in summary["findings"] if f["check"] == "unique_key"} == {"P001"}


def test_reporting_a_night_never_ingested_says_so_in_chinese(settings):
    import pytest

    from pipelines.errors import BiduiError

    with pytest.raises(BiduiError, match="还没有载入记录"):
        finish_validation(settings, "2026-11-20")
