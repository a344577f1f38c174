"""The one storage module: every stage reads and writes through these functions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, create_engine, delete, event, func, insert, select

from pipelines.catalog.feeds import FEEDS
from pipelines.settings import Settings
from pipelines.store.bulk import bulk_insert, raw_frame
from pipelines.store.tables import deliveries, feed_loads, feed_table, findings, region_reference
from pipelines.store.upsert import upsert

__all__ = [
    "FINDING_COLUMNS",
    "connect",
    "effective_date",
    "get_feed_load",
    "load_feed_loads",
    "load_findings",
    "load_region_reference",
    "load_snapshot",
    "load_snapshot_rows",
    "migrate",
    "record_delivery",
    "replace_region_reference",
    "write_feed_load",
    "write_findings",
    "write_snapshot",
]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# A finding, as validation makes it, the store keeps it (with its night and stage) and reports show it.
FINDING_COLUMNS = ["feed", "record_key", "row_no", "field", "check", "severity", "value", "message"]


@lru_cache(maxsize=4)
def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 120})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # WAL lets Airflow's parallel validate tasks read while one writes.
            cur = dbapi_conn.cursor()
            cur.execute("pragma journal_mode=wal")
            cur.execute("pragma synchronous=normal")
            cur.execute("pragma cache_size=-262144")  # 256 MiB: bulk loads keep their indexes in memory
            cur.close()

        return engine
    if url.startswith("postgresql+psycopg2"):
        # Batched executemany: a ledger import's thousands of conditional UPDATEs go in pages, not one
        # round trip each (the rows are locked FOR UPDATE first, so no per-row count is needed).
        return create_engine(url, pool_pre_ping=True, executemany_mode="values_plus_batch")
    return create_engine(url, pool_pre_ping=True)


def connect(settings: Settings, migrate_schema: bool = True) -> Engine:
    """The engine for the configured store, migrated to the newest schema (unless `migrate_schema`
    is False: `db-upgrade` signs its user in before it migrates)."""
    engine = _engine(settings.database_url)
    if migrate_schema:
        migrate(engine)
    return engine


def migrate(engine: Engine) -> None:
    """Bring the schema to Alembic head (a no-op when it already is)."""
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(config).get_current_head()
    with engine.connect() as conn:
        if MigrationContext.configure(conn).get_current_revision() == head:
            return
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


# --- deliveries and feed loads ---------------------------------------------------------------


def record_delivery(engine: Engine, delivery_date: dt.date, source_dir: str) -> None:
    """Note a night's delivery once; ingesting it again keeps the first record."""
    row = {"delivery_date": delivery_date, "source_dir": source_dir, "ingested_at": dt.datetime.now()}
    with engine.begin() as conn:
        upsert(conn, deliveries, row, update=())


def write_feed_load(engine: Engine, delivery_date: dt.date, feed: str, **values) -> None:
    """Upsert the (night, feed) load record."""
    with engine.begin() as conn:
        _upsert_feed_load(conn, delivery_date, feed, values)


def _upsert_feed_load(conn, delivery_date: dt.date, feed: str, values: dict) -> None:
    # A stored load keeps the columns this write does not name.
    upsert(conn, feed_loads, {"delivery_date": delivery_date, "feed": feed, **values})


def get_feed_load(engine: Engine, delivery_date: dt.date, feed: str) -> dict | None:
    with engine.connect() as conn:
        row = (
            conn.execute(select(feed_loads).where((feed_loads.c.delivery_date == delivery_date) & (feed_loads.c.feed == feed)))
            .mappings()
            .first()
        )
    return dict(row) if row else None


def load_feed_loads(engine: Engine, delivery_date: dt.date) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(select(feed_loads).where(feed_loads.c.delivery_date == delivery_date)).mappings().all()
    return [dict(r) for r in rows]


def effective_date(engine: Engine, feed: str, delivery_date: dt.date) -> dt.date | None:
    """The snapshot a night uses for a feed: its newest accepted delivery on or before that night."""
    with engine.connect() as conn:
        return conn.execute(
            select(func.max(feed_loads.c.delivery_date)).where(
                (feed_loads.c.feed == feed) & (feed_loads.c.status == "loaded") & (feed_loads.c.delivery_date <= delivery_date)
            )
        ).scalar()


# --- snapshots -------------------------------------------------------------------------------


def write_snapshot(engine: Engine, feed: str, delivery_date: dt.date, frame: pd.DataFrame, load: dict) -> None:
    """Replace the (night, feed) snapshot with `frame` and record its load, in one transaction.

    `frame` holds row_no, the feed's columns (str or None) and optionally `extra`.
    """
    table = feed_table(feed)
    columns = [c.name for c in table.columns if c.name != "delivery_date"]
    body = frame.reindex(columns=columns)
    body = body.astype(object).where(body.notna(), None)
    with engine.begin() as conn:
        conn.execute(delete(table).where(table.c.delivery_date == delivery_date))
        _bulk_insert(conn, table.name, ["delivery_date", *columns], delivery_date, body)
        _upsert_feed_load(conn, delivery_date, feed, load)


