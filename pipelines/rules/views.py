"""The per-night views the rule queries read, built on one connection and dropped afterwards.

- `cur_<feed>`: the feed's effective snapshot for the night, copied into a temporary table
  indexed on its record key;
- `cur_links`: the night's base map (feed, record_key, person_id, household_code), a temporary
  table indexed for "the same person" joins;
- `std_<feed>`: record_key, id_clean, id_status, name_norm of a feed some rule lists under
  `standardised` (pipelines.standardise, each distinct value once), indexed on the ID;
- `ref_poverty_lines`: year (text), line (yuan) from seeds/poverty_lines.csv, one row per year up
  to the night's year (earlier years take the first line, later ones the last);
- `cur_<view>`: each shared helper of sql/rules/_<view>.sql the rules use, as a temporary table.

Everything is temporary and per connection, so nights run side by side never see each other's.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, text

from pipelines.catalog.feeds import ROW_SOURCES, record_key
from pipelines.standardise.ids import standardise_ids
from pipelines.standardise.names import normalise_name
from pipelines.store.bulk import bulk_insert

if TYPE_CHECKING:
    from pipelines.rules.run import Rule

__all__ = ["NightViews", "night_parameters", "open_night_views"]

POVERTY_LINES_FILE = Path(__file__).resolve().parents[2] / "seeds" / "poverty_lines.csv"
_FIRST_YEAR = 1949
_STD_COLUMNS = ["record_key", "id_clean", "id_status", "name_norm"]


def load_poverty_lines(path: Path = POVERTY_LINES_FILE) -> dict[int, float]:
    """year → poverty line (yuan per person per year)."""
    with open(path, encoding="utf-8") as fh:
        return {int(row["year"]): float(row["line"]) for row in csv.DictReader(fh)}


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year - years, day=28)


def night_parameters(day: dt.date, age_ranges: dict[str, tuple[int, int]] | None = None) -> dict[str, str]:
    """The named parameters of a rule query: d, d_year, and per age range <name>_born_from /
    <name>_born_to, the inclusive birth dates of persons whose whole years at `day` are in range."""
    params = {"d": day.isoformat(), "d_year": str(day.year)}
    for name, (youngest, oldest) in (age_ranges or {}).items():
        params[f"{name}_born_from"] = (_years_before(day, oldest + 1) + dt.timedelta(days=1)).isoformat()
        params[f"{name}_born_to"] = _years_before(day, youngest).isoformat()
    return params


class NightViews:
    """The night's views on one open connection; `query` runs a rule against them."""

    def __init__(self, conn: Connection, day: dt.date) -> None:
        self.conn, self.day = conn, day
        self.created: list[tuple[str, str]] = []  # (kind, name), in creation order
        self.problems: dict[str, str] = {}  # helper view -> why it could not be built

    def problem_for(self, rule: Rule) -> str | None:
        """Why `rule` cannot run tonight although its feeds are there (a helper failed), else None."""
        for helper in rule.helpers:
            if helper.view in self.problems:
                return f"共用表 cur_{helper.view} 生成失败：{self.problems[helper.view]}"
        return None

    def query(self, rule: Rule) -> pd.DataFrame:
        """The rule's rows, columns lower-cased."""
        try:
            result = self.conn.execute(text(rule.sql), night_parameters(self.day, rule.age_ranges))
            # A Result, not a dict: iterating it would fetch the rows, hence .keys().
            frame = pd.DataFrame(result.fetchall(), columns=[c.lower() for c in result.keys()])  # noqa: SIM118
        finally:
            self.conn.rollback()
        return frame

    def recover(self) -> None:
        self.conn.rollback()

    # --- building ------------------------------------------------------------------------

    def _execute(self, sql: str, params: dict | None = None) -> None:
        self.conn.execute(text(sql), params or {})

    def _drop(self, kind: str, name: str) -> None:
        self._execute(f"drop {kind} if exists {name}")

    def feed_table(self, feed: str, snapshot: dt.date) -> None:
        # A copy, not a view: the snapshot tables hold every night, and the planner (PostgreSQL's
        # above all, whose statistics lag behind a fresh load) does better on the one night alone.
        name = f"cur_{feed}"
        self._drop("table", name)
        self._execute(
            f"create temporary table {name} as select * from feed_{feed} where delivery_date = :snapshot",
            {"snapshot": snapshot.isoformat()},
        )
        self.created.append(("table", name))
        self._execute(f'create index ix_{name}_key on {name} ("{record_key(feed)}")')
        self._analyze(name)

    def links_table(self) -> None:
        self._drop("table", "cur_links")
        self._execute(
            "create temporary table cur_links as "
            "select feed, record_key, person_id, household_code from links where delivery_date = :d",
            {"d": self.day.isoformat()},
        )
        self.created.append(("table", "cur_links"))
        self._execute("create index ix_cur_links_row on cur_links (feed, record_key)")
        self._execute("create index ix_cur_links_person on cur_links (person_id, feed)")
        self._analyze("cur_links")

    def poverty_lines_table(self) -> None:
        lines = load_poverty_lines()
        first, last = min(lines), max(lines)
        rows, line = [], lines[first]
        for year in range(_FIRST_YEAR, max(last, self.day.year) + 1):
            line = lines.get(year, line)
            rows.append({"year": str(year), "line": line})
        self._drop("table", "ref_poverty_lines")
        self._execute("create temporary table ref_poverty_lines (year varchar(4), line double precision)")
        self.created.append(("table", "ref_poverty_lines"))
        self.conn.execute(text("insert into ref_poverty_lines (year, line) values (:year, :line)"), rows)

    def standardised_table(self, feed: str) -> None:
        source = next(s for s in ROW_SOURCES if s.feed == feed)
        driver = self.conn.connection.driver_connection
        assert driver is not None  # None only once the connection is closed or invalidated
        cursor = driver.cursor()
        cursor.execute(f'select "{source.key}", "{source.id_number}", "{source.name}" from cur_{feed}')
        raw = pd.DataFrame(cursor.fetchall(), columns=["record_key", "id_raw", "name"])
        cursor.close()
        ids = standardise_ids(raw["id_raw"])
        codes, uniques = pd.factorize(raw["name"], use_na_sentinel=True)
        names = np.array([*(normalise_name(u) for u in uniques), ""], dtype=object)[codes]
        body = pd.DataFrame(
            {
                "record_key": raw["record_key"].to_numpy(dtype=object),
                "id_clean": ids["id_clean"].to_numpy(dtype=object),
                "id_status": ids["id_status"].to_numpy(dtype=object),
                "name_norm": names,
            }
        )
        name = f"std_{feed}"
        self._drop("table", name)
        self._execute(f"create temporary table {name} (record_key text, id_clean text, id_status varchar(20), name_norm text)")
        self.created.append(("table", name))
        bulk_insert(self.conn, name, _STD_COLUMNS, body)
        self._execute(f"create index ix_{name}_id on {name} (id_clean)")
        self._execute(f"create index ix_{name}_key on {name} (record_key)")
        self._analyze(name)

    def helper_table(self, helper) -> None:
        name = f"cur_{helper.view}"
        self._drop("table", name)
        self.conn.commit()
        try:
            self._execute(f"create temporary table {name} as {helper.sql}", night_parameters(self.day))
            for i, column in enumerate(helper.indexes):
                self._execute(f"create index ix_{name}_{i} on {name} ({column})")
            self._analyze(name)
            self.conn.commit()
        except Exception as exc:
            self.conn.rollback()
            self.problems[helper.view] = str(exc).splitlines()[0]
            return
        self.created.append(("table", name))

    def _analyze(self, name: str) -> None:
        # PostgreSQL never auto-analyses temporary tables; without statistics it guesses joins badly.
        if self.conn.dialect.name == "postgresql":
            self._execute(f"analyze {name}")

    def drop_all(self) -> None:
        self.conn.rollback()
        for kind, name in reversed(self.created):
            self._drop(kind, name)
        self.conn.commit()
        self.created.clear()


@contextlib.contextmanager
def open_night_views(engine: Engine, day: dt.date, snapshots: dict[str, dt.date], rules: list[Rule]) -> Iterator[NightViews]:
    """Build the views `rules` need for night `day` (snapshots: feed → effective date, for every
    feed the rules read), yield them, and drop them whatever happens."""
    with engine.connect() as conn:
        night = NightViews(conn, day)
        try:
            if rules:
                for feed in sorted({feed for rule in rules for feed in rule.feeds}):
                    night.feed_table(feed, snapshots[feed])
                night.links_table()
                night.poverty_lines_table()
                for feed in sorted({feed for rule in rules for feed in rule.standardised}):
                    night.standardised_table(feed)
                night.conn.commit()
                helpers = {h.view: h for rule in rules for h in rule.helpers}
                for view in sorted(helpers):
                    night.helper_table(helpers[view])
            yield night
        finally:
            night.drop_all()
