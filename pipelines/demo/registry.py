"""The poverty registry (建档立卡): which hukou households are registered, who is listed, and the
stale or wrong entries that rules R01–R04 and R09–R11 are meant to find."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .datetext import zero_padded
from .model import World, choose, poverty_line, quota
from .population import set_state

__all__ = ["build_registry"]

REGISTERED_SHARE = 0.22
CAUSES = ("因病", "因残", "因学", "因灾", "缺土地", "缺水", "缺技术", "缺劳力", "缺资金", "交通条件落后", "自身发展动力不足")
_CAUSE_SHARES = (0.22, 0.08, 0.08, 0.03, 0.05, 0.03, 0.2, 0.1, 0.12, 0.04, 0.05)
# How often a registry drops a member whose hukou state changed (the rest stay listed: R01/R02).
_DROP_SHARE = {"死亡": 0.6, "迁出": 0.5, "出国（境）定居": 0.5, "其他注销": 0.5, "服兵役": 0.8}


def build_registry(rng: np.random.Generator, world: World) -> None:
    """Fill world.registry_households and world.members (and adjust hukou states for R01/R02)."""
    households = _select_households(rng, world)
    members = _list_members(rng, world, households)
    members = _split_households(rng, world, members)  # R04
    members = _register_twice(rng, world, households, members)  # R03
    _stale_states(rng, world, members)  # R01, R02
    members = members.sort_values(["r", "pos", "dup"], kind="stable").reset_index(drop=True)
    members["member_no"] = households["household_no"].to_numpy()[members["r"].to_numpy()] + zero_padded(
        members.groupby("r").cumcount().to_numpy() + 1, 2
    )
    households["size"] = members.groupby("r")["pid"].nunique().reindex(households.index, fill_value=0).to_numpy()
    _attributes(rng, world, households)
    world.registry_households, world.members = households, members


def _select_households(rng: np.random.Generator, world: World) -> pd.DataFrame:
    hh, people = world.households, world.people
    head_age = people["age"].to_numpy()[hh["head"].to_numpy()]
    poor_village = world.villages["poor"].to_numpy()[hh["village"].to_numpy()]
    weight = 1 + 1.5 * poor_village + 0.4 * (hh["size"].to_numpy() >= 4) + 0.4 * (head_age >= 60)
    score = rng.random(len(hh)) ** (1 / weight)
    count = max(3, round(REGISTERED_SHARE * len(hh)))
    chosen = np.sort(np.argsort(-score, kind="stable")[:count])
    frame = pd.DataFrame({"hh": chosen, "head": hh["head"].to_numpy()[chosen], "village": hh["village"].to_numpy()[chosen]})
    codes = world.villages["code"].to_numpy()[frame["village"].to_numpy()]
    seq = frame.groupby("village").cumcount().to_numpy() + 1
    frame["household_no"] = codes + np.array([f"{s:04d}" for s in seq.tolist()], dtype=object)
    return frame


def _list_members(rng: np.random.Generator, world: World, households: pd.DataFrame) -> pd.DataFrame:
    people = world.people
    r_of_hh = np.full(len(world.households), -1)
    r_of_hh[households["hh"].to_numpy()] = np.arange(len(households))
    r = r_of_hh[people["hh"].to_numpy()]
    state = people["state"].to_numpy()
    drop_share = pd.Series(state).map(_DROP_SHARE).fillna(0.0).to_numpy()
    listed = (r >= 0) & ((rng.random(len(people)) >= drop_share) | (people["pos"].to_numpy() == 0))
    pid = np.flatnonzero(listed)
    return pd.DataFrame(
        {"r": r[pid], "pid": pid, "pos": people["pos"].to_numpy()[pid], "relation": people["relation"].to_numpy()[pid], "dup": 0}
    )


def _split_households(rng: np.random.Generator, world: World, members: pd.DataFrame) -> pd.DataFrame:
    """R04: some households leave out one member who lives there normally (未整户识别)."""
    state = world.people["state"].to_numpy()[members["pid"].to_numpy()]
    eligible = (members["pos"].to_numpy() > 0) & (state == "正常")
    pool = np.unique(members["r"].to_numpy()[eligible])
    split = choose(rng, pool, quota(len(pool), 0.04))
    candidates = members[eligible & np.isin(members["r"].to_numpy(), split)]
    dropped = candidates.assign(u=rng.random(len(candidates))).sort_values("u").drop_duplicates("r").index
    world.marks["split_out"] = np.sort(members.loc[dropped, "pid"].to_numpy())
    return members.drop(index=dropped).reset_index(drop=True)


def _register_twice(rng: np.random.Generator, world: World, households: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    """R03: a few persons listed twice, in their own household or in a neighbour's (一人多户)."""
    people = world.people
    pid = members["pid"].to_numpy()
    eligible = np.flatnonzero((members["pos"].to_numpy() > 0) & (people["age"].to_numpy()[pid] >= 18))
    picked = choose(rng, eligible, quota(len(members), 0.005))
    extra = members.iloc[picked].copy()
    village_r = households["village"].to_numpy()
    by_village = pd.Series(np.arange(len(households))).groupby(village_r).apply(np.asarray).to_dict()
    elsewhere = rng.random(len(extra)) < 0.5
    targets = extra["r"].to_numpy().copy()
    for i, own in enumerate(targets):
        options = by_village[village_r[own]]
        if elsewhere[i] and len(options) > 1:
            other = options[rng.integers(len(options))]
            targets[i] = other if other != own else options[(np.searchsorted(options, own) + 1) % len(options)]
    moved = targets != extra["r"].to_numpy()
    extra["r"], extra["dup"] = targets, 1
    extra.loc[moved, "relation"] = "其他"
    extra.loc[moved, "pos"] = 99
    world.marks["registered_twice"] = np.sort(extra["pid"].to_numpy())
    return pd.concat([members, extra], ignore_index=True)


