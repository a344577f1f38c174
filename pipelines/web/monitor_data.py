"""What the monitor pages read: problem counts per night and region (night_counts), and the nights
that hold them.

Every count is read from night_counts through ix_night_counts_level (length(region_code), rule,
region_code, delivery_date): a page reads the rows of one level inside one region — a dozen counties
or a few dozen townships times the nights — never the clues, and never the other levels' rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import astuple, dataclass
from functools import lru_cache

from sqlalchemy import ColumnElement, Engine, Select, func, select

from pipelines.clues import ALL_RULES, COUNT_COLUMNS
from pipelines.store.tables import night_counts, rule_runs

__all__ = [
    "LEVEL_DIGITS",
    "Counts",
    "build_level_counts",
    "build_rule_counts",
    "child_digits",
    "load_level_counts",
    "load_nights",
    "load_region_totals",
    "load_rule_counts",
    "prefix_range",
    "rule_titles",
]

LEVEL_DIGITS = (4, 6, 9, 12)  # prefecture, county, township, village


@dataclass(frozen=True)
class Counts:
    """A region's problem counts on one night (the meaning of each: pipelines.store.tables.night_counts)."""

    found: int = 0
    open: int = 0
    closed: int = 0
    cleared: int = 0
    overdue: int = 0
    reopened: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

    @property
    def closure_rate(self) -> float | None:
        """销号率: closed ÷ found; None when nothing was found."""
        return self.closed / self.found if self.found else None


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _counts(row) -> Counts:
    return Counts(*(int(row[c] or 0) for c in COUNT_COLUMNS))


def child_digits(region: str) -> int | None:
    """The code length of a region's children (county → townships); None for a village."""
    later = [d for d in LEVEL_DIGITS if d > len(region)]
    return later[0] if later else None


def prefix_range(column, prefix: str) -> ColumnElement[bool]:
    """Codes starting with `prefix` (digits), as a range an index can seek (LIKE cannot on
    PostgreSQL without text_pattern_ops)."""
    upper = str(int(prefix) + 1).zfill(len(prefix))
    return (column >= prefix) & (column < upper)


def build_level_counts(region: str, digits: int, rule: str = ALL_RULES, day: dt.date | None = None) -> Select:
    """night_counts rows of the `digits`-long regions inside `region` for one rule ('*': all), of
    every night or of `day`. With digits == len(region) this is the region's own row."""
    statement = select(
        night_counts.c.delivery_date, night_counts.c.region_code, *(night_counts.c[c] for c in COUNT_COLUMNS)
    ).where(
        (func.length(night_counts.c.region_code) == digits)
        & (night_counts.c.rule == rule)
        & prefix_range(night_counts.c.region_code, region)
    )
    if day is not None:
        statement = statement.where(night_counts.c.delivery_date == day)
    return statement


def build_rule_counts(region: str, day: dt.date) -> Select:
    """Per rule, the counts of `region` on `day`: its own rows, or for a prefecture (which has none)
    its counties' rows summed."""
    digits = max(6, len(region))
    return (
        select(night_counts.c.rule, *(func.sum(night_counts.c[c]).label(c) for c in COUNT_COLUMNS))
        .where(
            (func.length(night_counts.c.region_code) == digits)
            & (night_counts.c.rule != ALL_RULES)
            & prefix_range(night_counts.c.region_code, region)
            & (night_counts.c.delivery_date == day)
        )
        .group_by(night_counts.c.rule)
    )


def load_nights(engine: Engine) -> list[dt.date]:
    """The nights whose clue stage ran, oldest first (rule_runs: a few rows a night, where
    night_counts has thousands; a night undone leaves neither)."""
    with engine.connect() as conn:
        days = conn.execute(select(rule_runs.c.delivery_date).distinct()).scalars().all()
    return sorted(_as_date(d) for d in days)


def load_level_counts(
    engine: Engine, region: str, digits: int, rule: str = ALL_RULES, day: dt.date | None = None
) -> dict[tuple[dt.date, str], Counts]:
    """(night, region code) → counts of the `digits`-long regions inside `region` (see
    build_level_counts). A region missing on a night held no clue then: all its counts are 0."""
    with engine.connect() as conn:
        rows = conn.execute(build_level_counts(region, digits, rule, day)).mappings().all()
    return {(_as_date(r["delivery_date"]), r["region_code"]): _counts(r) for r in rows}


def load_region_totals(engine: Engine, region: str, rule: str = ALL_RULES, day: dt.date | None = None) -> dict[dt.date, Counts]:
    """Night → the counts of `region` as a whole: its own rows, or a prefecture's counties summed."""
    totals: dict[dt.date, Counts] = {}
    for (night, _code), counts in load_level_counts(engine, region, max(6, len(region)), rule, day).items():
        totals[night] = totals.get(night, Counts()) + counts
    return totals


def load_rule_counts(engine: Engine, region: str, day: dt.date) -> dict[str, Counts]:
    """Rule → the counts of `region` on `day` (rules without a clue there are missing)."""
    with engine.connect() as conn:
        rows = conn.execute(build_rule_counts(region, day)).mappings().all()
    return {r["rule"]: _counts(r) for r in rows}


@lru_cache(maxsize=1)
def rule_titles() -> dict[str, str]:
    """Rule code → its Chinese name, from the rule files (read once: they change with a release)."""
    from pipelines.rules import load_rules

    return {rule.code: rule.name for rule in load_rules()}
