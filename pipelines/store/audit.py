"""A hash chain over clue events: an event edited or deleted afterwards, even by someone with direct
database access who drops the append-only triggers, no longer fits the chain.

Every clue event is written by `append_events`, which stores with each event the clue's status and
verification fields right after it (`state`, so a clue row edited later disagrees with its history),
the previous event's hash (`prev_hash`) and its own: sha256(prev_hash + canonical JSON of the
event). The head of the chain (last event id, hash, count) lives in the one-row `clue_chain` table,
so events cut from the end show too. Appends are serialised on that row: the head is read only
after it has been written to in the caller's transaction (a row lock on PostgreSQL, the database
write lock on SQLite), so two writers cannot fork the chain.

Whoever can rewrite every event and the head can still forge a consistent chain; `bidui audit
verify` prints the head hash so that it can be noted outside the database and compared later.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Connection, func, insert, select, update

from pipelines.store.bulk import bulk_insert
from pipelines.store.tables import clue_chain, clue_events, clues

__all__ = [
    "CHAIN_ID",
    "EVENT_FIELDS",
    "GENESIS",
    "STATE_COLUMNS",
    "BrokenLink",
    "ChainCheck",
    "append_events",
    "event_hash",
    "iter_chained_events",
    "state_json",
    "verify_chain",
]

CHAIN_ID = 1
GENESIS = "0" * 64  # the prev_hash of the first event
# What an event is, as hashed: every column but its id and the hashes themselves.
EVENT_FIELDS = (
    "clue_id",
    "action",
    "from_status",
    "to_status",
    "at",
    "user_name",
    "role",
    "note",
    "delivery_date",
    "source",
    "state",
)
# The clue columns an event's state records: what moves change and an auditor must trust.
STATE_COLUMNS = (
    "status",
    "verdict",
    "dismiss_reason",
    "rectification",
    "rectified_on",
    "verified_by",
    "verified_on",
    "signed_by",
    "signed_on",
)
_CHUNK = 500


def _plain(value):
    """A value as the same text whether it was just built in Python or read back from either database."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def state_json(row: dict | None) -> str | None:
    """A clue's state (STATE_COLUMNS of its row) as canonical JSON; None for a clue that is gone."""
    if row is None:
        return None
    return json.dumps({c: _plain(row.get(c)) for c in STATE_COLUMNS}, ensure_ascii=False, sort_keys=True)


