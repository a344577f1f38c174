"""The probabilistic pass: rows the ID could not settle, scored against the spine (Fellegi–Sunter).

`build_side` derives the columns pipelines.link.people compares and blocks on; `estimate_model` sets
u from random pairs, m from ID-settled pairs and the ID's m by EM (see pipelines.link.people);
`score_candidates` blocks, compares and weighs; `candidate_posteriors` turns a row's candidate
weights into the probability of each being its person; `choose_candidates` keeps the most
probable one and says whether it links, goes to review or neither. Everything is numpy over row
positions; nothing loops over pairs in Python.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from matchers.blocking import build_candidate_pairs, build_random_pairs, make_pairs, pair_positions
from matchers.classification import ComparisonLevels, FellegiSunter
from matchers.comparisons import MISSING, build_comparison_vectors
from pipelines.catalog.feeds import LISTED_FEEDS
from pipelines.link import people

__all__ = ["Scored", "build_listed", "build_side", "candidate_posteriors", "choose_candidates", "score_candidates"]

SIDE_COLUMNS = [
    "row",
    "feed",
    "name_norm",
    "name_pinyin",
    "surname",
    "id_key",
    "id_lead",
    "birth_date",
    "sex",
    "village_code",
    "county",
    "hukou_no",
    "household_hukou_no",
    "pinyin_no_region",
]
# Broken IDs still worth comparing digit by digit; an Excel-mangled one has lost its digits.
_COMPARABLE_BROKEN = ("bad_checksum", "bad_birthdate", "bad_chars", "bad_length")
# An ID Excel turned into a number: 5.22725E+17, or 5.22725199001011E+17 from a float cell.
_MANGLED_NUMBER = re.compile(r"\s*(\d)\.(\d*)[eE]\+?17\s*")


def mangled_lead(raw: str) -> str | None:
    """The leading digits an Excel-mangled ID kept ("5.2273E+17" → "522730": Excel drops trailing
    zeros, so at least six digits are meant); None when `raw` is not such a number."""
    found = _MANGLED_NUMBER.fullmatch(str(raw))
    if not found:
        return None
    return (found.group(1) + found.group(2)).ljust(6, "0")[:17]


def _per_distinct(values: np.ndarray, fn: Callable[[str], str | None]) -> np.ndarray:
    """fn over each distinct non-missing value once; missing stays None."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    lookup = np.array([*(fn(u) for u in uniques), None], dtype=object)
    return lookup[codes]


def _column(rows: pd.DataFrame, name: str, positions: np.ndarray) -> np.ndarray:
    values: np.ndarray = rows[name].to_numpy(dtype=object)[positions]
    return np.where(pd.isna(values), None, values)  # type: ignore[call-overload]  # numpy's stubs leave None out of ArrayLike


def build_side(
    rows: pd.DataFrame, positions: np.ndarray, household_map: pd.Series | None = None, spine: bool = False
) -> pd.DataFrame:
    """SIDE_COLUMNS for the rows at `positions` (`row`: the position): rows to score (with `household_map`, household_ref
    → 户号) or spine rows (`spine=True`: their 户号 is their own; birth date and sex fall back on
    what a valid ID encodes — not for scored rows, whose ID is the doubtful part)."""
    id18 = _column(rows, "id18", positions)
    status = _column(rows, "id_status", positions)
    broken = np.isin(status, _COMPARABLE_BROKEN)
    pinyin = _column(rows, "name_pinyin", positions)
    village = _column(rows, "village_code", positions)
    refs = _column(rows, "household_ref", positions)
    birth, sex = _column(rows, "birth_date", positions), _column(rows, "sex", positions)
    if spine:
        birth = np.where(pd.notna(birth), birth, _column(rows, "id_birth_date", positions))
        sex = np.where(pd.notna(sex), sex, _column(rows, "id_sex", positions))
        hukou_no = _per_distinct(refs, lambda r: r[6:] if r.startswith("hukou:") else None)
        household = np.full(len(positions), None, dtype=object)
        no_region = household
        id_lead = id18
    else:
        hukou_no = np.full(len(positions), None, dtype=object)
        mapped = pd.Series(refs, dtype=object).map(household_map) if household_map is not None else None
        household = np.full(len(positions), None, dtype=object) if mapped is None else mapped.to_numpy(dtype=object)
        household = np.where(pd.isna(household), None, household)  # type: ignore[assignment, arg-type]  # numpy's stubs leave None out of ArrayLike
        no_region = np.where(pd.isna(village), pinyin, None)  # type: ignore[call-overload]  # numpy's stubs leave None out of ArrayLike
        raw = np.where(status == "mangled", _column(rows, "id_raw", positions), None)  # type: ignore[call-overload]  # numpy's stubs leave None out of ArrayLike
        id_lead = _per_distinct(raw, mangled_lead)
    return pd.DataFrame(
        {
            "row": np.asarray(positions, dtype=np.int64),
            "feed": _column(rows, "feed", positions),
            "name_norm": _column(rows, "name_norm", positions),
            "name_pinyin": pinyin,
            "surname": _per_distinct(pinyin, lambda p: p.split(" ", 1)[0]),
            "id_key": np.where(pd.notna(id18), id18, np.where(broken, _column(rows, "id_clean", positions), None)),  # type: ignore[call-overload]  # numpy's stubs leave None out of ArrayLike
            "id_lead": id_lead,
            "birth_date": birth,
            "sex": sex,
            "village_code": village,
            "county": _per_distinct(village, lambda v: v[:6]),
            "hukou_no": hukou_no,
            "household_hukou_no": household,
            "pinyin_no_region": no_region,
        },
        columns=SIDE_COLUMNS,
    )


