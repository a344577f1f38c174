"""The frame of one night's changes: the night being changed, who is already changed, and the
edits every kind of change shares (a person's hukou row rewritten, department rows dropped, this
year's insurance given)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .datetext import zero_padded
from .delivery import Night
from .edits import NightEditor
from .feeds import hukou_rows
from .model import choose, dates_between

__all__ = ["Overnight"]


class Overnight:
    """One night's changes under way; each picks persons no other change of the night touched."""

    def __init__(self, night: Night, rng: np.random.Generator) -> None:
        self.night, self.world, self.rng = night, night.world, rng
        self.editor = NightEditor(night, rng)
        people = self.world.people
        self.taken = np.zeros(len(people), dtype=bool)
        self.registered = self.world.registered()
        self.alive = people["state"].to_numpy() == "正常"
        self.age = people["age"].to_numpy()
        self.done: list[tuple[int, str, str]] = []

    # --- helpers -------------------------------------------------------------------------------

    def _pick(self, pool: np.ndarray, count: int, prefer: np.ndarray | None = None) -> np.ndarray:
        """Up to `count` untouched persons of `pool`, half of them from `prefer` where it can."""
        pool = pool & ~self.taken
        first = choose(self.rng, np.flatnonzero(pool & prefer), (count + 1) // 2) if prefer is not None else np.zeros(0, int)
        rest = np.flatnonzero(pool)
        rest = choose(self.rng, rest[~np.isin(rest, first)], count - len(first))
        picked = np.sort(np.concatenate([first, rest]).astype(np.int64))
        self.taken[picked] = True
        return picked

    def _record(self, pids: np.ndarray, kind: str, feeds: np.ndarray | str = "") -> None:
        feeds = np.broadcast_to(np.asarray(feeds, dtype=object), (len(pids),))
        self.done.extend(zip(np.asarray(pids).tolist(), [kind] * len(pids), feeds.tolist(), strict=True))

    def _recent(self, count: int) -> np.ndarray:
        """Days of the last month before the data date, as a change registered overnight has."""
        day = self.world.day
        return dates_between(self.rng, day - np.timedelta64(30, "D"), day - np.timedelta64(1, "D"), count)

    def _person(self, column: str, pids: np.ndarray) -> np.ndarray:
        return self.world.people[column].to_numpy()[pids]

    def _set_people(self, pids: np.ndarray, values: dict[str, np.ndarray | str]) -> None:
        people = self.world.people
        for column, value in values.items():
            current = people[column].to_numpy().copy()
            current[pids] = value
            people[column] = current

    def _hukou(self, pids: np.ndarray, fields: tuple[str, ...]) -> None:
        rows = self.editor.rows("hukou", pids)
        clean = hukou_rows(self.world, self.editor.frame("hukou")["_pid"].to_numpy()[rows])
        self.editor.update("hukou", rows, {f: clean[f].to_numpy() for f in fields})

    def _drop_facts(self, fact: str, pids: np.ndarray) -> None:
        frame = self.world.facts[fact]
        self.world.facts[fact] = frame[~frame["pid"].isin(pids)].reset_index(drop=True)

    def _drop_rows(self, feed: str, pids: np.ndarray) -> None:
        self.editor.drop(feed, self.editor.rows(feed, pids))

    def _drop_minimum_living(self, pids: np.ndarray) -> None:
        # A case keeps its head's row whatever happens to the head (as build_minimum_living has it).
        heads = self.world.households["head"].to_numpy()[self._person("hh", pids)]
        self._drop_rows("minimum_living", pids[pids != heads])

    def _holders(self, fact: str, mask: np.ndarray | None = None) -> np.ndarray:
        frame = self.world.facts[fact]
        out = np.zeros(len(self.world.people), dtype=bool)
        out[frame["pid"].to_numpy()[slice(None) if mask is None else mask]] = True
        return out

    def _insure(self, who: np.ndarray, append_only: bool = False) -> None:
        """This year's 正常参保 for `who`: a row of this year gets the state, else a new row."""
        year = self.world.as_of.year
        insurance = self.world.facts["insurance"]
        this_year = insurance["year"].to_numpy() == year
        has_row = np.zeros(len(self.world.people), dtype=bool)
        if not append_only:
            has_row[insurance["pid"].to_numpy()[this_year]] = True
            insurance.loc[this_year & insurance["pid"].isin(who).to_numpy(), "state"] = "正常参保"
            frame = self.editor.frame("medical_insurance")
            rows = self.editor.rows("medical_insurance", who)
            rows = rows[frame["year"].to_numpy()[rows] == str(year)]
            self.editor.update("medical_insurance", rows, {"state": np.full(len(rows), "正常参保", dtype=object)})
        new = who[~has_row[who]]
        people = self.world.people
        village_code = self.world.villages["code"].to_numpy()[people["village"].to_numpy()[new]]
        added = pd.DataFrame({"pid": new, "year": year, "state": "正常参保", "critical": "是", "village_code": village_code})
        self.world.facts["insurance"] = pd.concat([self.world.facts["insurance"], added[insurance.columns]], ignore_index=True)
        county = people["county_code"].to_numpy()[new].astype(object)
        numbers = self.editor.new_numbers("medical_insurance", 8, len(new))
        self.editor.append(
            "medical_insurance",
            pd.DataFrame(
                {
                    "insured_no": county + zero_padded(numbers, 8),
                    "name": people["name"].to_numpy()[new],
                    "id_number": people["id18"].to_numpy()[new],
                    "village_code": village_code,
                    "year": np.full(len(new), year, dtype=np.int64),
                    "state": "正常参保",
                    "critical_illness_cover": "是",
                    "_pid": new,
                }
            ),
        )
