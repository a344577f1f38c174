"""Comparison levels (gamma vectors) for record pairs, from comparisons declared as data.

Each `ComparisonSpec` turns a pair of values into an int8 level: -1 when either value is missing
(None, NaN, NaT or blank text; it will carry weight 0), 0 for "disagree", and 1..k for agreement
levels, k the strongest. `levels` means, per method:

- "exact": nothing; 1 = equal.
- "jaro_winkler": similarity thresholds, strongest first, e.g. (1.0, 0.95, 0.88) gives
  3 = identical, 2 = >= 0.95, 1 = >= 0.88.
- "levenshtein" / "damerau_levenshtein": edit distances, smallest first, e.g. (0, 1, 2) gives
  3 = identical, 2 = one edit, 1 = two edits. Damerau counts an adjacent transposition as one edit.
- "numeric": absolute differences, smallest first, e.g. (0, 5); values that are not numbers on
  both sides fall back to text equality (equal text = strongest level).
- "prefix": how many leading characters agree, longest first, e.g. (12, 9, 6) on region codes
  gives 3 = same village, 2 = same township, 1 = same county.
- "date": checks, strongest first, from DATE_CHECKS: "exact", "day_month_swap" (same year, day and
  month exchanged), "one_digit" (one digit of YYYYMMDD differs), "transposed_digits" (two adjacent
  digits exchanged). Dates are compared as their digits, so 1990-01-02 and 19900102 are equal.

A `Cascade` makes one comparison out of several, strongest first (Splink's comparison levels):
e.g. name characters identical (4), else the same pinyin (3), else similar characters (2), else
similar pinyin (1), else 0. A model then weighs the levels as one field, so agreeing characters
and agreeing pinyin are never counted twice.

String distances use rapidfuzz's vectorised `cpdist`, run once per distinct pair of values, inside
a recordlinkage `BaseCompareFeature`, so `recordlinkage.Compare` drives the comparing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import recordlinkage
from rapidfuzz.distance import OSA, DamerauLevenshtein, Hamming, JaroWinkler, Levenshtein
from rapidfuzz.process import cpdist
from recordlinkage.base import BaseCompareFeature

__all__ = [
    "DATE_CHECKS",
    "METHODS",
    "MISSING",
    "Cascade",
    "CascadeFeature",
    "Comparison",
    "ComparisonSpec",
    "LevelFeature",
    "build_comparison_vectors",
    "cascade_levels",
    "compare_levels",
]

METHODS = ("exact", "jaro_winkler", "levenshtein", "damerau_levenshtein", "numeric", "prefix", "date")
DATE_CHECKS = ("exact", "day_month_swap", "one_digit", "transposed_digits")
MISSING = -1

_DATE_LABELS = {
    "exact": "完全一致",
    "day_month_swap": "日月颠倒",
    "one_digit": "一位数字不同",
    "transposed_digits": "相邻数字颠倒",
}
_DISTANCES: dict[str, Callable[..., int]] = {
    "levenshtein": Levenshtein.distance,
    "damerau_levenshtein": DamerauLevenshtein.distance,
}


@dataclass(frozen=True)
class ComparisonSpec:
    """One comparison: column `left` against column `right` (default the same name) by `method`."""

    name: str
    left: str
    right: str | None = None
    method: str = "exact"
    levels: tuple = ()
    labels: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"比较“{self.name}”的方法 {self.method!r} 不在 {METHODS} 之中")
        object.__setattr__(self, "levels", tuple(self.levels))
        if self.method == "exact" and self.levels:
            raise ValueError(f"比较“{self.name}”为完全一致比较，不设级别")
        if self.method != "exact" and not self.levels:
            raise ValueError(f"比较“{self.name}”需要至少一个级别")
        if self.method == "date" and not set(self.levels) <= set(DATE_CHECKS):
            raise ValueError(f"比较“{self.name}”的日期级别须取自 {DATE_CHECKS}")
        if self.method == "jaro_winkler" and list(self.levels) != sorted(self.levels, reverse=True):
            raise ValueError(f"比较“{self.name}”的相似度阈值须从高到低排列")
        if self.method == "prefix" and (
            list(self.levels) != sorted(set(self.levels), reverse=True)
            or not all(isinstance(v, int) and v > 0 for v in self.levels)
        ):
            raise ValueError(f"比较“{self.name}”的前缀长度须为正整数、从长到短排列")
        if self.method in ("levenshtein", "damerau_levenshtein", "numeric") and list(self.levels) != sorted(self.levels):
            raise ValueError(f"比较“{self.name}”的距离阈值须从小到大排列")
        if self.labels is not None and len(self.labels) != self.n_levels:
            raise ValueError(f"比较“{self.name}”的级别标签须有 {self.n_levels} 个（含“不一致”）")

    @property
    def right_column(self) -> str:
        return self.left if self.right is None else self.right

    @property
    def n_levels(self) -> int:
        """Levels 0..k, missing (-1) not counted."""
        return 2 if self.method == "exact" else len(self.levels) + 1

    def level_labels(self) -> dict[int, str]:
        """Label of every level, -1 (missing) included, for `explain`."""
        if self.labels is not None:
            agreeing = list(self.labels)
        else:
            agreeing = (
                ["不一致", *reversed([self._label(v) for v in self.levels])]
                if self.levels
                else [
                    "不一致",
                    "完全一致",
                ]
            )
        return {MISSING: "缺失", **dict(enumerate(agreeing))}

    def _label(self, value) -> str:
        if self.method == "date":
            return _DATE_LABELS[value]
        if self.method == "jaro_winkler":
            return "完全一致" if value >= 1 else f"Jaro-Winkler 相似度 ≥ {value:g}"
        if self.method == "numeric":
            return "完全一致" if value == 0 else f"相差 ≤ {value:g}"
        if self.method == "prefix":
            return f"前 {value} 位相同"
        return "完全一致" if value == 0 else f"编辑距离 ≤ {value:g}"


@dataclass(frozen=True)
class Cascade:
    """One comparison made of steps (spec, level), strongest first: a pair takes level k for the
    first step whose spec reaches that level (k = number of steps for the first step, 1 for the
    last), 0 when none does, and -1 (missing) when every step's values are missing."""

    name: str
    steps: tuple[tuple[ComparisonSpec, int], ...]
    labels: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", tuple((spec, int(level)) for spec, level in self.steps))
        if not self.steps:
            raise ValueError(f"组合比较“{self.name}”至少需要一步")
        for spec, level in self.steps:
            if not 1 <= level < spec.n_levels:
                raise ValueError(f"组合比较“{self.name}”中“{spec.name}”的级别须在 1 到 {spec.n_levels - 1} 之间")
        if self.labels is not None and len(self.labels) != self.n_levels:
            raise ValueError(f"组合比较“{self.name}”的级别标签须有 {self.n_levels} 个（含“不一致”）")

    @property
    def n_levels(self) -> int:
        return len(self.steps) + 1

    @property
    def specs(self) -> list[ComparisonSpec]:
        """The distinct specs of the steps, in order."""
        return list(dict.fromkeys(spec for spec, _ in self.steps))

    def level_labels(self) -> dict[int, str]:
        if self.labels is not None:
            agreeing = list(self.labels)
        else:
            steps = [f"{spec.name}{spec.level_labels()[level]}" for spec, level in reversed(self.steps)]
            agreeing = ["不一致", *steps]
        return {MISSING: "缺失", **dict(enumerate(agreeing))}


