"""The bulletin's ledger return counts (pipelines.store.bulletins.load_ledger_returns) on hand-made
ledger rows and clue events, on SQLite and PostgreSQL: issued clues counted once however many
ledgers carried them, returned only by a ledger event after the issue and before the month's end."""

from __future__ import annotations

import datetime as dt

from pipelines import store
from pipelines.store.tables import clue_events, ledger_rows

A, B, C = "522701", "522702", "522722"


def _row(county: str, issue_date: dt.date, clue: str, event_id: int) -> dict:
    return {
        "county_code": county,
        "issue_date": issue_date,
        "clue_id": clue,
        "status_issued": "issued",
        "event_id": event_id,
        "locked": "{}",
    }


def _event(event_id: int, clue: str, source: str, at: dt.datetime) -> dict:
    return {
        "event_id": event_id,
        "clue_id": clue,
        "action": "verify",
        "from_status": "issued",
        "to_status": "confirmed",
        "at": at,
        "user_name": "u",
        "role": "county",
        "source": source,
    }


def test_ledger_returns_count_each_clue_once_and_only_ledger_events_in_time(settings):
    engine = store.connect(settings)
    rows = [
        # A: c1 in two ledgers, returned after the second; c2 returned; c3 only a web move.
        _row(A, dt.date(2026, 11, 2), "c1", 10),
        _row(A, dt.date(2026, 11, 9), "c1", 20),
        _row(A, dt.date(2026, 11, 2), "c2", 10),
        _row(A, dt.date(2026, 11, 2), "c3", 10),
        # B: c4's ledger event is older than the issue, c5's comes after the month: none returned.
        _row(B, dt.date(2026, 11, 2), "c4", 30),
        _row(B, dt.date(2026, 11, 2), "c5", 10),
        # C: issued after the month's last day: not counted at all.
        _row(C, dt.date(2026, 12, 1), "c6", 10),
    ]
    events = [
        _event(25, "c1", "ledger", dt.datetime(2026, 11, 20, 10)),
        _event(11, "c2", "ledger", dt.datetime(2026, 11, 30, 23, 59)),
        _event(12, "c3", "web", dt.datetime(2026, 11, 20, 10)),
        _event(29, "c4", "ledger", dt.datetime(2026, 11, 20, 10)),
        _event(13, "c5", "ledger", dt.datetime(2026, 12, 1, 0, 1)),
        _event(14, "c6", "ledger", dt.datetime(2026, 12, 2, 10)),
    ]
    with store.write_transaction(engine) as conn:
        conn.execute(ledger_rows.insert(), rows)
        conn.execute(clue_events.insert(), events)

    assert store.load_ledger_returns(engine, dt.date(2026, 11, 30)) == {A: (3, 2), B: (2, 0)}
    assert store.load_ledger_returns(engine, dt.date(2026, 10, 31)) == {}
