"""Persons in hukou households: relations, ages, names (with 重名 and twins), ID numbers, hukou states."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from pipelines.standardise.ids import check_digits

from . import pools
from .datetext import format_dates, zero_padded
from .datetext import ymd as ymd_of
from .model import World, age_at, dates_between, to_day

__all__ = ["build_population", "id_numbers", "set_state"]

HUKOU_STATES = ("正常", "死亡", "迁出", "服兵役", "出国（境）定居", "其他注销")
PERSONS_PER_VILLAGE = 250
_SIZE_SHARES = np.array([0.12, 0.18, 0.20, 0.22, 0.15, 0.09, 0.04])


def build_population(rng: np.random.Generator, persons: int, villages: pd.DataFrame, as_of: dt.date) -> World:
    """A World holding `persons` people in hukou households spread over some villages."""
    households = _households(rng, persons, villages)
    people = _people(rng, households, as_of)
    _name_people(rng, people, households, villages)
    _twins(rng, people, to_day(as_of))
    _same_name_neighbours(rng, people)
    people["name"] = people["surname"] + people["given"]
    dots = people["ethnicity"].to_numpy() == "维吾尔族"
    people.loc[dots, "name"] = people.loc[dots, "given"]
    people["id18"], people["id15"] = id_numbers(rng, people)
    _hukou_states(rng, people, as_of)
    return World(as_of=as_of, villages=villages, people=people, households=households)


def _households(rng: np.random.Generator, persons: int, villages: pd.DataFrame) -> pd.DataFrame:
    sizes = rng.choice(np.arange(1, 8), size=persons // 2 + 8, p=_SIZE_SHARES)
    ends = np.cumsum(sizes)
    count = int(np.searchsorted(ends, persons)) + 1
    sizes = sizes[:count]
    sizes[-1] -= int(ends[count - 1]) - persons
    # A small population lives in a few villages, so neighbours share clans and names.
    active = min(len(villages), max(4, persons // PERSONS_PER_VILLAGE))
    chosen = np.sort(rng.choice(len(villages), size=active, replace=False))
    weights = rng.lognormal(0.0, 0.4, size=active)
    village = np.sort(rng.choice(chosen, size=count, p=weights / weights.sum()))
    seq = np.arange(count) - np.searchsorted(village, village)
    codes = villages["code"].to_numpy()[village]
    frame = pd.DataFrame({"village": village, "size": sizes})
    frame["hukou_no"] = pd.Series(codes).str[4:] + pd.Series(seq + 1).astype(str).str.zfill(5)
    frame["start"] = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    frame["head"] = frame["start"]
    frame["county_code"] = villages["county_code"].to_numpy()[village]
    return frame


def _people(rng: np.random.Generator, households: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    sizes = households["size"].to_numpy()
    count_h = len(sizes)
    hh = np.repeat(np.arange(count_h), sizes)
    n = len(hh)
    pos = np.arange(n) - np.repeat(households["start"].to_numpy(), sizes)
    single = sizes == 1
    head_age = np.where(single, 40 + 48 * rng.beta(2.2, 1.5, count_h), 23 + 58 * rng.beta(2.0, 2.0, count_h))
    head_male = rng.random(count_h) < 0.88
    spouse = rng.random(count_h) < 0.88
    three_gen = (head_age >= 50) & (sizes >= 4)
    parent_last = (~three_gen) & (sizes >= 5) & (head_age < 50) & (rng.random(count_h) < 0.5)

    h_age, h_size = head_age[hh], sizes[hh]
    u = rng.random(n)
    relation = np.full(n, "之子", dtype=object)
    relation[pos == 0] = "户主"
    relation[(pos == 1) & spouse[hh]] = "配偶"
    grand = three_gen[hh] & (pos >= 4)
    relation[grand] = "之孙子"
    parent = parent_last[hh] & (pos == h_size - 1) & (pos >= 2)
    relation[parent] = "之父"
    other = (pos >= 2) & ~grand & ~parent & (u < 0.015)
    relation[other] = "其他"

    male = rng.random(n) < 0.52
    male[pos == 0] = head_male[hh][pos == 0]
    is_spouse = relation == "配偶"
    male[is_spouse] = ~head_male[hh][is_spouse]
    relation[(relation == "之子") & ~male] = "之女"
    relation[(relation == "之孙子") & ~male] = "之孙女"
    relation[(relation == "之父") & ~male] = "之母"

    age = h_age.copy()
    age[is_spouse] = h_age[is_spouse] + rng.normal(-2, 3, is_spouse.sum())
    child = np.isin(relation, ["之子", "之女"])
    age[child] = h_age[child] - 21 - rng.uniform(0, 15, child.sum())
    grandchild = np.isin(relation, ["之孙子", "之孙女"])
    age[grandchild] = h_age[grandchild] - 44 - rng.uniform(0, 16, grandchild.sum())
    age[parent] = np.minimum(h_age[parent] + 22 + rng.uniform(0, 12, parent.sum()), 99)
    age[other] = rng.uniform(1, 80, other.sum())
    # A young head's children, born "before" the parent turned 21, are infants instead.
    too_young = age < 0.05
    age[too_young] = rng.uniform(0.05, 2.5, too_young.sum())
    age = np.minimum(age, 99.5)
    birth = to_day(as_of) - np.round(age * 365.2425).astype(np.int64).astype("timedelta64[D]")

    county = households["county_code"].to_numpy()[hh]
    ethnic = np.empty(count_h, dtype=object)
    county_h = households["county_code"].to_numpy()
    for code in np.unique(county_h):
        at = county_h == code
        ethnic[at] = rng.choice(pools.ETHNICITIES, size=at.sum(), p=pools.ethnic_mix(code))
    uyghur = rng.random(count_h) < 0.003
    if not uyghur.any() and (sizes >= 2).any():  # keep at least one transliterated name in every delivery
        uyghur[np.flatnonzero(sizes >= 2)[rng.integers((sizes >= 2).sum())]] = True
    ethnic[uyghur] = "维吾尔族"
    return pd.DataFrame(
        {
            "hh": hh,
            "pos": pos,
            "village": households["village"].to_numpy()[hh],
            "county_code": county,
            "relation": relation,
            "male": male,
            "birth": birth,
            "age": age_at(birth, to_day(as_of)),
            "ethnicity": ethnic[hh],
        }
    )


def _zipf(rng: np.random.Generator, size: int, count: int, slope: float = 0.9) -> np.ndarray:
    weights = 1.0 / np.arange(1, size + 1) ** slope
    return rng.choice(size, size=count, p=weights / weights.sum())


def _name_people(rng: np.random.Generator, people: pd.DataFrame, households: pd.DataFrame, villages: pd.DataFrame) -> None:
    surnames = np.array(pools.all_surnames(), dtype=object)
    probs = pools.surname_probabilities()
    n, count_h = len(people), len(households)
    # Villages are clan places: a few surnames hold most households.
    clans = np.stack([rng.choice(len(surnames), size=4, replace=False, p=probs) for _ in range(len(villages))])
    clan_pick = clans[households["village"].to_numpy(), rng.choice(4, size=count_h, p=[0.4, 0.3, 0.2, 0.1])]
    family = np.where(rng.random(count_h) < 0.6, clan_pick, rng.choice(len(surnames), size=count_h, p=probs))
    # Surnames read unusually (单 shan, 区 ou, …) are rare but must turn up in every delivery.
    for tricky in pools.TRICKY_SURNAMES:
        code = list(surnames).index(tricky)
        if count_h >= 4 * len(pools.TRICKY_SURNAMES) and not (family == code).any():
            family[rng.integers(count_h)] = code
    own = rng.choice(len(surnames), size=n, p=probs)
    hh, relation = people["hh"].to_numpy(), people["relation"].to_numpy()
    takes_family = np.isin(relation, ["户主", "之子", "之女", "之孙子", "之孙女", "之父"])
    people["surname"] = surnames[np.where(takes_family, family[hh], own)]

    male = people["male"].to_numpy()
    given = np.empty(n, dtype=object)
    two = rng.random(n) < 0.72
    for is_male, first, second in ((True, pools.MALE_FIRST, pools.MALE_SECOND), (False, pools.FEMALE_FIRST, pools.FEMALE_SECOND)):
        at = male == is_male
        f = np.array(first, dtype=object)[_zipf(rng, len(first), at.sum())]
        s = np.array(second, dtype=object)[_zipf(rng, len(second), at.sum())]
        given[at] = np.where(two[at], f + s, s)
    people["given"] = given
    for _ in range(4):  # parents do not give two children one name
        again = people.duplicated(["hh", "surname", "given"]).to_numpy()
        if not again.any():
            break
        for is_male, pool in ((True, pools.MALE_SECOND), (False, pools.FEMALE_SECOND)):
            at = again & (male == is_male)
            given[at] = given[at] + np.array(pool, dtype=object)[rng.integers(len(pool), size=at.sum())]
            given[at] = np.array([g[-2:] for g in given[at]], dtype=object)
        people["given"] = given

    uyghur = people["ethnicity"].to_numpy() == "维吾尔族"
    if uyghur.any():
        m_pool, f_pool = np.array(pools.UYGHUR_MALE, dtype=object), np.array(pools.UYGHUR_FEMALE, dtype=object)
        own_given = np.where(male, m_pool[rng.integers(len(m_pool), size=n)], f_pool[rng.integers(len(f_pool), size=n)])
        head_given = own_given[households["head"].to_numpy()[hh]]
        father = np.where(
            np.isin(relation, ["之子", "之女"]) & male[households["head"].to_numpy()[hh]],
            head_given,
            m_pool[rng.integers(len(m_pool), size=n)],
        )
        people.loc[uyghur, "given"] = own_given[uyghur] + "·" + father[uyghur]


def _twins(rng: np.random.Generator, people: pd.DataFrame, day: np.datetime64) -> None:
    """Some households get twins: same birth date, names differing in one character."""
    relation, hh = people["relation"].to_numpy(), people["hh"].to_numpy()
    child = np.isin(relation, ["之子", "之女"])
    given = people["given"].to_numpy()
    two_chars = np.array([len(g) == 2 for g in given])
    pair = np.flatnonzero(
        child[:-1] & child[1:] & (hh[:-1] == hh[1:]) & two_chars[:-1] & (people["ethnicity"].to_numpy()[:-1] != "维吾尔族")
    )
    pair = pair[rng.random(len(pair)) < 0.04]
    pair = pair[np.diff(np.concatenate([[-2], pair])) > 1]  # no person in two twin pairs
    birth, male = people["birth"].to_numpy().copy(), people["male"].to_numpy()
    birth[pair + 1] = birth[pair]
    for a in pair:
        pool = pools.MALE_SECOND if male[a + 1] else pools.FEMALE_SECOND
        second = pool[rng.integers(len(pool))]
        if second == given[a][1]:
            second = pool[(pool.index(second) + 1) % len(pool)]
        given[a + 1] = given[a][0] + second
    people["birth"], people["given"] = birth, given
    people["age"] = age_at(birth, day)


def _same_name_neighbours(rng: np.random.Generator, people: pd.DataFrame) -> None:
    """A few people take the full name of a same-sex neighbour in another household (重名)."""
    order = np.lexsort((people["male"].to_numpy(), people["village"].to_numpy()))
    village, male, hh = (people[c].to_numpy()[order] for c in ("village", "male", "hh"))
    ok = (village[1:] == village[:-1]) & (male[1:] == male[:-1]) & (hh[1:] != hh[:-1])
    ok &= people["ethnicity"].to_numpy()[order][1:] != "维吾尔族"
    ok &= people["ethnicity"].to_numpy()[order][:-1] != "维吾尔族"
    spots = np.flatnonzero(ok)
    spots = spots[rng.random(len(spots)) < 0.006]
    target, donor = order[spots + 1], order[spots]
    for column in ("surname", "given"):
        values = people[column].to_numpy().copy()
        values[target] = values[donor]
        people[column] = values


def id_numbers(rng: np.random.Generator, people: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(18-digit, legacy 15-digit) ID numbers: birth county, birth date, sequence whose parity is
    the sex, GB 11643 check digit; unique per person."""
    n = len(people)
    county = people["county_code"].to_numpy().astype(object)
    # A spouse often married in from another county of the prefecture.
    moved_in = (people["relation"].to_numpy() == "配偶") & (rng.random(n) < 0.15)
    county[moved_in] = rng.choice(people["county_code"].unique(), size=moved_in.sum())
    birth = people["birth"].to_numpy().astype("datetime64[D]")
    days = birth.astype(np.int64)
    male = people["male"].to_numpy()
    key = pd.factorize(county)[0].astype(np.int64) * 200_000 + (days + 50_000)
    order = np.lexsort((rng.random(n), male, key))
    k, m = key[order], male[order]
    new_group = np.concatenate([[True], (k[1:] != k[:-1]) | (m[1:] != m[:-1])])
    group_start = np.maximum.accumulate(np.where(new_group, np.arange(n), 0))
    offset = rng.integers(0, 400, size=n)[group_start]
    sequence = np.empty(n, dtype=np.int64)
    sequence[order] = (offset + np.arange(n) - group_start) % 500
    seq3 = 2 * sequence + male.astype(np.int64)
    ymd = format_dates(birth, 1)
    seq_text = zero_padded(seq3, 3)
    first17 = county + ymd + seq_text
    digits = np.frombuffer("".join(first17).encode("ascii"), dtype=np.uint8).reshape(n, 17) - ord("0")
    id18 = first17 + check_digits(digits).astype(object)
    year, month, day = ymd_of(birth)
    id15 = county + zero_padded(year % 100, 2) + zero_padded(month, 2) + zero_padded(day, 2) + seq_text
    return id18, id15


