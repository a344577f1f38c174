"""Keyed writes through the dialects' `insert … on conflict`, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import select

from pipelines import store
from pipelines.store.bulk import upsert_newest
from pipelines.store.snapshots import FINDING_COLUMNS
from pipelines.store.tables import deliveries, feed_loads, households
from pipelines.store.upsert import dialect_insert, upsert

DAY = dt.date(2026, 11, 20)
AT = dt.datetime(2026, 11, 20, 22, 0)


@pytest.fixture
def engine(settings):
    return store.connect(settings)


def _rows(engine, table) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(table).order_by(*table.primary_key.columns)).mappings()]


def test_upsert_inserts_then_overwrites_only_the_columns_it_names(engine):
    with engine.begin() as conn:
        assert upsert(conn, feed_loads, {"delivery_date": DAY, "feed": "hukou", "status": "loaded", "checksum": "abc", "rows": 3})
    with engine.begin() as conn:
        assert upsert(conn, feed_loads, {"delivery_date": DAY, "feed": "hukou", "status": "rejected", "rows": None})
    [row] = _rows(engine, feed_loads)
    assert (row["status"], row["checksum"], row["rows"]) == ("rejected", "abc", None)


def test_upsert_with_nothing_to_update_keeps_the_stored_row(engine):
    first = {"delivery_date": DAY, "source_dir": "/drop/first", "ingested_at": AT}
    with engine.begin() as conn:
        assert upsert(conn, deliveries, first, update=())
        assert not upsert(conn, deliveries, {**first, "source_dir": "/drop/second"}, update=())
    assert _rows(engine, deliveries) == [first]


def test_upsert_updates_only_the_columns_asked_for(engine):
    row = {"delivery_date": DAY, "feed": "hukou", "status": "loaded", "message": "首次"}
    with engine.begin() as conn:
        upsert(conn, feed_loads, row)
        upsert(conn, feed_loads, {**row, "status": "rejected", "message": "第二次"}, update=["message"])
    [stored] = _rows(engine, feed_loads)
    assert (stored["status"], stored["message"]) == ("loaded", "第二次")


def test_the_upsert_is_the_connections_own_dialect(engine):
    with engine.connect() as conn:
        statement = dialect_insert(conn, deliveries)
    assert type(statement).__module__.startswith(f"sqlalchemy.dialects.{engine.dialect.name}")


def test_record_delivery_and_write_feed_load_twice_change_nothing(engine):
    for _ in range(2):
        store.record_delivery(engine, DAY, "/drop/2026-11-20")
        store.write_feed_load(engine, DAY, "hukou", status="loaded", rows=3, checksum="abc")
    assert [r["source_dir"] for r in _rows(engine, deliveries)] == ["/drop/2026-11-20"]
    assert [(r["feed"], r["status"], r["rows"], r["checksum"]) for r in _rows(engine, feed_loads)] == [
        ("hukou", "loaded", 3, "abc")
    ]


def _household(village: str, seen: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "household_code": ["H5227251022030001"],
            "household_key": ["hukou:HK1"],
            "hukou_no": ["HK1"],
            "village_code": [village],
            "head_person_id": ["P000000001"],
            "first_seen": [seen],
            "last_seen": [seen],
        }
    )


def test_upsert_newest_keeps_the_newest_values_and_the_widest_dates(engine):
    nights = [("522725102203", "2026-11-20"), ("522725102204", "2026-11-22"), ("522725102205", "2026-11-21")]
    for village, seen in [*nights, nights[1]]:
        with engine.begin() as conn:
            upsert_newest(conn, households, "household_code", _household(village, seen))
    [row] = _rows(engine, households)
    assert (row["village_code"], row["first_seen"], row["last_seen"]) == (
        "522725102204",
        dt.date(2026, 11, 20),
        dt.date(2026, 11, 22),
    )


def test_findings_are_stored_and_read_back_in_the_one_finding_shape(engine):
    found = pd.DataFrame(
        [
            ("hukou", "P1", 2, "id_number", "id_format", "error", "5227", "身份证号位数错误（应为 18 位）：5227"),
            ("hukou", None, None, "name", "missing_column", "error", None, "缺少必填列“姓名”"),
        ],
        columns=FINDING_COLUMNS,
    )
    store.write_findings(engine, DAY, "hukou", "validate", found)
    store.write_findings(engine, DAY, "hukou", "validate", found)  # a re-run replaces, never adds
    loaded = store.load_findings(engine, DAY, "hukou")
    assert list(loaded.columns) == [*FINDING_COLUMNS, "stage"]
    rows = loaded[FINDING_COLUMNS].astype(object).where(loaded.notna(), None).values.tolist()
    # Where a feed-level finding (no row) sorts is the database's own way with NULL.
    assert sorted(rows, key=lambda row: row[1] or "") == [
        ["hukou", None, None, "name", "missing_column", "error", None, "缺少必填列“姓名”"],
        ["hukou", "P1", 2, "id_number", "id_format", "error", "5227", "身份证号位数错误（应为 18 位）：5227"],
    ]
