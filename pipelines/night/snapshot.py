"""The night's last step: the problem counts the trends read (night_counts), as the clues stand
once the night's ledgers are issued."""

from __future__ import annotations

import datetime as dt

from pipelines import store
from pipelines.clues import write_night_counts
from pipelines.settings import Settings

__all__ = ["snapshot_night"]


def snapshot_night(settings: Settings, delivery_date: dt.date | str) -> dict[str, object]:
    """Write the night's night_counts from the clues as the night leaves them; returns the data date
    and the rows written. Re-running replaces the night's rows with the same ones.

    The clue stage writes them too (a rule released from the site re-runs only that stage and must
    refresh the trends); this is the write after the ledgers, the one the night publishes."""
    day = dt.date.fromisoformat(delivery_date) if isinstance(delivery_date, str) else delivery_date
    rows = write_night_counts(store.connect(settings), day)
    return {"delivery_date": day.isoformat(), "night_counts": rows}
