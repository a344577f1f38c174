"""Newborns between two nights: a new person in an existing household, with a name the parents
have not given yet and an ID number no one holds; in hukou, often in the registry and insured."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.standardise.ids import check_digits

from . import pools
from .datetext import format_dates, zero_padded
from .feeds import hukou_rows
from .model import age_at, choose
from .overnight import Overnight

__all__ = ["Births"]


class Births(Overnight):
    def birth(self, count: int) -> None:
        """Newborns in households of a young head: in hukou, often in the registry and insured."""
        world, people, households = self.world, self.world.people, self.world.households
        heads = households["head"].to_numpy()
        young = self.alive[heads] & (self.age[heads] >= 20) & (self.age[heads] <= 45)
        hh = choose(self.rng, np.flatnonzero(young), count)
        if not len(hh):
            return
        n, k = len(people), len(hh)
        pid = np.arange(n, n + k)
        male = self.rng.random(k) < 0.52
        births = self._recent(k)
        head = heads[hh]
        relation = np.where(male, "之子", "之女").astype(object)
        surname = people["surname"].to_numpy()[head]
        given = self._given_names(male, hh)
        uyghur = people["ethnicity"].to_numpy()[head] == "维吾尔族"
        if uyghur.any():  # own name · father's (the head's) name
            own = np.where(
                male[uyghur],
                self.rng.choice(pools.UYGHUR_MALE, size=uyghur.sum()),
                self.rng.choice(pools.UYGHUR_FEMALE, size=uyghur.sum()),
            )
            father = [g.split("·")[0] for g in people["given"].to_numpy()[head[uyghur]].tolist()]
            given[uyghur] = own.astype(object) + "·" + np.array(father, dtype=object)
        county = households["county_code"].to_numpy()[hh].astype(object)
        id18, id15 = self._new_ids(county, births, male)
        newborn = pd.DataFrame(
            {
                "hh": hh,
                "pos": 200 + np.arange(k),
                "village": households["village"].to_numpy()[hh],
                "county_code": county,
                "relation": relation,
                "male": male,
                "birth": births,
                "age": age_at(births, world.day),
                "ethnicity": people["ethnicity"].to_numpy()[head],
                "surname": surname,
                "given": given,
                "name": np.where(uyghur, given, surname + given),
                "id18": id18,
                "id15": id15,
                "state": "正常",
                "changed_on": np.full(k, np.datetime64("NaT"), dtype="datetime64[D]"),
                "moved_to": "",
            },
            index=pid,
        )
        world.people = pd.concat([people, newborn[people.columns]])
        self.taken = np.concatenate([self.taken, np.ones(k, dtype=bool)])
        self.editor.append("hukou", hukou_rows(world, pid))
        insured = self.rng.random(k) < 0.6
        self._insure(pid[insured], append_only=True)
        self._register_newborns(pid, insured)
        self._record(pid, "birth")

    def _given_names(self, male: np.ndarray, hh: np.ndarray) -> np.ndarray:
        people = self.world.people
        taken = set(zip(people["hh"].tolist(), people["given"].tolist(), strict=True))
        names = np.empty(len(male), dtype=object)
        for i, (is_male, household) in enumerate(zip(male.tolist(), hh.tolist(), strict=True)):
            first, second = (pools.MALE_FIRST, pools.MALE_SECOND) if is_male else (pools.FEMALE_FIRST, pools.FEMALE_SECOND)
            for _ in range(20):  # parents do not give two children one name
                name = first[self.rng.integers(len(first))] + second[self.rng.integers(len(second))]
                if (household, name) not in taken:
                    break
            taken.add((household, name))
            names[i] = name
        return names

    def _new_ids(self, county: np.ndarray, births: np.ndarray, male: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """ID numbers no one holds yet: a free sequence of the right parity for county and birth date."""
        ymd = format_dates(births, 1)
        prefix = county + ymd
        held = self.world.people["id18"]
        near = held[held.str[:14].isin(set(prefix.tolist()))]
        used = set(near.str[:17].tolist())
        seq = np.empty(len(prefix), dtype=np.int64)
        for i, (p, m) in enumerate(zip(prefix.tolist(), male.tolist(), strict=True)):
            free = [s for s in range(int(m), 1000, 2) if p + f"{s:03d}" not in used]
            seq[i] = free[self.rng.integers(len(free))]
            used.add(p + f"{seq[i]:03d}")
        first17 = prefix + zero_padded(seq, 3)
        digits = np.frombuffer("".join(first17).encode("ascii"), dtype=np.uint8).reshape(len(prefix), 17) - ord("0")
        id18 = first17 + check_digits(digits).astype(object)
        id15 = county + np.array([y[2:] for y in ymd.tolist()], dtype=object) + zero_padded(seq, 3)
        return id18, id15

    def _register_newborns(self, pid: np.ndarray, insured: np.ndarray) -> None:
        """Most newborns of registered households are listed in the registry at once (R06 if uninsured)."""
        world = self.world
        reg, members = world.registry_households, world.members
        r_of_hh = pd.Series(np.arange(len(reg)), index=reg["hh"].to_numpy())
        hh = world.people["hh"].to_numpy()[pid]
        listed = np.isin(hh, reg["hh"].to_numpy()) & (self.rng.random(len(pid)) < 0.7)
        if not listed.any():
            return
        pid, insured, r = pid[listed], insured[listed], r_of_hh.reindex(hh[listed]).to_numpy()
        household_no = reg["household_no"].to_numpy()[r]
        theirs = members[members["r"].isin(r)]
        last = theirs.groupby("r")["member_no"].max().reindex(r).fillna("00").to_numpy()
        seq = np.array([int(m[-2:]) for m in last.tolist()]) + 1
        for i in range(1, len(r)):  # twins in one household
            seq[i] += int((r[:i] == r[i]).sum())
        new = pd.DataFrame(
            {
                "r": r,
                "pid": pid,
                "pos": world.people["pos"].to_numpy()[pid],
                "relation": world.people["relation"].to_numpy()[pid],
                "dup": 0,
                "member_no": household_no + zero_padded(seq, 2),
                "schooling": "非在校生",
                "health": "健康",
                "insured": np.where(insured, "是", "否").astype(object),
            }
        )
        world.members = pd.concat([members, new[members.columns]], ignore_index=True)
        people = world.people
        self.editor.append(
            "poverty_members",
            pd.DataFrame(
                {
                    "member_no": new["member_no"].to_numpy(),
                    "household_no": household_no,
                    "name": people["name"].to_numpy()[pid],
                    "id_number": people["id18"].to_numpy()[pid],
                    "sex": np.where(people["male"].to_numpy()[pid], "男", "女").astype(object),
                    "ethnicity": people["ethnicity"].to_numpy()[pid],
                    "birth_date": people["birth"].to_numpy().astype("datetime64[D]")[pid],
                    "relation": new["relation"].to_numpy(),
                    "schooling": new["schooling"].to_numpy(),
                    "health": new["health"].to_numpy(),
                    "insured": new["insured"].to_numpy(),
                    "_pid": pid,
                }
            ),
        )