@dataclass(frozen=True)
class Listed:
    """Which spine rows already hold an ID-settled row of which listed feed (and period)."""

    slot: np.ndarray  # per person row: its (feed, period) code, -1 for feeds not in LISTED_FEEDS
    slot_feed: np.ndarray  # per code: the feed
    held: np.ndarray  # sorted codes spine position * n_slots + slot that ID-settled rows hold
    count: np.ndarray  # how many rows hold each

    @property
    def n_slots(self) -> int:
        return len(self.slot_feed)


def build_listed(rows: pd.DataFrame, anchor: np.ndarray) -> Listed:
    """The slots ID-settled rows (anchor >= 0) hold at their anchors."""
    feeds: np.ndarray = rows["feed"].to_numpy(dtype=object)
    listed = np.isin(feeds, list(LISTED_FEEDS))
    by_period = np.isin(feeds, [f for f, column in LISTED_FEEDS.items() if column])
    period = rows["period"].to_numpy(dtype=object) if "period" in rows else np.full(len(rows), None)
    keys = np.where(listed, feeds, None).astype(object)  # type: ignore[call-overload]  # numpy's stubs leave None out of ArrayLike
    keys[by_period] = feeds[by_period] + "|" + pd.Series(period[by_period], dtype=object).fillna("").to_numpy()
    slot, names = pd.factorize(keys, use_na_sentinel=True)
    slot_feed = np.array([name.split("|", 1)[0] for name in names], dtype=object)
    holders = np.flatnonzero((anchor >= 0) & (slot >= 0))
    held, count = np.unique(anchor[holders] * np.int64(max(len(names), 1)) + slot[holders], return_counts=True)
    return Listed(slot.astype(np.int64), slot_feed, held, count)


def listed_levels(listed: Listed, rows: np.ndarray, spine: np.ndarray, settled: bool = False) -> dict[str, np.ndarray]:
    """Per listed feed, the level of "listed:<feed>" for (row, spine row) position pairs: 0 when the
    spine row holds the row's slot already (not counting the row itself when `settled`), 1 when not,
    -1 for rows of other feeds."""
    slot = listed.slot[rows]
    codes = spine * np.int64(max(listed.n_slots, 1)) + slot
    at = np.minimum(np.searchsorted(listed.held, codes), max(len(listed.held) - 1, 0))
    count = np.where((slot >= 0) & (len(listed.held) > 0) & (listed.held[at] == codes), listed.count[at], 0)
    if settled:
        count = count - 1
    levels = np.where(count > 0, 0, 1).astype(np.int8)
    feed = np.where(slot >= 0, listed.slot_feed[np.maximum(slot, 0)], None)
    return {people.listed_comparison(name): np.where(feed == name, levels, MISSING).astype(np.int8) for name in LISTED_FEEDS}


def listed_u(listed: Listed, rows: np.ndarray, spine_size: int) -> dict[str, tuple[float, float]]:
    """Per listed feed, u of "listed:<feed>" worked out instead of sampled: the share of spine
    rows holding a row's slot, averaged over the feed's `rows` — what a random spine row shows."""
    n_slots = max(listed.n_slots, 1)
    holders = np.bincount(listed.held % n_slots, minlength=listed.n_slots)
    slot = listed.slot[rows]
    slot = slot[slot >= 0]
    shares = holders[slot] / max(spine_size, 1)
    feeds = listed.slot_feed[slot]
    found = {}
    for feed in LISTED_FEEDS:
        of_feed = shares[feeds == feed]
        if len(of_feed):
            taken = float(np.clip(of_feed.mean(), 1e-6, 1 - 1e-6))
            found[people.listed_comparison(feed)] = (taken, 1.0 - taken)
    return found