def _hukou_states(rng: np.random.Generator, people: pd.DataFrame, as_of: dt.date) -> None:
    n = len(people)
    age, male = people["age"].to_numpy(), people["male"].to_numpy()
    u = rng.random(n)
    p_dead = 0.002 + 0.05 * (age >= 75) + 0.02 * ((age >= 65) & (age < 75)) + 0.006 * ((age >= 50) & (age < 65))
    p_moved = np.where((age >= 18) & (age <= 45), 0.03, 0.004)
    p_army = np.where(male & (age >= 18) & (age <= 24), 0.03, 0.0)
    p_abroad = np.where(age >= 18, 0.0006, 0.0)
    edges = np.cumsum(np.stack([p_dead, p_moved, p_army, p_abroad, p_abroad]), axis=0)
    code = (u[None, :] >= edges).sum(axis=0)  # 0 dead … 4 other, 5 normal
    states = np.array([*HUKOU_STATES[1:], HUKOU_STATES[0]], dtype=object)[code]
    states[(people["pos"].to_numpy() == 0) & (states == "服兵役")] = "正常"  # heads stay home in this model
    set_state(rng, people, np.flatnonzero(states != "正常"), states[states != "正常"], as_of)


def set_state(rng: np.random.Generator, people: pd.DataFrame, who: np.ndarray, states: str | np.ndarray, as_of: dt.date) -> None:
    """Give persons a hukou state with a plausible change date and destination."""
    if "state" not in people:
        people["state"] = "正常"
        people["changed_on"] = np.full(len(people), np.datetime64("NaT"), dtype="datetime64[D]")
        people["moved_to"] = ""
    day = to_day(as_of)
    states = np.broadcast_to(np.asarray(states, dtype=object), (len(who),))
    birth = people["birth"].to_numpy()[who]
    earliest = np.maximum(birth + np.timedelta64(1, "D"), day - np.timedelta64(6 * 365, "D"))
    changed = dates_between(rng, earliest, day - np.timedelta64(1, "D"), len(who))
    moved_to = np.full(len(who), "", dtype=object)
    moved = states == "迁出"
    moved_to[moved] = rng.choice(pools.MOVED_TO, size=moved.sum())
    abroad = states == "出国（境）定居"
    moved_to[abroad] = rng.choice(["美国", "加拿大", "泰国", "新加坡", "香港特别行政区"], size=abroad.sum())
    moved_to[states == "服兵役"] = "应征入伍"
    people.loc[who, "state"] = states
    people.loc[who, "changed_on"] = changed
    people.loc[who, "moved_to"] = moved_to
