"""Person-level services: school enrolment, medical insurance, illness registration; and what the
poverty registry says about its members (schooling, health, insured). Rules R05–R07."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import pools
from .model import World, choose, dates_between, quota

__all__ = ["annotate_members", "build_illness", "build_insurance", "build_school"]

_GRADES = {
    "学前": ("小班", "中班", "大班"),
    "小学": ("一年级", "二年级", "三年级", "四年级", "五年级", "六年级"),
    "初中": ("七年级", "八年级", "九年级"),
    "高中": ("高一", "高二", "高三"),
    "中职": ("一年级", "二年级", "三年级"),
}
_FIRST_AGE = {"学前": 3, "小学": 6, "初中": 12, "高中": 15, "中职": 15}


def _alive_here(world: World) -> np.ndarray:
    return world.people["state"].to_numpy() == "正常"


def build_school(rng: np.random.Generator, world: World) -> None:
    """Children 3–18 living here, most enrolled; some school-age registered children not (R05)."""
    people, registered = world.people, world.registered()
    age = people["age"].to_numpy()
    n = len(people)
    u = rng.random(n)
    stage = np.full(n, "", dtype=object)
    stage[(age >= 3) & (age <= 5) & (u < 0.75)] = "学前"
    stage[(age >= 6) & (age <= 11) & (u < 0.997)] = "小学"
    stage[(age >= 12) & (age <= 14) & (u < 0.99)] = "初中"
    older = (age >= 15) & (age <= 17)
    stage[older & (u < 0.55)] = "高中"
    stage[older & (u >= 0.55) & (u < 0.8)] = "中职"
    stage[(age == 18) & (u < 0.15)] = "高中"
    # Leaving after 初中 shows as a 毕业 row; a 16-year-old out of school is no R05 clue.
    finished = older & (u >= 0.8) & (u < 0.9)
    stage[finished] = "初中"
    stage[~_alive_here(world)] = ""

    forced = np.flatnonzero(registered & (age >= 6) & (age <= 15) & (stage != "") & _alive_here(world))
    out_of_school = choose(rng, forced, quota(len(forced), 0.03))
    how = rng.choice(["missing", "辍学", "转出"], size=len(out_of_school), p=[0.5, 0.3, 0.2])
    stage[out_of_school[how == "missing"]] = ""

    pid = np.flatnonzero(stage != "")
    st = stage[pid]
    state = rng.choice(["在读", "休学", "辍学", "转出"], size=len(pid), p=[0.975, 0.008, 0.009, 0.008]).astype(object)
    state[np.isin(pid, np.flatnonzero(finished))] = "毕业"
    state[(age[pid] >= 6) & (age[pid] <= 15) & ~registered[pid] & (state == "辍学")] = "在读"
    dropped = out_of_school[how != "missing"]
    state[np.isin(pid, dropped)] = how[how != "missing"][np.searchsorted(dropped, pid[np.isin(pid, dropped)])]
    # Near-miss for R05: a registered school-age child on leave (休学) is still in school.
    on_leave = np.flatnonzero(registered[pid] & (age[pid] >= 6) & (age[pid] <= 15) & (state == "在读"))
    state[choose(rng, on_leave, quota(len(on_leave), 0.005, 2))] = "休学"
    first_age = pd.Series(st).map(_FIRST_AGE).to_numpy()
    grade_index = np.clip(age[pid] - first_age, 0, 5)
    grade = np.array([_GRADES[s][min(g, len(_GRADES[s]) - 1)] for s, g in zip(st, grade_index, strict=True)], dtype=object)

    village = people["village"].to_numpy()[pid]
    v = world.villages
    township, county, vname = (v[c].to_numpy()[village] for c in ("township", "county", "name"))
    school = np.where(
        st == "学前",
        vname + "幼儿园",
        np.where(
            st == "小学",
            township + "中心小学",
            np.where(
                st == "初中",
                township + "中学",
                np.where(
                    st == "高中", county + np.where(rng.random(len(pid)) < 0.6, "第一中学", "民族中学"), county + "中等职业学校"
                ),
            ),
        ),
    )
    code = v["code"].to_numpy()[village].astype(object)
    code[rng.random(len(pid)) < 0.03] = ""  # some schools know only the address
    world.facts["school"] = pd.DataFrame(
        {"pid": pid, "stage": st, "grade": grade, "state": state, "school": school, "village_code": code}
    )


def build_insurance(rng: np.random.Generator, world: World) -> None:
    """City-rural resident insurance rows for this year and some for last year; R06 gaps."""
    people, registered = world.people, world.registered()
    year = world.as_of.year
    n = len(people)
    state = people["state"].to_numpy()
    u = rng.random(n)
    current = np.full(n, "", dtype=object)
    here = state == "正常"
    current[here] = "正常参保"
    lapse = here & (u < 0.04)
    kind = rng.choice(["暂停参保", "终止参保", "last_year", "none"], size=n, p=[0.3, 0.2, 0.3, 0.2])
    current[lapse & (kind == "暂停参保")] = "暂停参保"
    current[lapse & (kind == "终止参保")] = "终止参保"
    current[lapse & np.isin(kind, ["last_year", "none"])] = ""
    last = np.full(n, "", dtype=object)
    last[lapse & (kind == "last_year")] = "正常参保"
    last[here & ~lapse & (rng.random(n) < 0.05)] = "正常参保"  # renewed: insured both years
    died = state == "死亡"
    died_year = pd.DatetimeIndex(people["changed_on"]).year.to_numpy()
    current[died & (died_year == year) & (u < 0.5)] = "终止参保"
    last[died & (died_year == year - 1) & (u < 0.5)] = "终止参保"
    last[np.isin(state, ["迁出", "出国（境）定居", "其他注销"]) & (u < 0.4)] = "正常参保"

    alive_registered = registered & ~died
    covered = alive_registered & (current == "正常参保")
    need = quota(int(alive_registered.sum()), 0.02) - int((alive_registered & ~covered).sum())
    if need > 0:
        gap = choose(rng, np.flatnonzero(covered), need)
        current[gap] = rng.choice(["暂停参保", "终止参保", ""], size=len(gap))

    rows = [
        pd.DataFrame({"pid": np.flatnonzero(current != ""), "year": year, "state": current[current != ""]}),
        pd.DataFrame({"pid": np.flatnonzero(last != ""), "year": year - 1, "state": last[last != ""]}),
    ]
    frame = pd.concat(rows, ignore_index=True).sort_values(["pid", "year"], kind="stable").reset_index(drop=True)
    frame["critical"] = np.where(rng.random(len(frame)) < 0.97, "是", "否")
    frame["village_code"] = world.villages["code"].to_numpy()[people["village"].to_numpy()[frame["pid"].to_numpy()]]
    world.facts["insurance"] = frame


def build_illness(rng: np.random.Generator, world: World) -> None:
    """Serious (大病) and chronic (慢病) registrations, about 5% of people; R07 cases flagged."""
    people, registered = world.people, world.registered()
    age = people["age"].to_numpy()
    n = len(people)
    boost = np.where(registered, 1.6, 1.0)
    p_serious = (0.006 + 0.01 * (age >= 50)) * boost
    p_chronic = (0.015 + 0.07 * (age >= 50)) * boost
    u = rng.random(n)
    kind = np.full(n, "", dtype=object)
    kind[u < p_serious] = "大病"
    kind[(u >= p_serious) & (u < p_serious + p_chronic)] = "慢病"
    kind[people["state"].to_numpy() == "死亡"] = ""
    hidden = np.zeros(n, dtype=bool)  # R07: 大病 while the registry says 健康
    pool = np.flatnonzero(registered & (kind == "") & (people["state"].to_numpy() != "死亡"))
    flagged = choose(rng, pool, quota(int(registered.sum()), 0.01))
    kind[flagged], hidden[flagged] = "大病", True

    pid = np.flatnonzero(kind != "")
    k = kind[pid]
    serious = k == "大病"
    disease = np.where(
        serious, rng.choice(pools.SERIOUS_DISEASES, size=len(pid)), rng.choice(pools.CHRONIC_DISEASES, size=len(pid))
    )
    birth = people["birth"].to_numpy().astype("datetime64[D]")[pid]
    start = np.maximum(birth, world.day - np.timedelta64(10 * 365, "D"))
    diagnosed = dates_between(rng, start, world.day - np.timedelta64(7, "D"), len(pid))
    paid = np.where(serious, rng.uniform(5000, 60000, len(pid)), rng.uniform(200, 5000, len(pid)))
    world.facts["illness"] = pd.DataFrame(
        {
            "pid": pid,
            "kind": k,
            "disease": disease,
            "diagnosed_on": diagnosed,
            "self_paid": np.round(paid, 2),
            "hidden": hidden[pid],
        }
    )


def annotate_members(rng: np.random.Generator, world: World) -> None:
    """What the registry records per member: schooling, health, insured (from the true services,
    with the deliberate gaps of R05–R07)."""
    members, people = world.members, world.people
    pid = members["pid"].to_numpy()
    age = people["age"].to_numpy()[pid]
    m = len(members)
    school = world.facts["school"].drop_duplicates("pid").set_index("pid")
    stage = school["stage"].reindex(pid).fillna("").to_numpy()
    grade = school["grade"].reindex(pid).fillna("").to_numpy()
    schooling = np.full(m, "非在校生", dtype=object)
    schooling[stage == "学前"] = "学前教育"
    schooling[stage == "小学"] = "小学"
    schooling[stage == "初中"] = np.where(
        np.isin(grade[stage == "初中"], ["七年级", "八年级", "九年级"]), grade[stage == "初中"], "九年级"
    )
    schooling[stage == "高中"] = "高中"
    schooling[stage == "中职"] = "中职"
    schooling[(age >= 18) & (age <= 22) & (stage == "") & (rng.random(m) < 0.15)] = "大专及以上"
    # The registry lags: a child who left school is often still recorded as a pupil.
    stale = (stage == "") & (age >= 6) & (age <= 15) & (rng.random(m) < 0.6)
    schooling[stale] = np.where(age[stale] <= 11, "小学", "七年级")

    illness = world.facts["illness"].drop_duplicates("pid").set_index("pid")
    kind = illness["kind"].reindex(pid).fillna("").to_numpy()
    hidden = illness["hidden"].reindex(pid, fill_value=False).to_numpy(dtype=bool)
    u = rng.random(m)
    health = np.where(rng.random(m) < 0.05, "残疾", "健康").astype(object)
    health[kind == "大病"] = np.where(u[kind == "大病"] < 0.9, "患有大病", "长期慢性病")
    health[kind == "慢病"] = np.where(u[kind == "慢病"] < 0.7, "长期慢性病", "健康")
    health[hidden] = "健康"

    insurance = world.facts["insurance"]
    now = insurance[(insurance["year"] == world.as_of.year) & (insurance["state"] == "正常参保")]
    insured = np.where(np.isin(pid, now["pid"].to_numpy()) | (rng.random(m) < 0.7), "是", "否")
    # A person listed twice is recorded the same way both times.
    first = pd.Series(np.arange(m)).groupby(pid).transform("min").to_numpy()
    members["schooling"], members["health"], members["insured"] = schooling[first], health[first], insured[first]
