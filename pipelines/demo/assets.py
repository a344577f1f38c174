"""Household- and wealth-level facts: dangerous-house appraisals, 低保/特困 cases, public payroll,
enterprises and vehicles. Rules R08, R12–R16 (and their near-misses)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import pools
from .model import World, choose, dates_between, quota

__all__ = [
    "build_enterprises",
    "build_housing",
    "build_minimum_living",
    "build_payroll",
    "build_vehicles",
    "credit_codes",
]

_UNSAFE = ("未改造", "在建")


def build_housing(rng: np.random.Generator, world: World) -> None:
    """Appraisals of the house of a hukou household's head; C/D not yet renovated is unsafe."""
    hh = world.households
    registered_hh = world.registered_hukou_households()
    n = len(hh)
    u = rng.random(n)
    appraised = u < np.where(registered_hh, 0.2, 0.05)
    grade = np.where(
        registered_hh,
        rng.choice(list("ABCD"), size=n, p=[0.2, 0.35, 0.3, 0.15]),
        rng.choice(list("ABCD"), size=n, p=[0.3, 0.4, 0.2, 0.1]),
    ).astype(object)
    dangerous = np.isin(grade, ["C", "D"])
    renovation = np.where(
        registered_hh,
        rng.choice(["已验收", "已竣工"], size=n, p=[0.7, 0.3]),
        rng.choice(["已验收", "已竣工", "未改造", "在建"], size=n, p=[0.6, 0.3, 0.05, 0.05]),
    )
    renovation = np.where(dangerous, renovation, "未改造").astype(object)

    head_of_registry = np.zeros(n, dtype=bool)
    head_of_registry[world.registry_households["hh"].to_numpy()] = True
    unsafe_now = appraised & dangerous & np.isin(renovation, _UNSAFE)
    for pool_mask, rate in ((head_of_registry, 0.03), (~registered_hh, 0.008)):  # R08, R13
        need = quota(int(pool_mask.sum()), rate) - int((pool_mask & unsafe_now).sum())
        if need > 0:
            who = choose(rng, np.flatnonzero(pool_mask & ~unsafe_now), need)
            appraised[who] = True
            grade[who] = rng.choice(["C", "D"], size=len(who), p=[0.65, 0.35])
            renovation[who] = rng.choice(list(_UNSAFE), size=len(who))
    owner = hh["head"].to_numpy().copy()
    # Near-miss for R13: the unsafe house of someone left out of a registered household.
    split_out = world.marks.get("split_out", np.zeros(0, dtype=np.int64))
    for pid in split_out[: max(2, len(split_out) // 10)]:
        own_hh = world.people["hh"].to_numpy()[pid]
        if not appraised[own_hh]:
            appraised[own_hh], owner[own_hh] = True, pid
            grade[own_hh], renovation[own_hh] = "C", "未改造"

    rows = np.flatnonzero(appraised)
    day = world.day
    on = dates_between(rng, np.datetime64("2016-01-01"), day - np.timedelta64(30, "D"), len(rows))
    done = np.isin(renovation[rows], ["已竣工", "已验收"])
    completed = np.full(len(rows), np.datetime64("NaT"), dtype="datetime64[D]")
    finish = np.minimum(on + rng.integers(60, 500, len(rows)).astype("timedelta64[D]"), day - np.timedelta64(1, "D"))
    completed[done] = finish[done]
    remark = np.array(pools.HOUSING_REMARKS, dtype=object)[rng.integers(len(pools.HOUSING_REMARKS), size=len(rows))]
    remark[rng.random(len(rows)) < 0.6] = ""
    world.facts["housing"] = pd.DataFrame(
        {
            "hh": rows,
            "pid": owner[rows],
            "grade": grade[rows],
            "renovation": renovation[rows],
            "appraised_on": on,
            "completed_on": completed,
            "remark": remark,
            "village_code": world.villages["code"].to_numpy()[hh["village"].to_numpy()[rows]],
        }
    )


def build_minimum_living(rng: np.random.Generator, world: World) -> None:
    """低保/特困 cases: registry households of those categories, plus non-registered households
    (in 在保 state they are R12's missed households; 停保 ones are near-misses)."""
    people, hh, reg = world.people, world.households, world.registry_households
    registered_hh = world.registered_hukou_households()
    n = len(hh)
    kind = np.full(n, "", dtype=object)
    state = np.full(n, "", dtype=object)
    category = pd.Series(reg["category"].to_numpy(), index=reg["hh"].to_numpy())
    dibao_hh = category[category == "低保贫困户"].index.to_numpy()
    tekun_hh = category[category == "特困供养贫困户"].index.to_numpy()
    kind[dibao_hh] = "农村低保"
    state[dibao_hh] = rng.choice(["在保", "停保"], size=len(dibao_hh), p=[0.85, 0.15])
    kind[tekun_hh], state[tekun_hh] = "农村特困", "在保"
    outside = np.flatnonzero(~registered_hh & (rng.random(n) < 0.02))
    kind[outside] = np.where(rng.random(len(outside)) < 0.85, "农村低保", "农村特困")
    state[outside] = rng.choice(["在保", "停保"], size=len(outside), p=[0.6, 0.4])
    missed_now = ~registered_hh & (state == "在保")
    need = quota(int((~registered_hh).sum()), 0.006) - int(missed_now.sum())
    if need > 0:
        extra = choose(rng, np.flatnonzero(~registered_hh & (kind == "")), need)
        kind[extra], state[extra] = "农村低保", "在保"

    alive = people["state"].to_numpy() == "正常"
    person_hh = people["hh"].to_numpy()
    covered = alive & (kind[person_hh] != "")
    covered &= (kind[person_hh] == "农村低保") | (people["pos"].to_numpy() == 0)  # 特困 covers one person
    covered &= rng.random(len(people)) < 0.9
    # A case needs at least its head; the head stays covered even if the hukou was cancelled meanwhile.
    heads = hh["head"].to_numpy()[kind != ""]
    covered[heads] = True
    pid = np.flatnonzero(covered)
    case_hh = person_hh[pid]
    cases = np.unique(case_hh)
    case_no = pd.Series(np.arange(len(cases)), index=cases)
    size = np.bincount(case_hh, minlength=n)[case_hh]
    per_person = np.where(
        kind[case_hh] == "农村特困",
        rng.uniform(550, 800, len(cases))[case_no[case_hh].to_numpy()],
        rng.uniform(280, 420, len(cases))[case_no[case_hh].to_numpy()],
    )
    since = dates_between(rng, np.datetime64("2014-01-01"), world.day - np.timedelta64(30, "D"), len(cases))
    world.facts["minimum_living"] = pd.DataFrame(
        {
            "pid": pid,
            "hh": case_hh,
            "case": case_no[case_hh].to_numpy(),
            "kind": kind[case_hh],
            "state": state[case_hh],
            "monthly": (np.round(per_person * size / 10) * 10).astype(np.int64),
            "since": since[case_no[case_hh].to_numpy()],
            "village_code": world.villages["code"].to_numpy()[people["village"].to_numpy()[pid]],
        }
    )


def _adults(world: World, low: int, high: int) -> np.ndarray:
    age = world.people["age"].to_numpy()
    return (world.people["state"].to_numpy() == "正常") & (age >= low) & (age <= high)


def build_payroll(rng: np.random.Generator, world: World) -> None:
    """Public employees; a few are registered poor (R14)."""
    registered = world.registered()
    adults = _adults(world, 22, 60)
    paid = adults & ~registered & (rng.random(len(adults)) < 0.03)
    pool = np.flatnonzero(adults & registered)
    paid[choose(rng, pool, quota(len(pool), 0.003))] = True
    pid = np.flatnonzero(paid)
    village = world.people["village"].to_numpy()[pid]
    county_level = rng.random(len(pid)) < 0.4
    employer = np.where(
        county_level,
        world.villages["county"].to_numpy()[village] + rng.choice(pools.COUNTY_EMPLOYERS, size=len(pid)),
        world.villages["township"].to_numpy()[village] + rng.choice(pools.EMPLOYER_SUFFIXES, size=len(pid)),
    )
    birth = world.people["birth"].to_numpy().astype("datetime64[D]")[pid]
    hired = dates_between(rng, birth + np.timedelta64(20 * 365, "D"), world.day - np.timedelta64(30, "D"), len(pid))
    world.facts["payroll"] = pd.DataFrame({"pid": pid, "employer": employer, "hired_on": hired})


def build_enterprises(rng: np.random.Generator, world: World) -> None:
    """Enterprises and their legal representatives; registered ones in 存续/在业 fire R15, those
    吊销/注销 are near-misses."""
    registered = world.registered()
    adults = _adults(world, 25, 65)
    rep = adults & ~registered & (rng.random(len(adults)) < 0.012)
    state = np.full(len(adults), "", dtype=object)
    state[rep] = rng.choice(["存续", "在业", "吊销", "注销"], size=rep.sum(), p=[0.5, 0.35, 0.1, 0.05])
    pool = np.flatnonzero(adults & registered)
    owners = choose(rng, pool, quota(len(pool), 0.003))
    closed = choose(rng, np.setdiff1d(pool, owners), quota(len(pool), 0.001, 2))
    state[owners] = rng.choice(["存续", "在业"], size=len(owners))
    state[closed] = rng.choice(["吊销", "注销"], size=len(closed))
    pid = np.flatnonzero(state != "")
    village = world.people["village"].to_numpy()[pid]
    county = world.villages["county"].to_numpy()[village]
    county_short = np.array([c[:2] for c in county], dtype=object)
    kinds = rng.integers(len(pools.ENTERPRISE_KINDS), size=len(pid))
    prefix = np.array([k[0] for k in pools.ENTERPRISE_KINDS], dtype=object)[kinds]
    suffix = np.array([k[1] for k in pools.ENTERPRISE_KINDS], dtype=object)[kinds]
    word = rng.choice(pools.ENTERPRISE_WORDS, size=len(pid)).astype(object)
    township = world.villages["township"].to_numpy()[village]
    name = np.where(prefix == "92", township + world.people["surname"].to_numpy()[pid] + suffix, county_short + word + suffix)
    capital = np.where(prefix == "92", rng.uniform(1, 20, len(pid)), rng.uniform(10, 500, len(pid)))
    founded = dates_between(rng, np.datetime64("2008-01-01"), world.day - np.timedelta64(30, "D"), len(pid))
    county_code = world.villages["county_code"].to_numpy()[village]
    world.facts["enterprises"] = pd.DataFrame(
        {
            "pid": pid,
            "credit_code": credit_codes(rng, prefix, county_code),
            "name": name,
            "capital": np.round(capital, 1),
            "founded_on": founded,
            "state": state[pid],
        }
    )


_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CODE_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])