Comparison = ComparisonSpec | Cascade


# --- value preparation ------------------------------------------------------------------------


def _distinct(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes.astype(np.int64), pd.Index(uniques)


def _texts(uniques: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values as text, and which of them are blank."""
    texts = np.array([v if isinstance(v, str) else str(v) for v in uniques], dtype=object)
    blank = np.array([not t.strip() for t in texts], dtype=bool)
    return texts, blank


def _date_digits(uniques: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    if len(uniques) and isinstance(uniques, pd.DatetimeIndex):
        texts = np.asarray(uniques.strftime("%Y%m%d"), dtype=object)
    else:
        texts = np.array(
            [v.strftime("%Y%m%d") if hasattr(v, "strftime") else "".join(c for c in str(v) if c.isdigit()) for v in uniques],
            dtype=object,
        )
    blank = np.array([not t for t in texts], dtype=bool)
    return texts, blank


def _on_distinct_pairs(
    a: pd.Series,
    b: pd.Series,
    prepare: Callable[[pd.Index], tuple[np.ndarray, np.ndarray]],
    levels_of: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> np.ndarray:
    """Levels per pair, each distinct (value, value) pair worked out once."""
    codes_a, uniques_a = _distinct(a)
    codes_b, uniques_b = _distinct(b)
    values_a, blank_a = prepare(uniques_a)
    values_b, blank_b = prepare(uniques_b)
    missing = (codes_a < 0) | (codes_b < 0)
    missing[~missing] = blank_a[codes_a[~missing]] | blank_b[codes_b[~missing]]
    result = np.full(len(codes_a), MISSING, dtype=np.int8)
    present = np.flatnonzero(~missing)
    if len(present):
        joint = codes_a[present] * np.int64(len(uniques_b)) + codes_b[present]
        inverse, distinct = pd.factorize(joint)
        first_a, first_b = distinct // len(uniques_b), distinct % len(uniques_b)
        levels = levels_of(values_a[first_a], values_b[first_b]).astype(np.int8)
        result[present] = levels[inverse]
    return result


# --- levels per method --------------------------------------------------------------------------


def _levels_by_score(scores: np.ndarray, thresholds: Sequence[float], higher_is_better: bool) -> np.ndarray:
    k = len(thresholds)
    out = np.zeros(len(scores), dtype=np.int8)
    # Weakest threshold first, so the strongest one met overwrites.
    for rank, threshold in reversed(list(enumerate(thresholds))):
        met = scores >= threshold if higher_is_better else scores <= threshold
        out[met] = k - rank
    return out


def _exact_levels(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (x == y).astype(np.int8)


def _jaro_winkler_levels(thresholds: Sequence[float]) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    def levels(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        scores = cpdist(x, y, scorer=JaroWinkler.normalized_similarity, dtype=np.float64, workers=-1).ravel()
        # JW 1.0 already means identical; equality is checked too so a 1.0 threshold is exact.
        scores[x == y] = 1.0
        return _levels_by_score(scores, thresholds, higher_is_better=True)

    return levels


def _edit_levels(method: str, thresholds: Sequence[int]) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    scorer = _DISTANCES[method]

    def levels(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        distances = cpdist(x, y, scorer=scorer, dtype=np.int32, workers=-1).ravel()
        return _levels_by_score(distances, thresholds, higher_is_better=False)

    return levels


def _numeric_levels(thresholds: Sequence[float]) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    def levels(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        nx = pd.to_numeric(pd.Series(x, dtype=object).str.strip(), errors="coerce").to_numpy(dtype=np.float64)
        ny = pd.to_numeric(pd.Series(y, dtype=object).str.strip(), errors="coerce").to_numpy(dtype=np.float64)
        numeric = ~np.isnan(nx) & ~np.isnan(ny)
        out = np.where(x == y, len(thresholds), 0).astype(np.int8)
        out[numeric] = _levels_by_score(np.abs(nx - ny)[numeric], thresholds, higher_is_better=False)
        return out

    return levels


def _prefix_levels(lengths: Sequence[int]) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    width = max(lengths)

    def levels(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        # Fixed-width code points (longer texts cut, shorter ones padded with 0) compared column-wise.
        px = np.array(x.tolist(), dtype=f"<U{width}").view(np.uint32).reshape(len(x), width)
        py = np.array(y.tolist(), dtype=f"<U{width}").view(np.uint32).reshape(len(y), width)
        common = np.cumprod((px == py) & (px != 0), axis=1).sum(axis=1)
        return _levels_by_score(common, lengths, higher_is_better=True)

    return levels


def _date_levels(checks: Sequence[str]) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    def levels(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        same_length = np.fromiter(map(len, x), np.int64, len(x)) == np.fromiter(map(len, y), np.int64, len(y))
        eight = same_length & (np.fromiter(map(len, x), np.int64, len(x)) == 8)
        hamming = np.where(same_length, cpdist(x, y, scorer=Hamming.distance, dtype=np.int32, workers=-1).ravel(), -1)
        held = {"exact": x == y, "one_digit": hamming == 1}
        swap = np.zeros(len(x), dtype=bool)
        if eight.any():
            dx = np.array(x[eight].tolist(), dtype="<U8").view(np.uint32).reshape(-1, 8)
            dy = np.array(y[eight].tolist(), dtype="<U8").view(np.uint32).reshape(-1, 8)
            swap[eight] = (
                (dx[:, :4] == dy[:, :4]).all(axis=1)
                & (dx[:, 4:6] == dy[:, 6:8]).all(axis=1)
                & (dx[:, 6:8] == dy[:, 4:6]).all(axis=1)
            )
        held["day_month_swap"] = swap & ~held["exact"]
        if "transposed_digits" in checks:
            osa = cpdist(x, y, scorer=OSA.distance, dtype=np.int32, workers=-1).ravel()
            held["transposed_digits"] = (hamming == 2) & (osa == 1)
        out = np.zeros(len(x), dtype=np.int8)
        for rank, check in reversed(list(enumerate(checks))):
            out[held[check]] = len(checks) - rank
        return out

    return levels


def compare_levels(spec: ComparisonSpec, a: pd.Series, b: pd.Series) -> np.ndarray:
    """int8 levels of `spec` for paired values a[i] against b[i]."""
    a = pd.Series(a).reset_index(drop=True)
    b = pd.Series(b).reset_index(drop=True)
    if len(a) != len(b):
        raise ValueError(f"比较“{spec.name}”的左右两列长度不同")
    if spec.method == "date":
        return _on_distinct_pairs(a, b, _date_digits, _date_levels(spec.levels))
    if spec.method == "exact":
        return _on_distinct_pairs(a, b, _texts, _exact_levels)
    if spec.method == "jaro_winkler":
        return _on_distinct_pairs(a, b, _texts, _jaro_winkler_levels(spec.levels))
    if spec.method == "numeric":
        return _on_distinct_pairs(a, b, _texts, _numeric_levels(spec.levels))
    if spec.method == "prefix":
        return _on_distinct_pairs(a, b, _texts, _prefix_levels(spec.levels))
    return _on_distinct_pairs(a, b, _texts, _edit_levels(spec.method, spec.levels))


def cascade_levels(cascade: Cascade, levels: dict[ComparisonSpec, np.ndarray]) -> np.ndarray:
    """int8 levels of `cascade` from its specs' levels (each an array over the same pairs)."""
    first = levels[cascade.steps[0][0]]
    out = np.zeros(len(first), dtype=np.int8)
    missing = np.ones(len(first), dtype=bool)
    k = len(cascade.steps)
    for rank, (spec, level) in reversed(list(enumerate(cascade.steps))):
        out[levels[spec] >= level] = k - rank
        missing &= levels[spec] == MISSING
    out[missing] = MISSING
    return out


class LevelFeature(BaseCompareFeature):
    """A recordlinkage compare feature giving the int8 levels of one `ComparisonSpec`."""

    name = "levels"
    description = "Comparison levels of a ComparisonSpec"

    def __init__(self, spec: ComparisonSpec) -> None:
        super().__init__(spec.left, spec.right_column, label=spec.name)
        self.spec = spec

    def _compute_vectorized(self, s_left: pd.Series, s_right: pd.Series) -> np.ndarray:
        return compare_levels(self.spec, s_left, s_right)


class CascadeFeature(BaseCompareFeature):
    """A recordlinkage compare feature giving the int8 levels of one `Cascade`."""

    name = "cascade"
    description = "Comparison levels of a Cascade"

    def __init__(self, cascade: Cascade) -> None:
        specs = cascade.specs
        super().__init__([s.left for s in specs], [s.right_column for s in specs], label=cascade.name)
        self.cascade = cascade

    def _compute_vectorized(self, *columns: pd.Series) -> np.ndarray:
        specs = self.cascade.specs
        lefts, rights = columns[: len(specs)], columns[len(specs) :]
        levels = {spec: compare_levels(spec, a, b) for spec, a, b in zip(specs, lefts, rights, strict=True)}
        return cascade_levels(self.cascade, levels)


def build_comparison_vectors(
    pairs: pd.MultiIndex,
    left: pd.DataFrame,
    right: pd.DataFrame | None,
    specs: Sequence[Comparison],
    chunk_size: int = 2_000_000,
) -> pd.DataFrame:
    """One int8 column of levels per spec (or Cascade), one row per pair (index: `pairs`).

    Pairs are compared in chunks so the per-pair copies recordlinkage makes stay bounded.
    """
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        raise ValueError("比较的名称须各不相同")
    if len(pairs) == 0:
        return pd.DataFrame({n: pd.Series(dtype=np.int8) for n in names}, index=pairs)
    compare = recordlinkage.Compare([CascadeFeature(spec) if isinstance(spec, Cascade) else LevelFeature(spec) for spec in specs])
    parts = [compare.compute(pairs[start : start + chunk_size], left, right) for start in range(0, len(pairs), chunk_size)]
    vectors = pd.concat(parts) if len(parts) > 1 else parts[0]
    vectors = vectors.astype(np.int8)
    vectors.index = pairs
    vectors.columns = names
    return vectors
