"""Overnight edits of a night's delivered frames, as a department changes its export: some rows
dropped, some cells rewritten, new rows appended at the end; every other row stays as it was, byte
for byte, and the messiness log follows."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from pipelines.catalog.feeds import FeedSpec, load_feeds

from .delivery import LOG_COLUMNS, Night
from .messiness import PROFILES, Profile, mess_feed
from .writers import LAYOUTS

__all__ = ["NightEditor"]


def _overnight(profile: Profile) -> Profile:
    # New or rewritten cells are as messy as the feed, but a handful of rows gets no blank rows,
    # no household ID swaps and no "every kind at least once".
    return dataclasses.replace(profile, ensure=False, blank_rows=0.0, swapped_ids=0.0)


class NightEditor:
    """Collects one night's edits and applies them with `finish()`. Row numbers given to `update`,
    `set_cells` and `drop` are positions in the delivered frames as they were before any edit."""

    def __init__(self, night: Night, rng: np.random.Generator) -> None:
        self.night, self.rng = night, rng
        self.specs: dict[str, FeedSpec] = load_feeds()
        self._dropped: dict[str, list[np.ndarray]] = {}
        self._appended: dict[str, list[pd.DataFrame]] = {}
        self._unlogged: list[pd.DataFrame] = []  # feed, record_key, field ("" = the whole row)
        self._logged: list[pd.DataFrame] = []

    def frame(self, feed: str) -> pd.DataFrame:
        return self.night.delivered[feed]

    def field_of(self, feed: str, kind: str) -> str:
        """The feed's field of a kind ("id", "name"), e.g. owner_id of vehicles."""
        return next(f.name for f in self.specs[feed].fields if f.kind == kind)

    def rows(self, feed: str, pids: np.ndarray) -> np.ndarray:
        """Positions of the rows of persons `pids`."""
        return np.flatnonzero(np.isin(self.frame(feed)["_pid"].to_numpy(), pids))

    def positions(self, feed: str, keys: np.ndarray) -> np.ndarray:
        """Positions of the rows with these record keys (blank rows have none)."""
        frame = self.frame(feed)
        real = frame["_pid"].to_numpy() >= 0
        position = pd.Series(np.flatnonzero(real), index=frame[self.specs[feed].key].to_numpy()[real])
        return position.loc[keys].to_numpy()

    def keys(self, feed: str, rows: np.ndarray) -> np.ndarray:
        return self.frame(feed)[self.specs[feed].key].to_numpy()[rows]

    def new_numbers(self, feed: str, width: int, count: int) -> np.ndarray:
        """`count` running numbers after the highest ending a key (its last `width` digits), rows
        to be appended included."""
        key = self.specs[feed].key
        keys = [self.frame(feed)[key], *(f[key] for f in self._appended.get(feed, []))]
        tails = pd.to_numeric(pd.concat(keys, ignore_index=True).astype(str).str[-width:], errors="coerce")
        start = int(tails.max()) + 1 if tails.notna().any() else 1
        return np.arange(start, start + count, dtype=np.int64)

    def drop(self, feed: str, rows: np.ndarray) -> None:
        if len(rows):
            self._dropped.setdefault(feed, []).append(np.asarray(rows))
            self._unlog(feed, self.keys(feed, rows), "")

    def update(self, feed: str, rows: np.ndarray, values: dict[str, np.ndarray]) -> None:
        """Rewrite fields of rows with new true values, delivered as messily as the feed is."""
        if not len(rows):
            return
        frame = self.frame(feed)
        spec = self.specs[feed]
        pid = frame["_pid"].to_numpy()[rows]
        clean = pd.DataFrame({spec.key: frame[spec.key].to_numpy()[rows], **values, "_pid": pid})
        messy = self._mess(feed, clean)
        for field in values:
            self._unlog(feed, clean[spec.key].to_numpy(), field)
            for column in (field, f"_text_{field}", f"_said_{field}"):
                if column in messy.frame:
                    self._put(frame, column, rows, messy.frame[column].to_numpy())
        self._logged.append(messy.log[messy.log["field"].isin(list(values))].assign(feed=feed))

    def set_cells(self, feed: str, rows: np.ndarray, field: str, values: np.ndarray, kind: str = "") -> None:
        """Write cells exactly as given; the log then says `kind` for them (nothing when "")."""
        if not len(rows):
            return
        frame = self.frame(feed)
        self._put(frame, field, rows, np.asarray(values, dtype=object))
        if f"_text_{field}" in frame:
            self._put(frame, f"_text_{field}", rows, np.asarray(values, dtype=object))
        keys = self.keys(feed, rows)
        self._unlog(feed, keys, field)
        if kind:
            self._logged.append(pd.DataFrame({"feed": feed, "record_key": keys, "field": field, "kind": kind}))

    def append(self, feed: str, clean: pd.DataFrame) -> None:
        """New clean rows (all fields and `_pid`), delivered as messily as the feed is, at the end."""
        if len(clean):
            messy = self._mess(feed, clean)
            self._appended.setdefault(feed, []).append(messy.frame)
            self._logged.append(messy.log.assign(feed=feed))

    def finish(self) -> None:
        """Apply drops and appends to the delivered frames, and the log changes."""
        delivered = self.night.delivered
        for feed, rows in self._dropped.items():
            delivered[feed] = delivered[feed].drop(index=np.unique(np.concatenate(rows))).reset_index(drop=True)
        for feed, frames in self._appended.items():
            frame = delivered[feed]
            added = [f.reindex(columns=frame.columns, fill_value="") for f in frames]
            delivered[feed] = pd.concat([frame, *added], ignore_index=True)
        log = self.night.log
        if self._unlogged:
            gone = pd.concat(self._unlogged, ignore_index=True)
            row_key = log["feed"] + "\x1f" + log["record_key"].astype(str)
            whole = gone[gone["field"] == ""]
            cells = gone[gone["field"] != ""]
            drop = row_key.isin(whole["feed"] + "\x1f" + whole["record_key"])
            drop |= (row_key + "\x1f" + log["field"]).isin(cells["feed"] + "\x1f" + cells["record_key"] + "\x1f" + cells["field"])
            log = log[~drop.to_numpy()]
        self.night.log = pd.concat([log, *(f[LOG_COLUMNS] for f in self._logged)], ignore_index=True)
        self._dropped, self._appended, self._unlogged, self._logged = {}, {}, [], []

    def _mess(self, feed: str, clean: pd.DataFrame):
        people = self.night.world.people
        pid = clean["_pid"].to_numpy()
        birth_year = people["birth"].to_numpy().astype("datetime64[Y]").astype(np.int64)[pid] + 1970
        return mess_feed(
            self.rng,
            self.specs[feed],
            clean,
            people["id15"].to_numpy()[pid],
            birth_year,
            self.night.as_of,
            xlsx=LAYOUTS[feed].fmt == "xlsx",
            profile=_overnight(PROFILES[feed]),
        )

    def _unlog(self, feed: str, keys: np.ndarray, field: str) -> None:
        self._unlogged.append(pd.DataFrame({"feed": feed, "record_key": np.asarray(keys, dtype=object), "field": field}))

    @staticmethod
    def _put(frame: pd.DataFrame, column: str, rows: np.ndarray, values: np.ndarray) -> None:
        current = frame[column].to_numpy().copy()
        if current.dtype.kind == "M":
            values = np.asarray(values).astype(current.dtype)
        current[rows] = values
        frame[column] = current
