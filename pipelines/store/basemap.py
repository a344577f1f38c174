"""Storage of the base map (底图): persons, households, links, linkage models and the review queue.

The base-map half of the storage module (pipelines.store.snapshots keeps deliveries, snapshots and findings);
stages read and write the base map only through these functions. Large frames move through
pipelines.store.bulk (executemany on SQLite, COPY on PostgreSQL), as snapshots do.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator

import numpy as np
import pandas as pd
from sqlalchemy import Engine, Table, and_, delete, func, or_, select, update

from pipelines.store.bulk import bulk_insert, raw_frame, upsert_newest
from pipelines.store.tables import (
    PERSON_ATTRIBUTES,
    households,
    linkage_models,
    links,
    persons,
    review_decisions,
    review_queue,
)
from pipelines.store.upsert import upsert

__all__ = [
    "HOUSEHOLD_COLUMNS",
    "LINK_COLUMNS",
    "PERSON_COLUMNS",
    "REVIEW_COLUMNS",
    "iter_links",
    "latest_link_date",
    "load_household_keys",
    "load_link",
    "load_linkage_model",
    "load_links",
    "load_next_person_number",
    "load_person",
    "load_person_names",
    "load_persons",
    "load_previous_links",
    "load_review_decisions",
    "load_review_queue",
    "write_base_map",
    "write_review_decision",
]

# A stored link and review-queue row (the linker's own frames: pipelines.link.linker).
LINK_COLUMNS = [
    "feed",
    "record_key",
    "person_id",
    "household_code",
    "method",
    "probability",
    "match_weight",
    "anchor_feed",
    "anchor_key",
    "levels",
]
REVIEW_COLUMNS = [
    "feed",
    "record_key",
    "candidate_feed",
    "candidate_key",
    "probability",
    "match_weight",
    "levels",
    "status",
]
PERSON_COLUMNS = [
    "person_id",
    "household_code",
    *(column for pair in PERSON_ATTRIBUTES.items() for column in pair),
    "first_seen",
    "last_seen",
]
HOUSEHOLD_COLUMNS = ["household_code", "household_key", "hukou_no", "village_code", "head_person_id", "first_seen", "last_seen"]
DECISION_COLUMNS = ["feed", "record_key", "candidate_feed", "candidate_key", "decision", "decided_by", "decided_at"]


# --- reading ----------------------------------------------------------------------------------


def _json_value(value):
    """numpy arrays and scalars in a fitted model, as JSON values."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in a linkage model")


def _frame(conn, statement, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(conn.execute(statement).fetchall(), columns=columns)


# --- the night's base map ---------------------------------------------------------------------


def write_base_map(
    engine: Engine,
    day: dt.date,
    link_rows: pd.DataFrame,
    person_rows: pd.DataFrame,
    household_rows: pd.DataFrame,
    review_rows: pd.DataFrame,
    model: dict,
) -> None:
    """Store one night's links, review queue and model, and upsert its persons and households, in one
    transaction; writing the same night again changes nothing."""
    iso = day.isoformat()
    with engine.begin() as conn:
        conn.execute(delete(links).where(links.c.delivery_date == day))
        bulk_insert(conn, "links", ["delivery_date", *LINK_COLUMNS], link_rows.assign(delivery_date=iso))
        conn.execute(delete(review_queue).where(review_queue.c.delivery_date == day))
        bulk_insert(conn, "review_queue", ["delivery_date", *REVIEW_COLUMNS], review_rows.assign(delivery_date=iso))
        stored = json.dumps(model, ensure_ascii=False, sort_keys=True, default=_json_value)
        upsert(conn, linkage_models, {"delivery_date": day, "model": stored})
        upsert_newest(conn, persons, "person_id", person_rows.assign(first_seen=iso, last_seen=iso))
        upsert_newest(conn, households, "household_code", household_rows.assign(first_seen=iso, last_seen=iso))


def latest_link_date(engine: Engine, on_or_before: dt.date | None = None) -> dt.date | None:
    """The newest night with links (on or before a date)."""
    statement = select(func.max(links.c.delivery_date))
    if on_or_before is not None:
        statement = statement.where(links.c.delivery_date <= on_or_before)
    with engine.connect() as conn:
        return conn.execute(statement).scalar()


def load_links(engine: Engine, day: dt.date) -> pd.DataFrame:
    """All links of one night, ordered by feed and record key."""
    with engine.connect() as conn:
        return _frame(
            conn,
            select(*(links.c[c] for c in LINK_COLUMNS))
            .where(links.c.delivery_date == day)
            .order_by(links.c.feed, links.c.record_key),
            LINK_COLUMNS,
        )


def iter_links(
    engine: Engine, day: dt.date, columns: list[str], chunk_rows: int = 200_000, region: str | None = None
) -> Iterator[pd.DataFrame]:
    """One night's links in chunks (for exports that must not hold millions of rows at once); with
    `region`, only those of persons whose village code starts with it."""
    statement = (
        select(*(links.c[c] for c in columns)).where(links.c.delivery_date == day).order_by(links.c.feed, links.c.record_key)
    )
    if region is not None:
        statement = statement.join(persons, persons.c.person_id == links.c.person_id).where(
            persons.c.village_code.startswith(region, autoescape=True)
        )
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True).execute(statement)
        while batch := result.fetchmany(chunk_rows):
            yield pd.DataFrame(batch, columns=columns)


