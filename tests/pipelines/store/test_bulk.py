"""Bulk loads on PostgreSQL leave the planner statistics of what they loaded.

Without them (autovacuum off, or not yet round), a join the same night makes over a freshly loaded
snapshot is planned for an empty table: the bulletin's count of registered persons per county,
members joined to households, ran 14 minutes on a 1,000,000-person night instead of 0.3 s.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import text

from pipelines import store
from pipelines.store import bulk
from pipelines.store.tables import feed_table

DAY = dt.date(2026, 11, 20)


def _rows(count: int) -> pd.DataFrame:
    return pd.DataFrame(
        {"delivery_date": DAY.isoformat(), "row_no": range(1, count + 1), "household_no": [f"H{i:05d}" for i in range(count)]}
    )


def _planner_rows(engine, table: str) -> float:
    with engine.connect() as conn:
        return conn.execute(
            text("select reltuples from pg_class where relname = :t and relnamespace = current_schema()::regnamespace"),
            {"t": table},
        ).scalar_one()


@pytest.mark.postgres
@pytest.mark.parametrize("settings", ["postgres"], indirect=True)  # SQLite plans without statistics
def test_a_large_load_is_analyzed_in_its_transaction_and_a_small_one_is_not(settings, monkeypatch):
    monkeypatch.setattr(bulk, "ANALYZE_ROWS", 3)
    engine = store.connect(settings)
    members, households = feed_table("poverty_members").name, feed_table("poverty_households").name
    with engine.begin() as conn:
        bulk.bulk_insert(conn, members, ["delivery_date", "row_no", "household_no"], _rows(2))
        bulk.bulk_insert(conn, households, ["delivery_date", "row_no", "household_no"], _rows(3))
    assert _planner_rows(engine, members) == -1  # never analyzed: below the threshold
    assert _planner_rows(engine, households) == 3
