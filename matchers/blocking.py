"""Candidate pairs from blocking rules declared as data.

A rule says which record pairs are worth comparing; `build_candidate_pairs` takes the union of
all rules. Rules:

- `Block(on=[...])`: the pair agrees exactly on every key (`right_on` names other columns on the
  right, e.g. given name against surname to catch swapped names).
- `Prefix(on=col, length=n)` / `Suffix(...)` / `Substring(on=col, start=i, stop=j)`: the pair
  agrees on the first / last n characters, or on characters i..j. They are keys too, so
  `Block(on=["sex", Prefix("id18", 9)])` works. Cut an 18-digit ID into three parts — region
  [0:6], birth date [6:14], sequence and check [14:18] — and block on each two of them
  (`Prefix(id, 14)`, `Suffix(id, 12)`, `Block(on=[Prefix(id, 6), Suffix(id, 4)])`): a one-digit
  typo, or a transposition inside one part, leaves two parts intact, so one rule still pairs the
  records, while every block stays small.
- `SortedNeighbourhood(on=col, window=w)`: recordlinkage's sorted neighbourhood — the pair's
  sorting keys are at most (w - 1) / 2 apart in the sorted list of distinct key values.

Missing keys (None, NaN, "") never block: an empty name must not pair everyone with everyone.
Joins are numpy sort/searchsorted on factorised keys — no per-pair Python. Pairs come back as a
MultiIndex whose levels are the frames' own indexes and whose codes are row positions; for
deduplication only pairs with the first position lower than the second (i < j).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import recordlinkage
from recordlinkage.base import BaseIndexAlgorithm

__all__ = [
    "Block",
    "Key",
    "Prefix",
    "Rule",
    "RulesIndex",
    "SortedNeighbourhood",
    "Substring",
    "Suffix",
    "build_candidate_pairs",
    "build_random_pairs",
    "build_rule_pairs",
    "make_pairs",
    "pair_positions",
]


@dataclass(frozen=True)
class Prefix:
    """The first `length` characters of column `on` (`right_on` on the right, if given)."""

    on: str
    length: int
    right_on: str | None = None

    def values(self, frame: pd.DataFrame, side: int) -> pd.Series:
        column = self.on if side == 0 or self.right_on is None else self.right_on
        return _as_text(frame[column]).str[: self.length]


@dataclass(frozen=True)
class Suffix:
    """The last `length` characters of column `on` (`right_on` on the right, if given)."""

    on: str
    length: int
    right_on: str | None = None

    def values(self, frame: pd.DataFrame, side: int) -> pd.Series:
        column = self.on if side == 0 or self.right_on is None else self.right_on
        return _as_text(frame[column]).str[-self.length :]


@dataclass(frozen=True)
class Substring:
    """Characters `start` to `stop` (Python slice) of column `on` (`right_on` on the right)."""

    on: str
    start: int
    stop: int | None = None
    right_on: str | None = None

    def values(self, frame: pd.DataFrame, side: int) -> pd.Series:
        column = self.on if side == 0 or self.right_on is None else self.right_on
        return _as_text(frame[column]).str[self.start : self.stop]


Key = str | Prefix | Suffix | Substring


@dataclass(frozen=True)
class Block:
    """Pairs agreeing on every key in `on` (left) against `right_on` (right; default `on`)."""

    on: Key | Sequence[Key]
    right_on: Key | Sequence[Key] | None = None


@dataclass(frozen=True)
class SortedNeighbourhood:
    """Pairs whose sorting keys lie within a window of `window` (odd) distinct sorted values,
    and which agree exactly on `block_on`."""

    on: Key
    window: int = 3
    block_on: Sequence[Key] = ()
    right_on: Key | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.window, int) or self.window < 1 or self.window % 2 == 0:
            raise ValueError(f"排序邻域的窗口须为正奇数，收到 {self.window!r}")


Rule = Block | Prefix | Suffix | Substring | SortedNeighbourhood


def _as_text(values: pd.Series) -> pd.Series:
    out = values.astype(object).where(values.notna(), None)
    if pd.api.types.infer_dtype(out, skipna=True) in ("string", "empty"):
        return out
    return out.map(lambda v: v if v is None or isinstance(v, str) else str(v))


def _key_values(key: Key, frame: pd.DataFrame, side: int) -> pd.Series:
    if isinstance(key, str):
        return frame[key]
    return key.values(frame, side)


def _listify(keys: Key | Sequence[Key] | None) -> list[Key]:
    if keys is None:
        return []
    if isinstance(keys, (str, Prefix, Suffix, Substring)):
        return [keys]
    return list(keys)


def _factorise_pair(left: pd.Series, right: pd.Series) -> tuple[np.ndarray, np.ndarray, int]:
    """Shared integer codes for two key columns; missing and "" give -1."""
    both = pd.concat([left.reset_index(drop=True), right.reset_index(drop=True)], ignore_index=True)
    both = both.where(both.ne("") & both.notna())
    codes, uniques = pd.factorize(both, use_na_sentinel=True)
    return codes[: len(left)].astype(np.int64), codes[len(left) :].astype(np.int64), len(uniques)


def _combine(columns: list[tuple[np.ndarray, np.ndarray, int]]) -> tuple[np.ndarray, np.ndarray]:
    """One int64 code per row from several factorised columns; -1 if any part is missing."""
    left, right, _ = columns[0]
    for next_left, next_right, next_size in columns[1:]:
        left = np.where((left < 0) | (next_left < 0), -1, left * next_size + next_left)
        right = np.where((right < 0) | (next_right < 0), -1, right * next_size + next_right)
        # Re-factorise so the radix product never overflows int64.
        joined = np.concatenate([left, right])
        both = np.where(joined < 0, -1, pd.factorize(joined)[0])
        left, right = both[: len(left)], both[len(left) :]
    return left, right


def _equi_join(left_codes: np.ndarray, right_codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row positions (a, b) with left_codes[a] == right_codes[b] >= 0."""
    right_rows = np.flatnonzero(right_codes >= 0)
    order = right_rows[np.argsort(right_codes[right_rows], kind="stable")]
    sorted_codes = right_codes[order]
    left_rows = np.flatnonzero(left_codes >= 0)
    wanted = left_codes[left_rows]
    start = np.searchsorted(sorted_codes, wanted, side="left")
    counts = np.searchsorted(sorted_codes, wanted, side="right") - start
    total = int(counts.sum())
    a = np.repeat(left_rows, counts)
    offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    b = order[np.repeat(start, counts) + offsets]
    return a.astype(np.int64), b.astype(np.int64)