def event_hash(prev_hash: str, event: dict) -> str:
    """sha256 of the previous hash and the event's fields (EVENT_FIELDS) as canonical JSON."""
    body = json.dumps({f: _plain(event.get(f)) for f in EVENT_FIELDS}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def _lock_head(conn: Connection) -> tuple[int, str, int]:
    """(last event id, its hash, events) of the chain, locked until the caller's transaction ends.

    The no-op update comes first: it takes PostgreSQL's row lock and SQLite's write lock, so the
    read after it sees every append committed before, and none can come in between."""
    locked = conn.execute(update(clue_chain).where(clue_chain.c.chain_id == CHAIN_ID).values(events=clue_chain.c.events))
    if locked.rowcount == 0:  # a store whose chain has not started (the head row is made on the first append)
        conn.execute(insert(clue_chain).values(chain_id=CHAIN_ID, head_event_id=0, head_hash=GENESIS, events=0))
    head = conn.execute(select(clue_chain.c.head_event_id, clue_chain.c.head_hash, clue_chain.c.events)).one()
    return int(head[0]), head[1], int(head[2])


def _states(conn: Connection, clue_ids: list[str]) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for start in range(0, len(clue_ids), _CHUNK):
        statement = select(clues.c.clue_id, *(clues.c[c] for c in STATE_COLUMNS)).where(
            clues.c.clue_id.in_(clue_ids[start : start + _CHUNK])
        )
        for row in conn.execute(statement).mappings():
            found[row["clue_id"]] = state_json(dict(row))
    return found


def _as_datetime(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    return pd.Timestamp(value).to_pydatetime().replace(tzinfo=None)


def _as_date(value) -> dt.date | None:
    if value is None or isinstance(value, dt.datetime):
        return value.date() if value is not None else None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def append_events(conn: Connection, events: list[dict]) -> None:
    """Append clue events (rows of pipelines.clues.life.make_event) to the chain, inside the caller's
    transaction and after the clue rows they move have been written: each event records its clue's
    state then (only the last of several events of one clue in a batch does; the others' state is
    unknown), the previous hash and its own. One pass in Python, one bulk insert."""
    if not events:
        return
    _, prev, count = _lock_head(conn)
    last_of = {event["clue_id"]: index for index, event in enumerate(events)}
    states = _states(conn, sorted(last_of))
    rows = []
    for index, event in enumerate(events):
        row = {f: event.get(f) for f in EVENT_FIELDS}
        row["at"] = _as_datetime(row["at"])
        row["delivery_date"] = _as_date(row["delivery_date"])
        row["state"] = states.get(event["clue_id"]) if last_of[event["clue_id"]] == index else None
        row["prev_hash"] = prev
        row["chain_hash"] = prev = event_hash(prev, row)
        rows.append(row)
    columns = [*EVENT_FIELDS, "prev_hash", "chain_hash"]
    # Object columns keep the very values that were hashed (a frame would turn datetimes into Timestamps).
    body = pd.DataFrame({c: pd.Series([row[c] for row in rows], dtype=object) for c in columns})
    bulk_insert(conn, clue_events.name, columns, body)
    last_id = conn.execute(select(func.max(clue_events.c.event_id))).scalar()
    conn.execute(
        update(clue_chain)
        .where(clue_chain.c.chain_id == CHAIN_ID)
        .values(head_event_id=int(last_id or 0), head_hash=prev, events=count + len(rows))
    )


# --- verifying ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BrokenLink:
    """One place where the chain does not hold: the event (None for the head) and what is wrong, in Chinese."""

    event_id: int | None
    problem: str


@dataclass
class ChainCheck:
    """The chain walked end to end."""

    events: int = 0
    head_hash: str = GENESIS
    broken: list[BrokenLink] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.broken


def iter_chained_events(conn: Connection, batch: int = 20_000) -> Iterator[dict]:
    """Every clue event in chain order (event id), as stored, read in batches."""
    after = -1
    while True:
        statement = select(clue_events).where(clue_events.c.event_id > after).order_by(clue_events.c.event_id).limit(batch)
        rows = [dict(r) for r in conn.execute(statement).mappings()]
        if not rows:
            return
        yield from rows
        after = rows[-1]["event_id"]


def verify_chain(conn: Connection, events: Iterable[dict] | None = None) -> ChainCheck:
    """Walk the chain: each event's hash recomputed from its stored fields and previous hash, each
    previous hash against the event before it, and the last event against the chain head."""
    check = ChainCheck()
    previous_id, previous_hash = None, GENESIS
    for event in iter_chained_events(conn) if events is None else events:
        check.events += 1
        event_id = event["event_id"]
        if event["chain_hash"] is None:
            check.broken.append(BrokenLink(event_id, "没有哈希（未经 append_events 写入）"))
        elif event["prev_hash"] != previous_hash:
            where = "链的开头" if previous_id is None else f"事件 {previous_id}"
            check.broken.append(BrokenLink(event_id, f"与{where}不衔接：两者之间的事件被删除，或前一事件被改动"))
        elif event_hash(event["prev_hash"], event) != event["chain_hash"]:
            check.broken.append(BrokenLink(event_id, "内容与其哈希不符：该事件写入后被改动"))
        previous_id, previous_hash = event_id, event["chain_hash"] or previous_hash
    check.head_hash = previous_hash
    head = conn.execute(select(clue_chain.c.head_event_id, clue_chain.c.head_hash, clue_chain.c.events)).first()
    expected = (0, GENESIS, 0) if head is None else (int(head[0]), head[1], int(head[2]))
    if expected != (previous_id or 0, previous_hash, check.events):
        check.broken.append(
            BrokenLink(
                None,
                f"链头记录为 {expected[2]:,} 条事件、最后一条为事件 {expected[0]}，"
                f"实有 {check.events:,} 条、最后一条为事件 {previous_id or 0}：链尾的事件被删除或链头被改动",
            )
        )
    return check
