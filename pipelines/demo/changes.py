"""What happens in the demo prefecture between two nights: births, deaths, moves, corrected names,
IDs blanked or fixed, and department facts that raise or clear clues. Each change touches one
person; everyone else's rows stay as they were."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from . import pools
from .births import Births
from .delivery import Night
from .department_changes import DepartmentChanges
from .messiness import ID_KINDS, NAME_KINDS
from .model import age_at, choose

__all__ = ["CHANGE_KINDS", "apply_changes", "plan_changes"]

# Kind of change → its share of a night's changes (every kind happens at least once).
CHANGE_KINDS: dict[str, float] = {
    "death": 0.10,
    "move_out": 0.10,
    "move_within": 0.10,
    "name_corrected": 0.08,
    "name_fixed": 0.08,
    "id_blanked": 0.06,
    "id_fixed": 0.08,
    "vehicle_added": 0.05,
    "vehicle_removed": 0.04,
    "payroll_added": 0.04,
    "payroll_removed": 0.03,
    "insured": 0.05,
    "house_renovated": 0.04,
    "birth": 0.15,
}
# Rows whose ID as delivered is no valid ID at all (R17 when in poverty_members).
_INVALID_IDS = ("empty", "typo", "transposed", "legacy15", "excel")
_NOT_HUKOU = (
    "poverty_households",
    "poverty_members",
    "medical_insurance",
    "illness_registry",
    "school_enrolment",
    "dangerous_housing",
    "minimum_living",
    "public_payroll",
    "enterprise_registry",
    "vehicles",
)


def plan_changes(persons: int, fraction: float) -> dict[str, int]:
    """How many changes of each kind: `fraction` × persons shared by CHANGE_KINDS, at least one each."""
    total = fraction * persons
    return {kind: max(1, round(total * share)) for kind, share in CHANGE_KINDS.items()}


def apply_changes(night: Night, rng: np.random.Generator, as_of: dt.date, fraction: float) -> pd.DataFrame:
    """Move `night` on to `as_of` with about `fraction` × persons changes; return them (pid, kind,
    feed: the feed of a cell fixed or blanked)."""
    counts = plan_changes(len(night.world.people), fraction)
    world = night.world
    world.as_of = as_of
    world.people["age"] = age_at(world.people["birth"].to_numpy(), world.day)
    night_changes = _Changes(night, rng)
    for kind, count in counts.items():
        getattr(night_changes, kind)(count)
    night_changes.editor.finish()
    return pd.DataFrame(night_changes.done, columns=["pid", "kind", "feed"])


class _Changes(Births, DepartmentChanges):
    """Every kind of change: life events and fixes here, births and department facts inherited."""

    # --- life events ---------------------------------------------------------------------------

    def death(self, count: int) -> None:
        who = self._pick(self.alive & (self.age >= 45), count, prefer=self.registered)
        self._set_people(who, {"state": "死亡", "changed_on": self._recent(len(who)), "moved_to": ""})
        self._hukou(who, ("state", "changed_on", "moved_to"))
        for feed, fact in (
            ("school_enrolment", "school"),
            ("illness_registry", "illness"),
            ("public_payroll", "payroll"),
            ("vehicles", "vehicles"),
        ):
            self._drop_rows(feed, who)
            self._drop_facts(fact, who)
        self._drop_minimum_living(who)
        # The insurer ends this year's cover; last year's row stays as it was.
        insurance = self.world.facts["insurance"]
        ending = insurance["pid"].isin(who).to_numpy() & (insurance["year"].to_numpy() == self.world.as_of.year)
        insurance.loc[ending & (insurance["state"].to_numpy() == "正常参保"), "state"] = "终止参保"
        frame = self.editor.frame("medical_insurance")
        rows = self.editor.rows("medical_insurance", who)
        rows = rows[
            (frame["year"].to_numpy()[rows] == str(self.world.as_of.year))
            & (frame["state"].str.strip().to_numpy()[rows] == "正常参保")
        ]
        self.editor.update("medical_insurance", rows, {"state": np.full(len(rows), "终止参保", dtype=object)})
        self._record(who, "death")

    def move_out(self, count: int) -> None:
        dependant = self.world.people["pos"].to_numpy() > 0
        who = self._pick(self.alive & (self.age >= 18) & (self.age <= 50) & dependant, count, self.registered)
        moved_to = self.rng.choice(pools.MOVED_TO, size=len(who)).astype(object)
        self._set_people(who, {"state": "迁出", "changed_on": self._recent(len(who)), "moved_to": moved_to})
        self._hukou(who, ("state", "changed_on", "moved_to"))
        self._drop_rows("public_payroll", who)
        self._drop_facts("payroll", who)
        self._drop_minimum_living(who)
        self._record(who, "move_out")

    def move_within(self, count: int) -> None:
        """An adult moves into another hukou household (often a registered one: R04 for it)."""
        people, households = self.world.people, self.world.households
        who = self._pick(self.alive & (self.age >= 18) & (people["pos"].to_numpy() > 0), count, ~self.registered)
        registered_hh = np.flatnonzero(self.world.registered_hukou_households())
        pool = registered_hh if len(registered_hh) else np.arange(len(households))
        target = np.where(
            self.rng.random(len(who)) < 0.5,
            pool[self.rng.integers(len(pool), size=len(who))],
            self.rng.integers(len(households), size=len(who)),
        )
        own = people["hh"].to_numpy()[who]
        target = np.where(target == own, (target + 1) % len(households), target)
        self._set_people(
            who,
            {
                "hh": target,
                "village": households["village"].to_numpy()[target],
                "county_code": households["county_code"].to_numpy()[target],
                "pos": 100 + np.arange(len(who)),
                "relation": "其他",
            },
        )
        self._hukou(who, ("hukou_no", "relation", "village_code", "address"))
        self._record(who, "move_within")

    # --- names and IDs as delivered ------------------------------------------------------------

    def name_corrected(self, count: int) -> None:
        """The police correct a wrong character of a name; the other departments keep the old one."""
        people = self.world.people
        names = people["name"].to_numpy()
        fixable = np.array([any(c in pools.HOMOPHONES for c in n[1:]) and "·" not in n for n in names.tolist()])
        who = self._pick(self.alive & fixable, count, self.registered)
        corrected = []
        for name in names[who].tolist():
            j = max(j for j, c in enumerate(name) if j > 0 and c in pools.HOMOPHONES)
            corrected.append(name[:j] + pools.HOMOPHONES[name[j]] + name[j + 1 :])
        corrected_names = np.array(corrected, dtype=object)
        surname = people["surname"].to_numpy()[who]
        self._set_people(
            who,
            {
                "name": corrected_names,
                "given": np.array([n[len(s) :] for n, s in zip(corrected, surname.tolist(), strict=True)], dtype=object),
            },
        )
        rows = self.editor.rows("hukou", who)
        new_name = pd.Series(corrected_names, index=who)
        self.editor.set_cells("hukou", rows, "name", new_name.loc[self.editor.frame("hukou")["_pid"].to_numpy()[rows]].to_numpy())
        for feed in _NOT_HUKOU:  # the old spelling, now a wrong character of the true name
            rows, field = self.editor.rows(feed, who), self.editor.field_of(feed, "name")
            self.editor.set_cells(feed, rows, field, self.editor.frame(feed)[field].to_numpy()[rows], "homophone")
        self._record(who, "name_corrected")

    def _logged_cells(self, kinds: tuple[str, ...], field_kind: str) -> pd.DataFrame:
        """Logged deviations of the given kinds in one kind of field outside hukou, with row and person."""
        log = self.night.log
        parts = []
        for feed in _NOT_HUKOU:
            field = self.editor.field_of(feed, field_kind)
            entries = log[(log["feed"] == feed) & (log["field"] == field) & log["kind"].isin(kinds)]
            frame = self.editor.frame(feed)
            row = self.editor.positions(feed, entries["record_key"].to_numpy())
            pid = frame["_pid"].to_numpy()[row]
            parts.append(pd.DataFrame({"feed": feed, "field": field, "row": row, "pid": pid, "kind": entries["kind"].to_numpy()}))
        return pd.concat(parts, ignore_index=True)

    def _pick_cells(self, cells: pd.DataFrame, count: int, prefer: np.ndarray) -> pd.DataFrame:
        """Up to `count` cells of untouched, living persons (one each), half from `prefer` rows."""
        pid = cells["pid"].to_numpy()
        cells = cells[(pid >= 0) & ~self.taken[pid] & self.alive[pid]]
        cells = cells.drop_duplicates("pid")
        prefer = prefer[cells.index.to_numpy()]
        first = choose(self.rng, np.flatnonzero(prefer), (count + 1) // 2)
        rest = np.setdiff1d(np.arange(len(cells)), first)
        chosen = np.sort(np.concatenate([first, choose(self.rng, rest, count - len(first))]).astype(np.int64))
        picked = cells.iloc[chosen]
        self.taken[picked["pid"].to_numpy()] = True
        return picked

    def name_fixed(self, count: int) -> None:
        """A department fixes a name it had mangled."""
        cells = self._logged_cells(NAME_KINDS, "name")
        picked = self._pick_cells(cells, count, (cells["feed"] == "poverty_members").to_numpy())
        self._write_true(picked, "name")
        self._record(picked["pid"].to_numpy(), "name_fixed", picked["feed"].to_numpy())

    def id_fixed(self, count: int) -> None:
        """A department fixes a mangled ID number (an invalid one in the registry: R17 clears)."""
        cells = self._logged_cells(ID_KINDS, "id")
        prefer = (cells["feed"] == "poverty_members").to_numpy() & cells["kind"].isin(_INVALID_IDS).to_numpy()
        picked = self._pick_cells(cells, count, prefer)
        self._write_true(picked, "id18")
        self._record(picked["pid"].to_numpy(), "id_fixed", picked["feed"].to_numpy())

    def id_blanked(self, count: int) -> None:
        """A clerk blanks a correct ID number (in the registry: R17)."""
        parts = []
        for feed in _NOT_HUKOU:
            frame = self.editor.frame(feed)
            field = self.editor.field_of(feed, "id")
            pid = frame["_pid"].to_numpy()
            right = (pid >= 0) & (frame[field].to_numpy() == self.world.people["id18"].to_numpy()[np.maximum(pid, 0)])
            rows = np.flatnonzero(right)
            parts.append(pd.DataFrame({"feed": feed, "field": field, "row": rows, "pid": pid[rows]}))
        cells = pd.concat(parts, ignore_index=True)
        picked = self._pick_cells(cells, count, (cells["feed"] == "poverty_members").to_numpy())
        for (feed, field), group in picked.groupby(["feed", "field"], sort=True):
            self.editor.set_cells(feed, group["row"].to_numpy(), field, np.full(len(group), "", dtype=object), "empty")
        self._record(picked["pid"].to_numpy(), "id_blanked", picked["feed"].to_numpy())

    def _write_true(self, cells: pd.DataFrame, column: str) -> None:
        for (feed, field), group in cells.groupby(["feed", "field"], sort=True):
            values = self.world.people[column].to_numpy()[group["pid"].to_numpy()]
            self.editor.set_cells(feed, group["row"].to_numpy(), field, values)