def _block_pairs(rule: Block, left: pd.DataFrame, right: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    left_keys = _listify(rule.on)
    right_keys = _listify(rule.right_on) or left_keys
    if not left_keys or len(left_keys) != len(right_keys):
        raise ValueError(f"分块规则的左右键数目不符：{rule!r}")
    columns = [
        _factorise_pair(_key_values(lk, left, 0), _key_values(rk, right, 1)) for lk, rk in zip(left_keys, right_keys, strict=True)
    ]
    return _equi_join(*_combine(columns))


def _sorted_neighbourhood_pairs(
    rule: SortedNeighbourhood, left: pd.DataFrame, right: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    left_sort = _key_values(rule.on, left, 0)
    right_sort = _key_values(rule.right_on if rule.right_on is not None else rule.on, right, 1)
    # Rank among the sorted distinct values of both sides, as recordlinkage does.
    both = pd.concat([left_sort.reset_index(drop=True), right_sort.reset_index(drop=True)], ignore_index=True)
    both = both.where(both.ne("") & both.notna())
    ranks, _ = pd.factorize(both, sort=True, use_na_sentinel=True)
    left_rank, right_rank = ranks[: len(left)].astype(np.int64), ranks[len(left) :].astype(np.int64)
    blocks = [_factorise_pair(_key_values(k, left, 0), _key_values(k, right, 1)) for k in _listify(rule.block_on)]
    half = (rule.window - 1) // 2
    span = int(max(left_rank.max(initial=-1), right_rank.max(initial=-1))) + 2 * half + 1
    found_a, found_b = [], []
    for lag in range(-half, half + 1):
        shifted = np.where(right_rank < 0, -1, right_rank + lag + half)
        columns = [(np.where(left_rank < 0, -1, left_rank + half), shifted, span), *blocks]
        a, b = _equi_join(*_combine(columns))
        found_a.append(a)
        found_b.append(b)
    return np.concatenate(found_a), np.concatenate(found_b)


def _rule_positions(rule: Rule, left: pd.DataFrame, right: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(rule, (Prefix, Suffix, Substring)):
        return _block_pairs(Block(on=rule), left, right)
    if isinstance(rule, Block):
        return _block_pairs(rule, left, right)
    if isinstance(rule, SortedNeighbourhood):
        return _sorted_neighbourhood_pairs(rule, left, right)
    raise TypeError(f"未知的分块规则：{rule!r}")


def _check_index(frame: pd.DataFrame) -> None:
    if isinstance(frame.index, pd.MultiIndex) or not frame.index.is_unique:
        raise ValueError("记录的索引必须唯一且为单层索引")


def _pair_names(left: pd.DataFrame, right: pd.DataFrame) -> list:
    a, b = left.index.name, right.index.name
    if a is not None and a == b:
        return [f"{a}_1", f"{b}_2"]
    return [a, b]


def make_pairs(a: np.ndarray, b: np.ndarray, left: pd.DataFrame, right: pd.DataFrame | None = None) -> pd.MultiIndex:
    """A pairs MultiIndex from row positions into `left` and `right` (or `left` again)."""
    right = left if right is None else right
    return pd.MultiIndex(
        levels=[left.index, right.index],
        codes=[np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)],
        names=_pair_names(left, right),
        verify_integrity=False,
    )


def _unique_pairs(a: np.ndarray, b: np.ndarray, n_right: int) -> tuple[np.ndarray, np.ndarray]:
    codes = np.unique(a * np.int64(n_right) + b)
    return codes // n_right, codes % n_right


def build_rule_pairs(left: pd.DataFrame, right: pd.DataFrame | None, rule: Rule) -> pd.MultiIndex:
    """The candidate pairs of one rule (sorted, deduplicated; i < j when deduplicating)."""
    return build_candidate_pairs(left, right, [rule])


class RulesIndex(BaseIndexAlgorithm):
    """The union of blocking rules as one recordlinkage index algorithm, so `recordlinkage.Index`
    drives the blocking (one algorithm: recordlinkage's own union of several MultiIndexes would
    cost more than the blocking itself on millions of pairs)."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        super().__init__(verify_integrity=False)
        self.rules = tuple(rules)

    def _link_index(self, df_a: pd.DataFrame, df_b: pd.DataFrame) -> pd.MultiIndex:
        return _union_pairs(df_a, df_b, self.rules)

    def _dedup_index(self, df_a: pd.DataFrame) -> pd.MultiIndex:
        return _union_pairs(df_a, None, self.rules)


def build_candidate_pairs(left: pd.DataFrame, right: pd.DataFrame | None, rules: Sequence[Rule]) -> pd.MultiIndex:
    """The union of the rules' pairs, each pair once, sorted by (left, right) row position, made
    by `recordlinkage.Index` with the rules as its algorithm (RulesIndex).

    With `right=None` the pairs are within `left` (deduplication): never a record with itself,
    and each unordered pair once as (i, j) with position i < j.
    """
    if not rules:
        raise ValueError("至少需要一条分块规则")
    if len(left) == 0 or (right is not None and len(right) == 0):
        return _union_pairs(left, right, rules)  # recordlinkage's statistics would divide by zero
    indexer = recordlinkage.Index()
    indexer.add(RulesIndex(rules))
    return indexer.index(left) if right is None else indexer.index(left, right)


def _union_pairs(left: pd.DataFrame, right: pd.DataFrame | None, rules: Sequence[Rule]) -> pd.MultiIndex:
    _check_index(left)
    dedup = right is None
    other = left if right is None else right
    _check_index(other)
    found_a, found_b = [], []
    for rule in rules:
        a, b = _rule_positions(rule, left, other)
        if dedup:
            keep = a != b
            a, b = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
        found_a.append(a)
        found_b.append(b)
    a, b = _unique_pairs(np.concatenate(found_a), np.concatenate(found_b), max(len(other), 1))
    return make_pairs(a, b, left, other)


def build_random_pairs(left: pd.DataFrame, right: pd.DataFrame | None, n: int, seed: int) -> pd.MultiIndex:
    """About `n` distinct random pairs (i < j when deduplicating), e.g. to estimate u probabilities."""
    rng = np.random.default_rng(seed)
    other = left if right is None else right
    if len(left) == 0 or len(other) == 0:  # nothing to draw from (e.g. a night with one feed)
        n = 0
    a = rng.integers(0, max(len(left), 1), n, dtype=np.int64)
    b = rng.integers(0, max(len(other), 1), n, dtype=np.int64)
    if right is None:
        keep = a != b
        a, b = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
    a, b = _unique_pairs(a, b, max(len(other), 1))
    return make_pairs(a, b, left, other)


def pair_positions(pairs: pd.MultiIndex, left: pd.DataFrame, right: pd.DataFrame | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of each pair's two records; raises if a label is not in its frame."""
    right = left if right is None else right
    positions = []
    for level, frame in ((0, left), (1, right)):
        if pairs.levels[level].equals(frame.index):
            # Our own pairs: codes already are positions (and unused levels are never dropped).
            found = np.asarray(pairs.codes[level], dtype=np.int64)
        else:
            found = frame.index.get_indexer(pairs.get_level_values(level)).astype(np.int64)
        if (found < 0).any():
            raise KeyError("记录对中有不在数据中的记录标识")
        positions.append(found)
    return positions[0], positions[1]
