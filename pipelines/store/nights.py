"""Nights as units: which delivery dates may open a night, and what undoing the newest night takes.

A night is opened by its ingest (`open_night`): a delivery dated after today, or before the newest
night already in the store, is refused before anything is written; a new night first keeps images
of the tables its later stages rewrite in place (persons, households, clues, region reference), so
`bidui night undo` can put them back exactly. Everything else a night writes is keyed on its date
and is simply deleted (`delete_night_rows`).
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
from sqlalchemy import Connection, Engine, Table, delete, func, insert, select

from pipelines.errors import BiduiError
from pipelines.store.bulk import bulk_insert, raw_frame
from pipelines.store.tables import (
    clue_events,
    clues,
    deliveries,
    feed_loads,
    feed_tables,
    findings,
    households,
    linkage_models,
    links,
    night_counts,
    night_images,
    night_undos,
    nights,
    persons,
    region_reference,
    review_queue,
    rule_releases,
    rule_runs,
)
from pipelines.store.transactions import lock_rows

__all__ = [
    "IMAGED_TABLES",
    "check_issue_date",
    "delete_night_rows",
    "latest_night",
    "load_moved_clues",
    "load_night",
    "load_night_image",
    "load_rows",
    "lock_all_clues",
    "night_was_delivered",
    "open_night",
    "replace_rows",
    "write_night_undo",
]

# How many of the newest nights keep their images (a night older than these cannot be undone).
NIGHTS_KEPT = 3

# Tables a night rewrites in place rather than by its own date: kept as images before the night.
IMAGED_TABLES: dict[str, Table] = {t.name: t for t in (persons, households, clues, region_reference)}


def latest_night(conn_or_engine: Engine | Connection) -> dt.date | None:
    """The newest night in the store (the newest delivery ingested), or None."""
    statement = select(func.max(deliveries.c.delivery_date))
    if isinstance(conn_or_engine, Engine):
        with conn_or_engine.connect() as conn:
            return _date(conn.execute(statement).scalar())
    return _date(conn_or_engine.execute(statement).scalar())


def lock_all_clues(conn: Connection) -> None:
    """Hold every clue row until the transaction ends (PostgreSQL; SQLite's write transaction already
    holds the whole store), so no person's move can slip in between an undo's reads and its writes."""
    conn.execute(lock_rows(conn, select(clues.c.clue_id), clues)).all()


def night_was_delivered(conn: Connection, day: dt.date) -> bool:
    """Whether a delivery of data date `day` was ever ingested (and not undone)."""
    return conn.execute(select(deliveries.c.delivery_date).where(deliveries.c.delivery_date == day).limit(1)).first() is not None


def _date(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def open_night(engine: Engine, day: dt.date, today: dt.date | None = None) -> None:
    """Refuse a delivery dated after today or before the newest night; for a new night, keep the
    images its undo needs. Running the newest night again is allowed and keeps its first images."""
    today = today or dt.date.today()
    if day > today:
        raise BiduiError(f"交付的数据日期 {day} 晚于今天 {today}，请检查交付目录名是否写错；未载入任何数据")
    with engine.begin() as conn:
        newest = latest_night(conn)
        if newest is not None and day < newest:
            raise BiduiError(
                f"交付的数据日期 {day} 早于已处理的最近一晚 {newest}，不能再载入；未载入任何数据。"
                f"若 {newest} 的交付有误，请先用 bidui night undo {newest} 撤销该晚"
            )
        if newest == day:
            return
        last_event = conn.execute(select(func.coalesce(func.max(clue_events.c.event_id), 0))).scalar()
        conn.execute(delete(night_images).where(night_images.c.delivery_date == day))
        conn.execute(delete(nights).where(nights.c.delivery_date == day))
        conn.execute(insert(nights).values(delivery_date=day, opened_at=dt.datetime.now(), last_event_id=int(last_event or 0)))
        for name, table in IMAGED_TABLES.items():
            _write_image(conn, day, name, table)
        kept = select(nights.c.delivery_date).order_by(nights.c.delivery_date.desc()).limit(NIGHTS_KEPT)
        oldest_kept = min(conn.execute(kept).scalars())
        conn.execute(delete(night_images).where(night_images.c.delivery_date < oldest_kept))
        conn.execute(delete(nights).where(nights.c.delivery_date < oldest_kept))


def _write_image(conn: Connection, day: dt.date, name: str, table: Table) -> None:
    columns = [c.name for c in table.columns]
    frame = raw_frame(conn, select(*table.c).order_by(*table.primary_key.columns), columns)
    if frame.empty:
        return
    rows = [json.dumps(dict(zip(columns, r)), ensure_ascii=False, default=str) for r in frame.itertuples(index=False)]
    body = pd.DataFrame({"delivery_date": day.isoformat(), "table_name": name, "row_no": range(len(rows)), "row": rows})
    bulk_insert(conn, night_images.name, list(body.columns), body)


def load_night(conn: Connection, day: dt.date) -> dict | None:
    """The night's row (opened_at, last_event_id), or None for a night opened before images were kept."""
    row = conn.execute(select(nights).where(nights.c.delivery_date == day)).mappings().first()
    return dict(row) if row else None


