"""Ingestion on SQLite and PostgreSQL: snapshots, idempotence, fallback, and bad files that never stop a night."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa

from pipelines import store as storage
from pipelines.errors import BiduiError
from pipelines.ingest.delivery import ingest_delivery

REGIONS = (
    "区划代码,名称,级别,是否贫困村,贫困村出列年度,距县城公里数\n"
    "522725000000,瓮安县,county,否,,0\n522725102000,某镇,township,否,,12\n522725102203,某村,village,是,2019,15\n"
)
HUKOU = (
    "人员编号,公民身份号码,姓名,性别,出生日期,人口状态,户籍地区划代码\n"
    "P001,522725199001011234,陈明,男,1990/1/1,正常,522725102203\n"
    "P002,,王 芳,女,1985年3月5日, 死亡 ,522725102203\n"
)


def _delivery(root, day: str, files: dict[str, bytes]):
    folder = root / "drop" / day
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


@pytest.fixture
def store(settings, tmp_path):
    seed = tmp_path / "regions.csv"
    seed.write_text(REGIONS, encoding="utf-8")
    return settings.__class__(**{**settings.__dict__, "regions_seed": seed})


def _by_feed(summary):
    return {f.feed: f for f in summary.feeds}


def _dump(settings) -> dict[str, list]:
    engine = storage.connect(settings)
    tables = ["feed_loads", "findings", "feed_hukou", "region_reference", "deliveries"]
    with engine.connect() as conn:
        return {t: sorted(map(repr, conn.execute(sa.text(f"select * from {t}")).all())) for t in tables}


def test_a_delivery_becomes_dated_snapshots(store, tmp_path):
    folder = _delivery(tmp_path, "2026-11-20", {"hukou.csv": HUKOU.encode("gb18030"), "notes.txt": b"x", "_READY": b""})
    summary = ingest_delivery(store, folder)
    feeds = _by_feed(summary)
    assert summary.delivery_date == "2026-11-20"
    assert feeds["hukou"].status == "loaded" and feeds["hukou"].encoding == "GB18030"
    assert feeds["hukou"].rows == 2
    assert feeds["medical_insurance"].status == "missing"
    assert feeds["vehicles"].status == "absent_optional"
    assert summary.notes == ["未识别的文件“notes.txt”，已忽略"]
    assert summary.feeds_to_validate == ["hukou"]
    snapshot = storage.load_snapshot(storage.connect(store), "hukou", dt.date(2026, 11, 20))
    assert snapshot[["row_no", "person_no", "name", "birth_date", "state"]].to_dict("records") == [
        {"row_no": 2, "person_no": "P001", "name": "陈明", "birth_date": "1990-01-01", "state": "正常"},
        {"row_no": 3, "person_no": "P002", "name": "王 芳", "birth_date": "1985-03-05", "state": "死亡"},
    ]
    assert len(storage.load_region_reference(storage.connect(store))) == 3


def test_ingesting_the_same_delivery_twice_changes_nothing(store, tmp_path):
    folder = _delivery(tmp_path, "2026-11-20", {"hukou.csv": HUKOU.encode(), "regions.csv": REGIONS.encode()})
    ingest_delivery(store, folder)
    before = _dump(store)
    again = ingest_delivery(store, folder)
    assert _by_feed(again)["hukou"].status == "unchanged"
    assert _dump(store) == before


def test_missing_and_rejected_feeds_fall_back_and_nothing_stored_is_lost(store, tmp_path):
    ingest_delivery(store, _delivery(tmp_path, "2026-11-19", {"hukou.csv": HUKOU.encode()}))
    night = _delivery(tmp_path, "2026-11-20", {"hukou.csv": "姓名,性别\n陈明,男\n".encode()})
    feeds = _by_feed(ingest_delivery(store, night))
    assert feeds["hukou"].status == "rejected"
    assert "缺少关键列“人员编号”" in feeds["hukou"].message
    assert feeds["hukou"].effective_date == "2026-11-19"
    engine = storage.connect(store)
    assert len(storage.load_snapshot(engine, "hukou", dt.date(2026, 11, 19))) == 2
    findings = storage.load_findings(engine, dt.date(2026, 11, 20), "hukou")
    assert list(findings["check"]) == ["file_rejected"]


@pytest.mark.parametrize(
    "name, data, status, check",
    [
        ("hukou.csv", (HUKOU + 'P003,"5227').encode(), "loaded", "truncated"),
        ("hukou.csv", HUKOU.split("\n", 1)[0].encode() + b"\n" + HUKOU.split("\n", 1)[1].encode("gbk"), "loaded", "encoding"),
        ("hukou.csv", HUKOU.split("\n", 1)[0].encode() + b"\n", "rejected", "file_rejected"),
        ("hukou.csv", b"\x00\x01\x02binary\xff" * 50, "rejected", "file_rejected"),
    ],
    ids=["truncated", "gbk-body-utf8-header", "header-only", "binary"],
)
def test_bad_files_give_a_finding_and_the_night_goes_on(store, tmp_path, name, data, status, check):
    folder = _delivery(tmp_path, "2026-11-20", {name: data, "regions.csv": REGIONS.encode()})
    feeds = _by_feed(ingest_delivery(store, folder))
    assert feeds["hukou"].status == status
    assert feeds["regions"].status == "loaded"
    findings = storage.load_findings(storage.connect(store), dt.date(2026, 11, 20), "hukou")
    assert check in set(findings["check"])


def test_a_reader_failing_unexpectedly_rejects_that_file_in_chinese_and_the_night_goes_on(store, tmp_path, monkeypatch):
    from pipelines.ingest import delivery

    real = delivery.read_feed_file

    def fails_on_hukou(path, spec, max_bytes):
        if spec.name == "hukou":
            raise MemoryError("could not allocate")
        return real(path, spec, max_bytes)

    monkeypatch.setattr(delivery, "read_feed_file", fails_on_hukou)
    folder = _delivery(tmp_path, "2026-11-20", {"hukou.csv": HUKOU.encode(), "regions.csv": REGIONS.encode()})
    feeds = _by_feed(ingest_delivery(store, folder))
    assert (feeds["hukou"].status, feeds["regions"].status) == ("rejected", "loaded")
    # The exception's own (English) text goes to the log only: staff read this message.
    assert feeds["hukou"].message == "文件读取时发生意外错误（已记入日志，请把该文件交数据管理员检查）"


def test_duplicated_keys_and_odd_region_codes_are_stored_for_validation_to_judge(store, tmp_path):
    rows = HUKOU + "P001,,李四,男,,正常,52272510220\n"
    folder = _delivery(tmp_path, "2026-11-20", {"hukou.csv": rows.encode()})
    ingest_delivery(store, folder)
    snapshot = storage.load_snapshot(storage.connect(store), "hukou", dt.date(2026, 11, 20))
    assert list(snapshot["person_no"]) == ["P001", "P002", "P001"]
    assert list(snapshot["village_code"]) == ["522725102203", "522725102203", "52272510220"]


def test_a_folder_not_named_by_date_is_refused_in_chinese(store, tmp_path):
    folder = tmp_path / "latest"
    folder.mkdir()
    with pytest.raises(BiduiError, match="不是数据日期"):
        ingest_delivery(store, folder)


def test_a_rejected_redelivery_keeps_the_good_file_of_the_same_night(store, tmp_path):
    folder = _delivery(tmp_path, "2026-11-20", {"hukou.csv": HUKOU.encode()})
    ingest_delivery(store, folder)
    (folder / "hukou.csv").write_bytes(b"")
    feeds = _by_feed(ingest_delivery(store, folder))
    assert feeds["hukou"].status == "rejected"
    assert feeds["hukou"].effective_date == "2026-11-20"
    assert len(storage.load_snapshot(storage.connect(store), "hukou", dt.date(2026, 11, 20))) == 2


def test_snapshot_frame_round_trips_none_and_text(store):
    engine = storage.connect(store)
    frame = pd.DataFrame({"row_no": [2, 3], "person_no": ["A", "B"], "name": ["陈明", None], "extra": [None, '{"备注": "x"}']})
    storage.write_snapshot(engine, "hukou", dt.date(2026, 1, 1), frame, load={"status": "loaded", "rows": 2})
    back = storage.load_snapshot(engine, "hukou", dt.date(2026, 1, 1))
    assert back[["row_no", "person_no", "name", "extra"]].to_dict("records") == frame.to_dict("records")


def test_a_far_away_xlsx_cell_and_an_open_quote_do_not_stop_the_night(store, tmp_path):
    import xlsxwriter

    folder = _delivery(
        tmp_path,
        "2026-11-20",
        {
            "medical_insurance.csv": (
                "个人编号,姓名,身份证号,参保地区划代码,参保年度,参保状态,大病保险\n"
                'Y1,"张三,,522725102203,2026,正常参保,是\n'
                "Y2,李四,,522725102203,2026,正常参保,是\n"
            ).encode(),
            "regions.csv": REGIONS.encode(),
        },
    )
    book = xlsxwriter.Workbook(folder / "hukou.xlsx")  # aborted the process (rc 134) before the bounds
    sheet = book.add_worksheet()
    for row, cells in enumerate(HUKOU.splitlines()):
        sheet.write_row(row, 0, cells.split(","))
    sheet.write("A1048576", "x")
    sheet.write("XFD3", "y")
    book.close()
    feeds = _by_feed(ingest_delivery(store, folder))
    assert (feeds["hukou"].status, feeds["hukou"].rows) == ("loaded", 2)
    assert (feeds["medical_insurance"].status, feeds["medical_insurance"].rows) == ("loaded", 2)
    engine = storage.connect(store)
    day = dt.date(2026, 11, 20)
    hukou = storage.load_findings(engine, day, "hukou")
    assert sorted(hukou.loc[hukou["check"] == "far_cells", "message"]) == [
        "工作表在 A1048576 处有远离数据区的单元格，已忽略",
        "工作表在 XFD3 处有远离数据区的单元格，已忽略",
    ]
    medical = storage.load_findings(engine, day, "medical_insurance")
    broken = medical[medical["check"] == "broken_quote"]
    assert broken[["record_key", "row_no", "severity"]].values.tolist() == [["Y1", 2, "error"]]
