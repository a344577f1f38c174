"""Reads and writes of the monthly bulletin (月通报): the county figures a month is ranked on, all
counted in the database (night_counts, the registry snapshots, ledger rows and their returns), and
the bulletins made with each county's rank.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, and_, delete, exists, func, insert, select

from pipelines.store.snapshots import effective_date
from pipelines.store.tables import (
    bulletin_ranks,
    bulletins,
    clue_events,
    feed_table,
    ledger_rows,
    night_counts,
)
from pipelines.store.transactions import write_transaction

__all__ = [
    "COUNTY_COUNT_COLUMNS",
    "RANK_COLUMNS",
    "list_bulletins",
    "load_bulletin",
    "load_bulletin_ranks",
    "load_county_counts",
    "load_ledger_returns",
    "load_registered_persons",
    "write_bulletin",
]

COUNTY_COUNT_COLUMNS = ("found", "open", "closed", "overdue", "reopened")
RANK_COLUMNS = (
    "county_code",
    "registered",
    *COUNTY_COUNT_COLUMNS,
    "issued",
    "returned",
    "score",
    "rank",
    "bottom",
    "consecutive",
)


def load_county_counts(engine: Engine, first: dt.date, last: dt.date) -> tuple[dt.date | None, dict[str, dict[str, int]]]:
    """The newest night between `first` and `last` with county counts, and each county's counts
    (all rules together) as that night left them; (None, {}) when the month had no night."""
    is_county = (func.length(night_counts.c.region_code) == 6) & (night_counts.c.rule == "*")
    with engine.connect() as conn:
        night = conn.execute(
            select(func.max(night_counts.c.delivery_date)).where(is_county & night_counts.c.delivery_date.between(first, last))
        ).scalar()
        if night is None:
            return None, {}
        rows = conn.execute(
            select(night_counts.c.region_code, *(night_counts.c[c] for c in COUNTY_COUNT_COLUMNS)).where(
                is_county & (night_counts.c.delivery_date == night)
            )
        ).all()
    return night, {row[0]: dict(zip(COUNTY_COUNT_COLUMNS, (int(v) for v in row[1:]), strict=True)) for row in rows}


def load_registered_persons(engine: Engine, as_of: dt.date) -> dict[str, int]:
    """Persons of the 建档立卡 registry per county on `as_of`: the rows of the poverty_members
    snapshot in effect that day, placed in a county by their household's village code in the
    poverty_households snapshot in effect that day. {} when either feed was never loaded."""
    members_day = effective_date(engine, "poverty_members", as_of)
    households_day = effective_date(engine, "poverty_households", as_of)
    if members_day is None or households_day is None:
        return {}
    members, households = feed_table("poverty_members"), feed_table("poverty_households")
    county = func.substr(households.c.village_code, 1, 6)
    statement = (
        select(county, func.count())
        .select_from(
            members.join(
                households,
                and_(
                    households.c.delivery_date == households_day,
                    households.c.household_no == members.c.household_no,
                ),
            )
        )
        .where((members.c.delivery_date == members_day) & (func.length(households.c.village_code) == 12))
        .group_by(county)
    )
    with engine.connect() as conn:
        return {code: int(count) for code, count in conn.execute(statement)}


def load_ledger_returns(engine: Engine, last: dt.date) -> dict[str, tuple[int, int]]:
    """Per county, (clues issued in ledgers up to `last`, those of them whose ledger row came back:
    a clue event from an imported ledger after the issue and before the end of `last`)."""
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time())
    came_back = exists().where(
        (clue_events.c.clue_id == ledger_rows.c.clue_id)
        & (clue_events.c.source == "ledger")
        & (clue_events.c.event_id > ledger_rows.c.event_id)
        & (clue_events.c.at < end)
    )
    issued = ledger_rows.c.issue_date <= last
    per_county = (ledger_rows.c.county_code, func.count(func.distinct(ledger_rows.c.clue_id)))
    # Two counts, not one with the EXISTS in a CASE: as a WHERE it can be a semi-join over the
    # ledger events, where a CASE probes the events once per ledger row (3x slower at 1M clues).
    with engine.connect() as conn:
        issued_counts: dict[str, int] = dict(
            conn.execute(select(*per_county).where(issued).group_by(ledger_rows.c.county_code)).tuples().all()
        )
        returned: dict[str, int] = dict(
            conn.execute(select(*per_county).where(issued & came_back).group_by(ledger_rows.c.county_code)).tuples().all()
        )
    return {code: (int(count), int(returned.get(code, 0))) for code, count in issued_counts.items()}


def write_bulletin(engine: Engine, record: dict[str, Any], ranks: Sequence[dict[str, Any]]) -> None:
    """Store a month's bulletin and its county ranks, replacing any made before for that month."""
    month = record["month"]
    row = {
        **{k: record[k] for k in ("month", "last_night", "made_at", "made_by", "out_dir")},
        "weights": json.dumps(record["weights"], ensure_ascii=False, sort_keys=True),
        "files": json.dumps(list(record["files"]), ensure_ascii=False),
    }
    with write_transaction(engine) as conn:
        conn.execute(delete(bulletin_ranks).where(bulletin_ranks.c.month == month))
        conn.execute(delete(bulletins).where(bulletins.c.month == month))
        conn.execute(insert(bulletins), [row])
        if ranks:
            conn.execute(insert(bulletin_ranks), [{"month": month, **{c: r[c] for c in RANK_COLUMNS}} for r in ranks])


def _bulletin_row(row) -> dict[str, Any]:
    record = dict(row._mapping)
    record["weights"] = json.loads(record["weights"])
    record["files"] = json.loads(record["files"])
    return record


def load_bulletin(engine: Engine, month: str) -> dict[str, Any] | None:
    """The stored bulletin of a month ('YYYY-MM'), or None."""
    with engine.connect() as conn:
        row = conn.execute(select(bulletins).where(bulletins.c.month == month)).first()
    return None if row is None else _bulletin_row(row)


def list_bulletins(engine: Engine, limit: int, offset: int = 0) -> list[dict[str, Any]]:
    """The bulletins made, newest month first."""
    with engine.connect() as conn:
        rows = conn.execute(select(bulletins).order_by(bulletins.c.month.desc()).limit(limit).offset(offset)).all()
    return [_bulletin_row(row) for row in rows]


def load_bulletin_ranks(engine: Engine, month: str) -> list[dict[str, Any]] | None:
    """The county ranks stored with a month's bulletin (best first), or None when none was made."""
    with engine.connect() as conn:
        if conn.execute(select(bulletins.c.month).where(bulletins.c.month == month)).first() is None:
            return None
        rows = conn.execute(
            select(*(bulletin_ranks.c[c] for c in RANK_COLUMNS))
            .where(bulletin_ranks.c.month == month)
            .order_by(bulletin_ranks.c.rank, bulletin_ranks.c.county_code)
        ).all()
    return [dict(row._mapping) for row in rows]
