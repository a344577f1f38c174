"""Problem counts as a night leaves them (night_counts): the monitors' trends read these rows
instead of replaying events.

Written at the end of the clue stage, for every county, township and village holding a clue, per
rule and for all rules together ('*'). What each count means is in pipelines.store.tables.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import ColumnElement, Connection, Engine, case, delete, func, literal, select

from pipelines.clues.states import OPEN_STATES
from pipelines.store.bulk import bulk_insert, raw_frame
from pipelines.store.tables import clues, night_counts
from pipelines.store.transactions import write_transaction

__all__ = ["ALL_RULES", "COUNT_COLUMNS", "REGION_DIGITS", "build_night_counts", "replace_night_counts", "write_night_counts"]

ALL_RULES = "*"
COUNT_COLUMNS = ("found", "open", "closed", "cleared", "overdue", "reopened")
REGION_DIGITS = (6, 9, 12)  # county, township, village
# Not yet acted on (待下发) counts as open: somebody still has to do something about it.
_OPEN = ("new", *OPEN_STATES)
_CLOSED = ("closed", "filed")


def _grouped(conn, day: dt.date) -> pd.DataFrame:
    """Clues per village and rule, counted in the database (a million clues become a few
    thousand rows)."""
    is_open = clues.c.status.in_(_OPEN)

    def count(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.sum(case((condition, literal(1)), else_=literal(0)))

    statement = (
        select(
            clues.c.village_code,
            clues.c.rule,
            func.count().label("found"),
            count(is_open).label("open"),
            count(clues.c.status.in_(_CLOSED)).label("closed"),
            count(clues.c.status == "cleared_by_data").label("cleared"),
            count(clues.c.status.in_(OPEN_STATES) & (clues.c.deadline < day)).label("overdue"),
            count(clues.c.reopen_count > 0).label("reopened"),
        )
        .where(clues.c.village_code.is_not(None) & (func.length(clues.c.village_code) == 12))
        .group_by(clues.c.village_code, clues.c.rule)
    )
    return raw_frame(conn, statement, ["village_code", "rule", *COUNT_COLUMNS])


def build_night_counts(grouped: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """The night_counts rows of one night from per-village, per-rule counts: summed up to township
    and county, and over all rules."""
    columns = ["delivery_date", "region_code", "rule", *COUNT_COLUMNS]
    if grouped.empty:
        return pd.DataFrame(columns=columns)
    grouped = grouped.copy()
    grouped[list(COUNT_COLUMNS)] = grouped[list(COUNT_COLUMNS)].astype("int64")
    parts = []
    for digits in REGION_DIGITS:
        level = grouped.assign(region_code=grouped["village_code"].str[:digits])
        per_rule = level.groupby(["region_code", "rule"], as_index=False)[list(COUNT_COLUMNS)].sum()
        every_rule = level.groupby("region_code", as_index=False)[list(COUNT_COLUMNS)].sum().assign(rule=ALL_RULES)
        parts += [per_rule, every_rule]
    rows = pd.concat(parts, ignore_index=True).assign(delivery_date=day)
    return rows[columns].sort_values(["region_code", "rule"], ignore_index=True)


def write_night_counts(engine: Engine, day: dt.date) -> int:
    """Replace the night's counts with the clues as they stand now; returns the rows written."""
    with write_transaction(engine) as conn:
        return replace_night_counts(conn, day)


def replace_night_counts(conn: Connection, day: dt.date) -> int:
    """write_night_counts inside the caller's transaction (the clue changes they count, committed
    with them); returns the rows written."""
    rows = build_night_counts(_grouped(conn, day), day)
    conn.execute(delete(night_counts).where(night_counts.c.delivery_date == day))
    if len(rows):
        bulk_insert(conn, night_counts.name, list(rows.columns), rows.astype(object))
    return len(rows)
