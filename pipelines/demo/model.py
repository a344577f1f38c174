"""The true (clean) state of the demo prefecture, and sampling helpers shared by its builders."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["World", "age_at", "choose", "dates_between", "poverty_line", "quota", "to_day"]

# Each rule must fire at least this often even in a tiny population, so every rule is exercised.
MIN_RULE_HITS = 6

# Yuan per person per year, from the feed contract; later years use the 2020 line.
POVERTY_LINE = {2014: 2800, 2015: 2855, 2016: 3146, 2017: 3335, 2018: 3535, 2019: 3747, 2020: 4000}


def poverty_line(years: np.ndarray) -> np.ndarray:
    """The poverty line of each year (years before 2014 use 2014's, after 2020 use 2020's)."""
    table = np.array([POVERTY_LINE[y] for y in range(2014, 2021)], dtype=np.int64)
    return table[np.clip(np.asarray(years, dtype=np.int64), 2014, 2020) - 2014]


@dataclass
class World:
    """Everything true about the demo prefecture on the data date; feeds are views of it.

    people: one row per person (index = person id), households: one per hukou household,
    registry_households / members: the poverty registry as it should be delivered (stale on
    purpose where a rule is meant to fire), facts: one frame per other department, marks:
    person ids singled out by a scenario ("split_out" of R04, "registered_twice" of R03).
    """

    as_of: dt.date
    villages: pd.DataFrame
    people: pd.DataFrame
    households: pd.DataFrame
    registry_households: pd.DataFrame = field(default_factory=pd.DataFrame)
    members: pd.DataFrame = field(default_factory=pd.DataFrame)
    facts: dict[str, pd.DataFrame] = field(default_factory=dict)
    marks: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def day(self) -> np.datetime64:
        return to_day(self.as_of)

    def registered(self) -> np.ndarray:
        """Boolean per person: listed in at least one registry household."""
        mask = np.zeros(len(self.people), dtype=bool)
        if len(self.members):
            mask[self.members["pid"].to_numpy()] = True
        return mask

    def registered_hukou_households(self) -> np.ndarray:
        """Boolean per hukou household: some person of it is registered."""
        mask = np.zeros(len(self.households), dtype=bool)
        mask[self.people["hh"].to_numpy()[self.registered()]] = True
        return mask


def to_day(value: dt.date) -> np.datetime64:
    return np.datetime64(value.isoformat(), "D")


def quota(pool: int, rate: float, minimum: int = MIN_RULE_HITS) -> int:
    """How many of a pool to pick: rate of it, at least `minimum`, never more than the pool."""
    return int(min(pool, max(minimum, round(rate * pool))))


def choose(rng: np.random.Generator, candidates: np.ndarray, count: int) -> np.ndarray:
    """`count` distinct candidates (or all of them), in ascending order."""
    candidates = np.asarray(candidates)
    if count >= len(candidates):
        return np.sort(candidates)
    return np.sort(rng.choice(candidates, size=count, replace=False))


def dates_between(
    rng: np.random.Generator, start: np.ndarray | np.datetime64, end: np.ndarray | np.datetime64, size: int
) -> np.ndarray:
    """Uniform random days in [start, end] (inclusive; end before start gives start)."""
    start = np.broadcast_to(np.asarray(start, dtype="datetime64[D]"), (size,))
    end = np.broadcast_to(np.asarray(end, dtype="datetime64[D]"), (size,))
    span = np.maximum((end - start).astype(np.int64), 0)
    return start + (rng.random(size) * (span + 1)).astype(np.int64).astype("timedelta64[D]")


def age_at(birth: np.ndarray, day: np.datetime64) -> np.ndarray:
    """Whole years of age on `day` for birth dates (any datetime64 unit)."""
    birth = np.asarray(birth).astype("datetime64[D]")
    years = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    months = birth.astype("datetime64[M]").astype(np.int64) % 12 + 1
    days = (birth - birth.astype("datetime64[M]")).astype(np.int64) + 1
    ref = pd.Timestamp(day)
    before_birthday = (months * 100 + days) > (ref.month * 100 + ref.day)
    return ref.year - years - before_birthday.astype(np.int64)