def _stale_states(rng: np.random.Generator, world: World, members: pd.DataFrame) -> None:
    """R01/R02: listed persons whose hukou was cancelled, topped up to a minimum share."""
    people = world.people
    listed = np.unique(members["pid"].to_numpy())
    state, age = people["state"].to_numpy()[listed], people["age"].to_numpy()[listed]
    normal = state == "正常"
    protected = np.isin(listed, world.marks["registered_twice"])
    dead_need = quota(len(listed), 0.008) - int((state == "死亡").sum())
    if dead_need > 0:
        who = choose(rng, listed[normal & (age >= 45) & ~protected], dead_need)
        set_state(rng, people, who, "死亡", world.as_of)
        normal &= ~np.isin(listed, who)
    gone = np.isin(state, ["迁出", "出国（境）定居", "其他注销"])
    gone_need = quota(len(listed), 0.012) - int(gone.sum())
    if gone_need > 0:
        who = choose(rng, listed[normal & (age >= 18) & (age <= 60) & ~protected], gone_need)
        kinds = rng.choice(["迁出", "出国（境）定居", "其他注销"], size=len(who), p=[0.8, 0.1, 0.1])
        set_state(rng, people, who, kinds, world.as_of)


def _attributes(rng: np.random.Generator, world: World, households: pd.DataFrame) -> None:
    n = len(households)
    last_year = min(2020, world.as_of.year)
    identified = rng.choice(np.arange(2014, 2020), size=n, p=[0.55, 0.12, 0.1, 0.1, 0.08, 0.05])
    identified = np.minimum(identified, world.as_of.year)
    can_exit = identified + 1 <= last_year
    status = np.where(can_exit, rng.choice(["已脱贫", "返贫", "未脱贫"], size=n, p=[0.95, 0.03, 0.02]), "未脱贫")
    exit_year = np.where(
        status == "未脱贫", 0, identified + 1 + (rng.random(n) * np.maximum(last_year - identified, 1)).astype(int)
    )
    exit_year = np.minimum(exit_year, last_year)
    exited = np.flatnonzero(status == "已脱贫")
    same_year = choose(rng, exited, quota(len(exited), 0.015))  # R10
    exit_year[same_year] = identified[same_year]

    size = households["size"].to_numpy()
    head_age = world.people["age"].to_numpy()[households["head"].to_numpy()]
    u = rng.random(n)
    category = np.where(
        (size <= 2) & (head_age >= 60) & (u < 0.3), "特困供养贫困户", np.where(u > 0.75, "低保贫困户", "一般贫困户")
    ).astype(object)
    line = poverty_line(np.where(exit_year > 0, exit_year, world.as_of.year))
    base = line * np.where(
        status == "已脱贫",
        rng.uniform(1.15, 3.2, n),
        np.where(status == "返贫", rng.uniform(0.7, 1.1, n), rng.uniform(0.6, 0.98, n)),
    )
    # R11: exited on paper only because 低保 money was counted as income.
    relies = choose(rng, exited, quota(len(exited), 0.03))
    base[relies] = line[relies] * rng.uniform(0.55, 0.95, len(relies))
    category[relies[category[relies] == "一般贫困户"]] = "低保贫困户"
    near = choose(rng, np.setdiff1d(exited[category[exited] != "一般贫困户"], relies), quota(len(exited), 0.01, 2))
    base[near] = line[near] * rng.uniform(1.02, 1.06, len(near))
    per_person = np.where(
        category == "低保贫困户",
        rng.uniform(1800, 4200, n),
        np.where(category == "特困供养贫困户", rng.uniform(4500, 7000, n), 0.0),
    )
    dibao = np.round(per_person * np.maximum(size, 1)).astype(np.int64)
    income = np.round(base + dibao / np.maximum(size, 1)).astype(np.int64)
    margin = income - dibao / np.maximum(size, 1) - line
    income += np.where(np.abs(margin) < 1, np.where(margin >= 0, 2, -2), 0)  # no ties at the line

    relocated = rng.random(n) < 0.08
    moved_in = np.where(relocated, rng.choice(["是", "否", ""], size=n, p=[0.93, 0.04, 0.03]), "").astype(object)
    not_moved = choose(rng, exited, quota(len(exited), 0.01))  # R09 by relocation
    relocated[not_moved] = True
    moved_in[not_moved] = rng.choice(["否", ""], size=len(not_moved), p=[0.7, 0.3])
    # Only exited households keep a relocation gap, so R09's reading of 已脱贫 cannot matter.
    moved_in[relocated & (status != "已脱贫")] = "是"

    phone = np.array(
        [f"1{p}{n:09d}" for p, n in zip(rng.choice(list("3578"), size=n), rng.integers(0, 10**9, size=n), strict=True)],
        dtype=object,
    )
    phone[rng.random(n) < 0.05] = ""
    households["category"] = category
    households["identified_year"] = identified
    households["status"] = status
    households["exit_year"] = exit_year
    households["main_cause"] = rng.choice(CAUSES, size=n, p=_CAUSE_SHARES)
    households["income_per_capita"] = income
    households["dibao_income"] = dibao
    households["relocated"] = np.where(relocated, "是", "否")
    households["moved_in"] = moved_in
    households["phone"] = phone