def _mask(gamma: pd.DataFrame, feeds: np.ndarray) -> pd.DataFrame:
    """Comparisons a feed does not take part in are missing (weight 0) for its rows."""
    for feed in pd.unique(feeds):
        skipped = [name for name in gamma.columns if name not in people.comparisons_for(feed)]
        if skipped:
            rows = feeds == feed
            for name in skipped:
                levels = gamma[name].to_numpy().copy()
                levels[rows] = MISSING
                gamma[name] = levels
    return gamma


def compare_pairs(
    pairs: pd.MultiIndex, left: pd.DataFrame, right: pd.DataFrame, listed: Listed, settled: bool = False
) -> pd.DataFrame:
    """Levels of every comparison (people.comparison_levels) for (left, right) pairs, masked per
    feed, on a RangeIndex. `settled`: the left rows are the right rows' ID-settled rows."""
    gamma = build_comparison_vectors(pairs, left, right, list(people.COMPARISONS)).reset_index(drop=True)
    a, b = pair_positions(pairs, left, right)
    found = listed_levels(listed, left["row"].to_numpy()[a], right["row"].to_numpy()[b], settled)
    for name, levels in found.items():
        gamma[name] = levels
    return _mask(gamma, left["feed"].to_numpy(dtype=object)[a])


def _smoothed(gamma: pd.DataFrame, name: str, n_levels: int, default: Sequence[float] | np.ndarray, pseudo: float) -> np.ndarray:
    levels = gamma[name].to_numpy()
    counts = np.bincount(levels[levels >= 0], minlength=n_levels).astype(np.float64)
    counts += pseudo * np.asarray(default, dtype=np.float64)
    return counts / counts.sum()


def estimate_model(
    settled: pd.DataFrame,
    random: pd.DataFrame,
    candidates: pd.DataFrame,
    prior: float,
    known_u: Mapping[str, Sequence[float]] | None = None,
    top_u: dict[str, float] | None = None,
) -> FellegiSunter:
    """The night's model from gamma frames of ID-settled pairs, random pairs and candidate pairs
    (pipelines.link.people explains which estimate comes from where); λ = `prior`, fixed; `known_u`
    replaces the random-pair u of some comparisons; `top_u` the u of some comparisons' strongest
    level only (the other levels keep their proportions)."""
    model = FellegiSunter([ComparisonLevels(name, labels) for name, labels in people.comparison_levels()], prior=prior)
    model.fixed_prior = True
    tops = {c.name: c.n_levels - 1 for c in model.comparisons}
    for comparison in model.comparisons:
        name, k = comparison.name, comparison.n_levels
        if known_u and name in known_u:
            u = np.asarray(known_u[name], dtype=np.float64)
        else:
            u = _smoothed(random, name, k, people.DEFAULT_U[name], people.U_PSEUDO)
        if top_u and name in top_u:
            u = np.asarray(u, dtype=np.float64).copy()
            u[:-1] *= (1.0 - top_u[name]) / u[:-1].sum()
            u[-1] = top_u[name]
        m: Sequence[float] | np.ndarray = people.DEFAULT_M[name]
        if name in people.SETTLED_M:
            condition = people.SETTLED_M[name]
            chosen = settled if condition is None else settled[settled[condition].to_numpy() == tops[condition]]
            m = _smoothed(chosen, name, k, m, people.M_PSEUDO)
        model.fix(name, m=None if name in people.EM_M else m, u=u)
        if name in people.EM_M:
            model.m[name] = np.asarray(m, dtype=np.float64)
    model.fit(candidates, max_iterations=people.MAX_ITERATIONS)
    return model


def term_frequency_u(gamma: pd.DataFrame, right: pd.DataFrame, b: np.ndarray) -> dict[str, np.ndarray]:
    """Per comparison in people.TERM_FREQUENCIES: per pair, the share of spine rows holding the
    spine row's value where the pair's level uses term frequencies, else NaN."""
    found = {}
    for name, columns in people.TERM_FREQUENCIES.items():
        u = np.full(len(gamma), np.nan)
        levels = gamma[name].to_numpy()
        for level, column in columns.items():
            codes, _ = pd.factorize(right[column], use_na_sentinel=True)
            counts = np.bincount(codes[codes >= 0], minlength=codes.max(initial=-1) + 1)
            at = np.flatnonzero((levels == level) & (codes[b] >= 0))
            u[at] = counts[codes[b[at]]] / max(len(right), 1)
        found[name] = u
    return found


@dataclass
class Scored:
    """Candidate pairs (positions into left and right), their gamma levels, term-frequency u
    (NaN where none) and weights."""

    a: np.ndarray
    b: np.ndarray
    gamma: pd.DataFrame
    tf_u: dict[str, np.ndarray]
    weights: np.ndarray
    model: FellegiSunter
    seconds: dict[str, float] = field(default_factory=dict)