def load_link(engine: Engine, feed: str, record_key: str, day: dt.date | None = None) -> dict | None:
    """One row's link on a night (default: the newest night that linked it), with its date."""
    key = (links.c.feed == feed) & (links.c.record_key == record_key)

    def on(conn, night: dt.date | None):
        return conn.execute(select(links).where(key & (links.c.delivery_date == night))).mappings().first()

    with engine.connect() as conn:
        row = on(conn, day if day is not None else conn.execute(select(func.max(links.c.delivery_date))).scalar())
        if row is None and day is None:
            # Not in the newest night: scan every night's links, only for rows gone since.
            row = on(conn, conn.execute(select(func.max(links.c.delivery_date)).where(key)).scalar())
    return dict(row) if row else None


def load_previous_links(engine: Engine, day: dt.date) -> pd.DataFrame:
    """feed, record_key, person_id of the newest night linked on or before `day` (the night itself
    when it is being linked again, so a re-run keeps its own IDs)."""
    previous = latest_link_date(engine, day)
    columns = ["feed", "record_key", "person_id"]
    if previous is None:
        return pd.DataFrame(columns=columns)
    with engine.connect() as conn:
        return raw_frame(conn, select(*(links.c[c] for c in columns)).where(links.c.delivery_date == previous), columns)


def load_next_person_number(engine: Engine) -> int:
    """One more than the largest person number ever issued."""
    with engine.connect() as conn:
        largest = conn.execute(select(func.max(persons.c.person_id))).scalar()
    return int(largest[1:]) + 1 if largest else 1


def load_household_keys(engine: Engine) -> pd.DataFrame:
    """household_key, household_code of every household code ever issued."""
    with engine.connect() as conn:
        return raw_frame(
            conn, select(households.c.household_key, households.c.household_code), ["household_key", "household_code"]
        )