def load_night_image(conn: Connection, day: dt.date, name: str) -> pd.DataFrame:
    """The rows of table `name` as they were before night `day` (its columns, stored values)."""
    columns = [c.name for c in IMAGED_TABLES[name].columns]
    rows = conn.execute(
        select(night_images.c.row)
        .where((night_images.c.delivery_date == day) & (night_images.c.table_name == name))
        .order_by(night_images.c.row_no)
    ).scalars()
    return pd.DataFrame([json.loads(r) for r in rows], columns=columns)


def load_rows(conn: Connection, name: str) -> pd.DataFrame:
    """The rows of imaged table `name` now, valued as its images are (JSON round trip)."""
    table = IMAGED_TABLES[name]
    columns = [c.name for c in table.columns]
    frame = raw_frame(conn, select(*table.c).order_by(*table.primary_key.columns), columns)
    rows = [json.loads(json.dumps(dict(zip(columns, r)), default=str)) for r in frame.itertuples(index=False)]
    return pd.DataFrame(rows, columns=columns)


def load_moved_clues(conn: Connection, after_event_id: int) -> set[str]:
    """Clues that people moved after event `after_event_id`: not a nightly run, nor an undo (undoing
    the newer night puts clues back as the night being undone left them)."""
    by_people = (clue_events.c.event_id > after_event_id) & clue_events.c.source.not_in(["night", "undo"])
    statement = select(clue_events.c.clue_id).where(by_people)
    return set(conn.execute(statement.distinct()).scalars())


def replace_rows(conn: Connection, name: str, rows: pd.DataFrame, keys: list | None = None) -> None:
    """Replace the rows of an imaged table with `rows`: all of them, or those whose primary key is in
    `keys` (a one-column key)."""
    table = IMAGED_TABLES[name]
    if keys is None:
        conn.execute(delete(table))
    else:
        (key,) = table.primary_key.columns
        for start in range(0, len(keys), 500):
            conn.execute(delete(table).where(key.in_(keys[start : start + 500])))
    body = rows.reindex(columns=[c.name for c in table.columns])
    bulk_insert(conn, table.name, list(body.columns), body.astype(object).where(body.notna(), None))


def delete_night_rows(conn: Connection, day: dt.date) -> dict[str, int]:
    """Delete everything keyed on the night's date; rows deleted per table."""
    dated = [
        deliveries,
        feed_loads,
        findings,
        links,
        linkage_models,
        review_queue,
        rule_runs,
        night_counts,
        rule_releases,
        *feed_tables.values(),
    ]
    counts = {}
    for table in dated:
        done = conn.execute(delete(table).where(table.c.delivery_date == day)).rowcount
        if done:
            counts[table.name] = done
    conn.execute(delete(night_images).where(night_images.c.delivery_date == day))
    conn.execute(delete(nights).where(nights.c.delivery_date == day))
    return counts


def write_night_undo(conn: Connection, day: dt.date, user_name: str, role: str, reason: str, summary: dict) -> None:
    """Record who undid a night, when and why (before its rows are deleted: the delivery's folder is kept)."""
    source_dir = conn.execute(select(deliveries.c.source_dir).where(deliveries.c.delivery_date == day)).scalar()
    conn.execute(
        insert(night_undos).values(
            delivery_date=day,
            source_dir=source_dir,
            user_name=user_name,
            role=role,
            reason=reason,
            undone_at=dt.datetime.now().replace(microsecond=0),
            summary=json.dumps(summary, ensure_ascii=False, sort_keys=True),
        )
    )


def check_issue_date(engine: Engine, issue_date: dt.date, today: dt.date | None = None) -> None:
    """A ledger's issue date is today or a recent past date: not after today, not before the newest night."""
    today = today or dt.date.today()
    if issue_date > today:
        raise BiduiError(f"下发日期 {issue_date} 晚于今天 {today}，整改期限会据此推算，不能用将来的日期")
    newest = latest_night(engine)
    if newest is not None and issue_date < newest:
        raise BiduiError(f"下发日期 {issue_date} 早于已处理的最近一晚 {newest}，请用今天或 {newest} 之后的日期")