def _bulk_insert(conn, table_name: str, columns: list[str], delivery_date: dt.date, body: pd.DataFrame) -> None:
    framed = body.copy(deep=False)
    framed.insert(0, "delivery_date", delivery_date.isoformat())
    framed.columns = columns
    bulk_insert(conn, table_name, columns, framed)


def load_snapshot(engine: Engine, feed: str, delivery_date: dt.date, fields: list[str] | None = None) -> pd.DataFrame:
    """The stored rows of one (night, feed) snapshot in delivered order, values as str or None:
    every column, or row_no and `fields` only."""
    table = feed_table(feed)
    columns = [c.name for c in table.columns if c.name != "delivery_date"] if fields is None else ["row_no", *fields]
    with engine.connect() as conn:
        frame = raw_frame(
            conn,
            select(*(table.c[c] for c in columns)).where(table.c.delivery_date == delivery_date).order_by(table.c.row_no),
            columns,
        )
    return frame.astype(object).where(frame.notna(), None)


def load_snapshot_rows(engine: Engine, feed: str, delivery_date: dt.date, keys: Iterable[str]) -> dict[str, dict]:
    """Record key → the row (the feed's columns, values as str or None) of one (night, feed)
    snapshot, for the given keys only (the first delivered row of a repeated key)."""
    table = feed_table(feed)
    key = table.c[FEEDS[feed].key]
    columns = [c for c in table.columns if c.name not in ("delivery_date", "row_no", "extra")]
    wanted = sorted({k for k in keys if k})
    found: dict[str, dict] = {}
    with engine.connect() as conn:
        for start in range(0, len(wanted), 500):
            statement = (
                select(*columns)
                .where((table.c.delivery_date == delivery_date) & key.in_(wanted[start : start + 500]))
                .order_by(table.c.row_no)
            )
            for row in conn.execute(statement).mappings():
                found.setdefault(row[key.name], dict(row))
    return found


# --- findings --------------------------------------------------------------------------------

# The feed of a stored finding is the one its (night, feed, stage) was written for.
_STORED_FINDING_COLUMNS = [c for c in FINDING_COLUMNS if c != "feed"]


def write_findings(engine: Engine, delivery_date: dt.date, feed: str, stage: str, rows: pd.DataFrame) -> None:
    """Replace the findings (FINDING_COLUMNS; their own feed column is ignored) of one (night, feed,
    stage): re-running a stage changes nothing."""
    body = rows.reindex(columns=_STORED_FINDING_COLUMNS)
    body = body.astype(object).where(body.notna(), None)
    key = (findings.c.delivery_date == delivery_date) & (findings.c.feed == feed) & (findings.c.stage == stage)
    with engine.begin() as conn:
        conn.execute(delete(findings).where(key))
        if not body.empty:
            records = [
                {"delivery_date": delivery_date, "feed": feed, "stage": stage, **dict(zip(_STORED_FINDING_COLUMNS, r))}
                for r in body.itertuples(index=False, name=None)
            ]
            for record in records:
                if record["row_no"] is not None:
                    record["row_no"] = int(record["row_no"])
            conn.execute(insert(findings), records)


def load_findings(engine: Engine, delivery_date: dt.date, feed: str | None = None) -> pd.DataFrame:
    """The findings of a night (of one feed), FINDING_COLUMNS and the stage that found them."""
    condition = findings.c.delivery_date == delivery_date
    if feed is not None:
        condition &= findings.c.feed == feed
    with engine.connect() as conn:
        result = conn.execute(
            select(*(findings.c[c] for c in FINDING_COLUMNS), findings.c.stage)
            .where(condition)
            .order_by(findings.c.feed, findings.c.row_no, findings.c.id)
        )
        frame = pd.DataFrame(result.fetchall(), columns=[*FINDING_COLUMNS, "stage"])
    frame["row_no"] = frame["row_no"].astype("Int64")  # feed-level findings have no row
    return frame


# --- region reference ------------------------------------------------------------------------

REGION_COLUMNS = ["code", "name", "level", "is_poor_village", "poor_village_exit_year", "km_to_county_seat"]


def replace_region_reference(engine: Engine, regions: pd.DataFrame, source: str) -> None:
    body = regions.reindex(columns=REGION_COLUMNS).copy()
    body["km_to_county_seat"] = pd.to_numeric(body["km_to_county_seat"], errors="coerce")
    body = body.astype(object).where(body.notna(), None)
    records = [dict(zip(REGION_COLUMNS, r), source=source) for r in body.itertuples(index=False, name=None)]
    with engine.begin() as conn:
        conn.execute(delete(region_reference))
        if records:
            conn.execute(insert(region_reference), records)


def load_region_reference(engine: Engine) -> pd.DataFrame:
    """The region reference, one row per region (REGION_COLUMNS and source), ordered by code; the
    one read of it: callers take the codes, names or levels they need from this frame."""
    with engine.connect() as conn:
        result = conn.execute(select(region_reference).order_by(region_reference.c.code))
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))
