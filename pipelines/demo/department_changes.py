"""Department facts that change overnight and raise or clear a clue: a car bought or sold (R16), a
public job taken or left (R14), insurance enrolled (R06), an unsafe house rebuilt (R08, R13)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import pools
from .datetext import zero_padded
from .overnight import Overnight

__all__ = ["DepartmentChanges"]

_CARS = ("小型轿车", "小型普通客车")
_PLATE_CHARS = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"


class DepartmentChanges(Overnight):
    # --- department facts ----------------------------------------------------------------------

    def vehicle_added(self, count: int) -> None:
        """A registered person buys a car (R16)."""
        adults = self.alive & (self.age >= 20) & (self.age <= 70)
        who = self._pick(adults & self.registered & ~self._holders("vehicles"), count)
        held = set(self.editor.frame("vehicles")["plate_no"].tolist())
        plates: list[str] = []
        while len(plates) < len(who):
            plate = "贵J" + "".join(_PLATE_CHARS[i] for i in self.rng.integers(len(_PLATE_CHARS), size=5).tolist())
            if plate not in held:
                held.add(plate)
                plates.append(plate)
        kind = self.rng.choice(_CARS, size=len(who), p=[0.7, 0.3]).astype(object)
        on = self._recent(len(who))
        vehicles = self.world.facts["vehicles"]
        added = pd.DataFrame({"pid": who, "plate": plates, "kind": kind, "registered_on": on})
        self.world.facts["vehicles"] = pd.concat([vehicles, added.astype(vehicles.dtypes.to_dict())], ignore_index=True)
        people = self.world.people
        self.editor.append(
            "vehicles",
            pd.DataFrame(
                {
                    "plate_no": np.array(plates, dtype=object),
                    "owner_name": people["name"].to_numpy()[who],
                    "owner_id": people["id18"].to_numpy()[who],
                    "vehicle_type": kind,
                    "registered_on": on,
                    "_pid": who,
                }
            ),
        )
        self._record(who, "vehicle_added")

    def vehicle_removed(self, count: int) -> None:
        """A car owner sells the car (a registered owner's R16 clears)."""
        vehicles = self.world.facts["vehicles"]
        owners = self._holders("vehicles", vehicles["kind"].isin(_CARS).to_numpy())
        who = self._pick(owners, count, self.registered)
        self._drop_rows("vehicles", who)
        self._drop_facts("vehicles", who)
        self._record(who, "vehicle_removed")

    def payroll_added(self, count: int) -> None:
        """A registered person is hired into a public job (R14)."""
        people = self.world.people
        adults = self.alive & (self.age >= 22) & (self.age <= 60)
        who = self._pick(adults & self.registered & ~self._holders("payroll"), count)
        village = people["village"].to_numpy()[who]
        employer = self.world.villages["township"].to_numpy()[village] + self.rng.choice(pools.EMPLOYER_SUFFIXES, size=len(who))
        hired = self._recent(len(who))
        payroll = self.world.facts["payroll"]
        added = pd.DataFrame({"pid": who, "employer": employer, "hired_on": hired})
        self.world.facts["payroll"] = pd.concat([payroll, added.astype(payroll.dtypes.to_dict())], ignore_index=True)
        numbers = self.editor.new_numbers("public_payroll", 8, len(who))
        self.editor.append(
            "public_payroll",
            pd.DataFrame(
                {
                    "person_no": "CZ" + zero_padded(numbers, 8),
                    "name": people["name"].to_numpy()[who],
                    "id_number": people["id18"].to_numpy()[who],
                    "employer": employer.astype(object),
                    "hired_on": hired,
                    "_pid": who,
                }
            ),
        )
        self._record(who, "payroll_added")

    def payroll_removed(self, count: int) -> None:
        """A public employee leaves the payroll (a registered one's R14 clears)."""
        who = self._pick(self._holders("payroll"), count, self.registered)
        self._drop_rows("public_payroll", who)
        self._drop_facts("payroll", who)
        self._record(who, "payroll_removed")

    def insured(self, count: int) -> None:
        """A registered person without this year's cover enrols (R06 clears)."""
        insurance = self.world.facts["insurance"]
        covered = (insurance["year"] == self.world.as_of.year) & (insurance["state"] == "正常参保")
        who = self._pick(self.registered & self.alive & ~self._holders("insurance", covered.to_numpy()), count)
        self._insure(who)
        self._record(who, "insured")

    def house_renovated(self, count: int) -> None:
        """An unsafe house is rebuilt (R08 of a registered owner's household, or R13, clears)."""
        frame = self.editor.frame("dangerous_housing")
        pid = frame["_pid"].to_numpy()
        unsafe = (
            frame["grade"].str.strip().isin(["C", "D"]).to_numpy()
            & frame["renovation"].str.strip().isin(["未改造", "在建"]).to_numpy()
        )
        owners = np.zeros(len(self.world.people), dtype=bool)
        owners[pid[unsafe & (pid >= 0)]] = True
        who = self._pick(owners & self.alive, count, self.registered)
        rows = np.flatnonzero(unsafe & np.isin(pid, who))
        self.editor.update(
            "dangerous_housing",
            rows,
            {"renovation": np.full(len(rows), "已竣工", dtype=object), "completed_on": self._recent(len(rows))},
        )
        self._record(who, "house_renovated")