def credit_codes(rng: np.random.Generator, prefix: np.ndarray, county: np.ndarray) -> np.ndarray:
    """Unique 18-character unified social credit codes with the GB 32100 check character."""
    n = len(prefix)
    serial = rng.choice(31**8, size=n, replace=False)
    body = np.empty((n, 9), dtype=np.int64)
    body[:, 0] = _CODE_CHARS.index("M")  # as in the MA… organisation codes of newer registrations
    for column in range(8, 0, -1):
        body[:, column] = serial % 31
        serial = serial // 31
    head = np.array(
        [[_CODE_CHARS.index(c) for c in p + c6] for p, c6 in zip(prefix, county, strict=True)], dtype=np.int64
    ).reshape(n, 8)
    digits = np.concatenate([head, body], axis=1)
    check = (31 - (digits * _CODE_WEIGHTS).sum(axis=1) % 31) % 31
    chars = np.array(list(_CODE_CHARS))
    return np.array(["".join(row) for row in chars[np.concatenate([digits, check[:, None]], axis=1)]], dtype=object)


_CARS = ("小型轿车", "小型普通客车")
_OTHER_VEHICLES = ("轻型货车", "三轮汽车", "低速货车", "拖拉机", "摩托车")
_PLATE_CHARS = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def build_vehicles(rng: np.random.Generator, world: World) -> None:
    """Vehicles and owners; registered owners of cars fire R16, of farm vehicles do not."""
    registered = world.registered()
    adults = _adults(world, 20, 70)
    n = len(adults)
    kind = np.full(n, "", dtype=object)
    owner = adults & ~registered & (rng.random(n) < 0.1)
    kind[owner] = rng.choice([*_CARS, *_OTHER_VEHICLES], size=owner.sum(), p=[0.3, 0.15, 0.1, 0.1, 0.05, 0.05, 0.25])
    farm = adults & registered & (rng.random(n) < 0.03)
    kind[farm] = rng.choice(_OTHER_VEHICLES, size=farm.sum())
    pool = np.flatnonzero(adults & registered & (kind == ""))
    cars = choose(rng, pool, quota(int((adults & registered).sum()), 0.005))
    kind[cars] = rng.choice(_CARS, size=len(cars), p=[0.7, 0.3])
    pid = np.flatnonzero(kind != "")
    space = len(_PLATE_CHARS) ** 5
    serial = rng.choice(space, size=len(pid), replace=False)
    plates = []
    for number in serial.tolist():
        text, rest = [], number
        for _ in range(5):
            rest, r = divmod(rest, len(_PLATE_CHARS))
            text.append(_PLATE_CHARS[r])
        plates.append("贵J" + "".join(text))
    registered_on = dates_between(rng, np.datetime64("2010-01-01"), world.day - np.timedelta64(7, "D"), len(pid))
    world.facts["vehicles"] = pd.DataFrame({"pid": pid, "plate": plates, "kind": kind[pid], "registered_on": registered_on})
