"""What each ledger carried, row by row, as it was issued (table ledger_rows).

A returned ledger comes back 15–30 days later while the data changes nightly, so its locked
columns are checked against what the workbook was given, not against tonight's values; and a row
applies only while its clue has not gone back (sent back or re-opened) since that ledger was issued.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, insert, select

from pipelines.ledgers.workbook import LOCKED_COLUMNS
from pipelines.store.tables import clue_events, ledger_rows

if TYPE_CHECKING:
    from pipelines.ledgers.reading import IssueMark

__all__ = ["ISSUED_COLUMNS", "IssuedRow", "load_issued_rows", "load_went_back", "write_issued_rows"]

# The locked columns a returned row must still hold (线索编号 is the row's key).
ISSUED_COLUMNS = tuple(c for c in LOCKED_COLUMNS if c != "线索编号")
# Moves that send a clue back to be verified afresh: a ledger issued before one of them is void for that clue.
_BACKWARD = ("send_back", "reopen")


@dataclass(frozen=True)
class IssuedRow:
    """A clue as one ledger carried it."""

    county_code: str
    issue_date: dt.date
    status_issued: str
    event_id: int
    locked: dict[str, str]


def _plain(value) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def write_issued_rows(conn, county: str, issue_date: dt.date, rows: list[dict]) -> None:
    """Record a ledger's rows (clue_id, status and the locked values as written to the workbook),
    replacing an earlier issue of the same (county, date), inside the issuing transaction."""
    ids = [row["线索编号"] for row in rows]
    last_events: dict[str, int] = {}
    for start in range(0, len(ids), 2000):  # SQLite caps the number of bound parameters
        chunk = ids[start : start + 2000]
        statement = (
            select(clue_events.c.clue_id, func.max(clue_events.c.event_id))
            .where(clue_events.c.clue_id.in_(chunk))
            .group_by(clue_events.c.clue_id)
        )
        last_events.update(dict(conn.execute(statement).all()))
    conn.execute(delete(ledger_rows).where((ledger_rows.c.county_code == county) & (ledger_rows.c.issue_date == issue_date)))
    if rows:
        conn.execute(
            insert(ledger_rows),
            [
                {
                    "county_code": county,
                    "issue_date": issue_date,
                    "clue_id": row["线索编号"],
                    "status_issued": row["_status"],
                    "event_id": last_events.get(row["线索编号"], 0),
                    "locked": json.dumps({c: _plain(row[c]) for c in ISSUED_COLUMNS}, ensure_ascii=False, sort_keys=True),
                }
                for row in rows
            ],
        )


def load_issued_rows(conn, clue_ids: Iterable[str], ledger: tuple[str, dt.date] | None = None) -> dict[str, IssuedRow]:
    """clue_id → the row of `ledger` (county, issue date) that carried it, or without `ledger` the
    newest ledger row that did (clues no such ledger carried are left out)."""
    wanted = sorted(set(clue_ids))
    found: dict[str, IssuedRow] = {}
    for start in range(0, len(wanted), 2000):
        statement = (
            select(ledger_rows)
            .where(ledger_rows.c.clue_id.in_(wanted[start : start + 2000]))
            .order_by(ledger_rows.c.clue_id, ledger_rows.c.issue_date)
        )
        if ledger is not None:
            statement = statement.where((ledger_rows.c.county_code == ledger[0]) & (ledger_rows.c.issue_date == ledger[1]))
        for row in conn.execute(statement).mappings():
            found[row["clue_id"]] = IssuedRow(
                row["county_code"], row["issue_date"], row["status_issued"], row["event_id"], json.loads(row["locked"])
            )
    return found


def load_went_back(conn, issued: dict[str, IssuedRow], mark: IssueMark | None = None) -> dict[str, dict]:
    """clue_id → the latest send-back or re-open event after its ledger was issued. For a clue whose
    row is of the ledger the returned file's `mark` names, after the earlier of the mark's event and
    the row's: the mark tells two ledgers of one day apart, but it is read from the file, where
    anyone can edit it, so it may narrow the window and never widen it."""
    wanted = sorted(issued)
    bound = {clue_id: row.event_id for clue_id, row in issued.items()}
    if mark is not None:
        for clue_id, row in issued.items():
            if (row.county_code, row.issue_date) == (mark.county_code, mark.issue_date):
                bound[clue_id] = min(row.event_id, mark.event_id)
    went: dict[str, dict] = {}
    for start in range(0, len(wanted), 2000):
        statement = (
            select(clue_events.c.clue_id, clue_events.c.event_id, clue_events.c.action, clue_events.c.at, clue_events.c.note)
            .where(clue_events.c.clue_id.in_(wanted[start : start + 2000]) & clue_events.c.action.in_(_BACKWARD))
            .order_by(clue_events.c.event_id)
        )
        for row in conn.execute(statement).mappings():
            if row["event_id"] > bound[row["clue_id"]]:
                went[row["clue_id"]] = dict(row)
    return went