def _drop_forbidden(a: np.ndarray, b: np.ndarray, forbidden: AbstractSet[tuple[int, int]]) -> np.ndarray:
    if not forbidden:
        return np.ones(len(a), dtype=bool)
    width = np.int64(max(int(b.max(initial=0)) + 1, 1))
    banned = np.array([x * width + y for x, y in forbidden if y < width], dtype=np.int64)
    return ~np.isin(a.astype(np.int64) * width + b, banned)


def score_candidates(
    left: pd.DataFrame,
    right: pd.DataFrame,
    settled: tuple[pd.DataFrame, pd.DataFrame],
    random_left: pd.DataFrame,
    listed: Listed,
    prior: float,
    forbidden: AbstractSet[tuple[int, int]] = frozenset(),
    top_u: dict[str, float] | None = None,
    right_only: tuple[np.ndarray, np.ndarray] | None = None,
) -> Scored:
    """Block `left` against the spine `right` (people.BLOCKING_RULES), compare, estimate the
    model and weigh every candidate pair.

    `settled`: (rows, their hukou rows) frames, aligned; `random_left`: rows to draw random pairs
    from; `listed`: the slots ID-settled rows hold (build_listed); `forbidden`: (left, right)
    positions a reviewer said are different persons; `top_u`: see estimate_model; `right_only`:
    (left rows, right rows) boolean masks — the marked left rows may only pair with marked right
    rows.
    """
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[stage] = round(now - clock, 3)
        clock = now

    pairs = build_candidate_pairs(left, right, people.BLOCKING_RULES)
    a, b = pair_positions(pairs, left, right)
    keep = _drop_forbidden(a, b, forbidden)
    if right_only is not None:
        restricted, allowed = right_only
        keep &= ~restricted[a] | allowed[b]
    pairs, a, b = pairs[keep], a[keep], b[keep]
    lap("blocking")
    gamma = compare_pairs(pairs, left, right, listed)
    lap("comparing")
    settled_left, settled_right = settled
    aligned = np.arange(len(settled_left), dtype=np.int64)
    settled_pairs = make_pairs(aligned, aligned, settled_left, settled_right)
    settled_gamma = compare_pairs(settled_pairs, settled_left, settled_right, listed, settled=True)
    random_pairs = build_random_pairs(random_left, right, people.RANDOM_PAIRS, people.SEED)
    random_gamma = compare_pairs(random_pairs, random_left, right, listed)
    lap("estimating")
    feed_rows = np.concatenate([left["row"].to_numpy(), settled_left["row"].to_numpy()])
    model = estimate_model(settled_gamma, random_gamma, gamma, prior, listed_u(listed, feed_rows, len(right)), top_u)
    lap("fitting")
    tf_u = term_frequency_u(gamma, right, b)
    weights = model.match_weights(gamma, tf_u).to_numpy()
    lap("scoring")
    return Scored(a, b, gamma, tf_u, weights, model, seconds)


def candidate_posteriors(a: np.ndarray, weights: np.ndarray, n_left: int, none_weight: float) -> np.ndarray:
    """Per pair: the probability that its spine row is the left row's person, given all of that
    row's candidates — 2^w / (2^none_weight + Σ over the row's candidates 2^w).

    A row is at most one spine person; `none_weight` stands for "none of these candidates" (the
    person is missing from the spine, or blocking missed them). With λ = 1/N in the weights the
    spine size cancels out, so a unique candidate agreeing on name and village is nearly certain
    while two such candidates (重名) share the probability.
    """
    if not len(a):
        return np.zeros(0)
    top = np.full(n_left, none_weight)
    np.maximum.at(top, a, weights)
    scaled = np.exp2(weights - top[a])
    total = np.exp2(none_weight - top)
    np.add.at(total, a, scaled)
    return scaled / total[a]


def choose_candidates(a: np.ndarray, posteriors: np.ndarray, n_left: int) -> tuple[np.ndarray, np.ndarray]:
    """Per left row: (index of its most probable pair or -1, "link" | "review" | "none").

    A row links when that pair's posterior reaches people.UPPER; from people.LOWER up it is for review.
    """
    best = np.full(n_left, -1, dtype=np.int64)
    decision = np.full(n_left, "none", dtype=object)
    if not len(a):
        return best, decision
    order = np.lexsort((-posteriors, a))
    sorted_a = a[order]
    first = np.flatnonzero(np.r_[True, sorted_a[1:] != sorted_a[:-1]])
    best[sorted_a[first]] = order[first]
    found = best >= 0
    best_posterior = np.where(found, posteriors[np.maximum(best, 0)], 0.0)
    decision[found & (best_posterior >= people.LOWER)] = "review"
    decision[found & (best_posterior >= people.UPPER)] = "link"
    return best, decision