def load_persons(engine: Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return _frame(conn, select(persons).order_by(persons.c.person_id), PERSON_COLUMNS)


def load_person(engine: Engine, person_id: str) -> dict | None:
    with engine.connect() as conn:
        row = conn.execute(select(persons).where(persons.c.person_id == person_id)).mappings().first()
    return dict(row) if row else None


def load_person_names(engine: Engine, person_ids: Iterable[str | None]) -> dict[str, tuple[str | None, str | None]]:
    """person_id → (name, id_number) of the given persons."""
    wanted = sorted({p for p in person_ids if p})
    people: dict[str, tuple[str | None, str | None]] = {}
    with engine.connect() as conn:
        for start in range(0, len(wanted), 2000):  # SQLite caps the number of bound parameters
            rows = conn.execute(
                select(persons.c.person_id, persons.c.name, persons.c.id_number).where(
                    persons.c.person_id.in_(wanted[start : start + 2000])
                )
            )
            people.update({pid: (name, id_number) for pid, name, id_number in rows})
    return people


def load_linkage_model(engine: Engine, day: dt.date) -> dict | None:
    with engine.connect() as conn:
        model = conn.execute(select(linkage_models.c.model).where(linkage_models.c.delivery_date == day)).scalar()
    return json.loads(model) if model else None


# --- review -----------------------------------------------------------------------------------


def load_review_queue(
    engine: Engine,
    day: dt.date | None = None,
    status: str | None = "open",
    limit: int | None = None,
    feed: str | None = None,
    record_key: str | None = None,
    offset: int = 0,
) -> pd.DataFrame:
    """A night's gray-zone pairs (default: the newest night), most probable first; `offset` pairs
    skipped (a page of the review queue)."""
    with engine.connect() as conn:
        if day is None:
            day = conn.execute(select(func.max(review_queue.c.delivery_date))).scalar()
        condition = review_queue.c.delivery_date == day
        if status is not None:
            condition &= review_queue.c.status == status
        if feed is not None and record_key is not None:
            condition &= or_(
                (review_queue.c.feed == feed) & (review_queue.c.record_key == record_key),
                (review_queue.c.candidate_feed == feed) & (review_queue.c.candidate_key == record_key),
            )
        statement = (
            select(*(review_queue.c[c] for c in REVIEW_COLUMNS))
            .where(condition)
            .order_by(
                review_queue.c.probability.desc(),
                review_queue.c.feed,
                review_queue.c.record_key,
                review_queue.c.candidate_feed,
                review_queue.c.candidate_key,
            )
            .limit(limit)
            .offset(offset or None)
        )
        frame = _frame(conn, statement, REVIEW_COLUMNS)
    return frame.assign(delivery_date=day)


def load_review_decisions(engine: Engine, feed: str | None = None, record_key: str | None = None) -> pd.DataFrame:
    """Every reviewer decision (feed, record_key, candidate_feed, candidate_key, decision, …), or
    those on pairs that include one row."""
    statement = select(*(review_decisions.c[c] for c in DECISION_COLUMNS)).order_by(
        review_decisions.c.feed,
        review_decisions.c.record_key,
        review_decisions.c.candidate_feed,
        review_decisions.c.candidate_key,
    )
    if feed is not None and record_key is not None:
        statement = statement.where(
            or_(
                (review_decisions.c.feed == feed) & (review_decisions.c.record_key == record_key),
                (review_decisions.c.candidate_feed == feed) & (review_decisions.c.candidate_key == record_key),
            )
        )
    with engine.connect() as conn:
        return _frame(conn, statement, DECISION_COLUMNS)


def _pair(table: Table, feed: str, record_key: str, candidate_feed: str, candidate_key: str):
    return and_(
        table.c.feed == feed,
        table.c.record_key == record_key,
        table.c.candidate_feed == candidate_feed,
        table.c.candidate_key == candidate_key,
    )


def write_review_decision(
    engine: Engine,
    feed: str,
    record_key: str,
    candidate_feed: str,
    candidate_key: str,
    decision: str,
    decided_by: str,
    decided_at: dt.datetime | None = None,
) -> None:
    """Record a reviewer's decision on a pair (either way round: one decision per pair) and mark the
    pair decided in the review queue."""
    decided_at = decided_at or dt.datetime.now().replace(microsecond=0)
    values = dict(decision=decision, decided_by=decided_by, decided_at=decided_at)
    pair = dict(feed=feed, record_key=record_key, candidate_feed=candidate_feed, candidate_key=candidate_key)
    backward = _pair(review_decisions, candidate_feed, candidate_key, feed, record_key)
    with engine.begin() as conn:
        # A decision stored the other way round is changed where it is; otherwise this way round.
        if not conn.execute(update(review_decisions).where(backward).values(**values)).rowcount:
            upsert(conn, review_decisions, {**pair, **values})
        for condition in (
            _pair(review_queue, feed, record_key, candidate_feed, candidate_key),
            _pair(review_queue, candidate_feed, candidate_key, feed, record_key),
        ):
            conn.execute(update(review_queue).where(condition).values(status="decided"))
