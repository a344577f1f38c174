"""A Fellegi–Sunter model over multi-level comparison vectors, fitted by EM (as Splink does).

For every comparison c and level l there is m[c][l] = P(level l | match) and
u[c][l] = P(level l | non-match). A pair's match weight is

    log2(λ / (1 - λ)) + Σ_c log2(m[c][γ_c] / u[c][γ_c])

where λ is the prior match probability and a missing level (-1) adds 0. The probability is
2^w / (1 + 2^w). u can be estimated from random pairs (nearly all non-matches); EM then fits m,
λ and — unless fixed — u on the candidate pairs. Any m or u can be fixed, so a model fitted once
is stored as JSON (`to_dict`) and reused (`from_dict`) without refitting.

Term frequencies (Splink's term-frequency adjustment): agreeing on a rare value says more than
agreeing on a common one, so for some pairs a comparison's u can be replaced by the frequency of
the agreed value (`u_override` in `match_weights` and `explain`), e.g. 1 / 200,000 for a name only
one person in the register has instead of the average chance that two names are equal.

EM runs on the distinct gamma patterns with their counts, so its cost does not grow with the
number of pairs; scoring is one numpy table lookup per comparison.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from matchers.comparisons import MISSING, Comparison

__all__ = ["ComparisonLevels", "FellegiSunter", "probability_to_weight", "weight_to_probability"]

# Keeps every probability off 0 and 1 so no weight is infinite.
_FLOOR = 1e-6


def weight_to_probability(weight: np.ndarray | float) -> np.ndarray | float:
    """2^w / (1 + 2^w), computed without overflow."""
    with np.errstate(over="ignore"):  # 2^2000 is inf, and 1 / (1 + inf) is the right 0
        return 1.0 / (1.0 + np.exp2(-np.asarray(weight, dtype=np.float64)))


def probability_to_weight(probability: float) -> float:
    """The match weight whose probability is `probability`."""
    return math.log2(probability / (1.0 - probability))


@dataclass(frozen=True)
class ComparisonLevels:
    """What the model needs to know of a comparison: its name and the label of each level."""

    name: str
    labels: Mapping[int, str]

    @property
    def n_levels(self) -> int:
        return sum(1 for level in self.labels if level != MISSING)

    @classmethod
    def from_spec(cls, spec: Comparison) -> ComparisonLevels:
        return cls(spec.name, spec.level_labels())


def _default_m(n_levels: int) -> np.ndarray:
    # The strongest level holds most of the matches, each weaker one a tenth of the one above.
    raw = 10.0 ** (np.arange(n_levels) - (n_levels - 1))
    return raw / raw.sum()


def _default_u(n_levels: int) -> np.ndarray:
    raw = 10.0 ** -np.arange(n_levels, dtype=np.float64)
    return raw / raw.sum()


def _normalise(counts: np.ndarray) -> np.ndarray:
    probabilities = np.maximum(counts / max(counts.sum(), np.finfo(float).tiny), _FLOOR)
    return probabilities / probabilities.sum()


@dataclass
class FellegiSunter:
    """m and u per comparison level, and the prior λ; see the module docstring."""

    comparisons: list[ComparisonLevels]
    m: dict[str, np.ndarray] = field(default_factory=dict)
    u: dict[str, np.ndarray] = field(default_factory=dict)
    prior: float = 1e-3
    fixed_m: set[str] = field(default_factory=set)
    fixed_u: set[str] = field(default_factory=set)
    fixed_prior: bool = False
    iterations: int = 0

    def __post_init__(self) -> None:
        for comparison in self.comparisons:
            k = comparison.n_levels
            self.m[comparison.name] = np.asarray(self.m.get(comparison.name, _default_m(k)), dtype=np.float64)
            self.u[comparison.name] = np.asarray(self.u.get(comparison.name, _default_u(k)), dtype=np.float64)
            for table, kind in ((self.m, "m"), (self.u, "u")):
                if table[comparison.name].shape != (k,):
                    raise ValueError(f"比较“{comparison.name}”的 {kind} 概率须有 {k} 个")

    @classmethod
    def from_specs(cls, specs: Sequence[Comparison], prior: float = 1e-3) -> FellegiSunter:
        """A model with default starting values for these comparisons."""
        return cls([ComparisonLevels.from_spec(spec) for spec in specs], prior=prior)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.comparisons]

    # --- fixing and estimating -----------------------------------------------------------------

    def fix(
        self, name: str, m: Sequence[float] | np.ndarray | None = None, u: Sequence[float] | np.ndarray | None = None
    ) -> FellegiSunter:
        """Set and fix m and/or u of one comparison (levels 0..k); EM leaves them alone."""
        if m is not None:
            self.m[name] = np.asarray(m, dtype=np.float64)
            self.fixed_m.add(name)
        if u is not None:
            self.u[name] = np.asarray(u, dtype=np.float64)
            self.fixed_u.add(name)
        self.__post_init__()
        return self

    def estimate_u(self, random_gamma: pd.DataFrame, fix: bool = False) -> FellegiSunter:
        """u from the level frequencies of random pairs, which are nearly all non-matches.

        Half a pair is added to every level, so a level never seen among random pairs (say an
        identical ID number) gets a large but finite weight. With `fix` EM keeps these u (Splink's
        default); without, they are EM's starting values — safer when the candidate pairs were
        blocked on the compared fields, as their non-matches agree far more than random pairs do.
        """
        for comparison in self.comparisons:
            if comparison.name in self.fixed_u:
                continue
            levels = random_gamma[comparison.name].to_numpy()
            counts = np.bincount(levels[levels >= 0], minlength=comparison.n_levels).astype(np.float64)
            self.u[comparison.name] = _normalise(counts + 0.5)
            if fix:
                self.fixed_u.add(comparison.name)
        return self

    # --- EM ------------------------------------------------------------------------------------

    def _patterns(self, gamma: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Distinct gamma rows, their counts, and each row's pattern number."""
        matrix = gamma[self.names].to_numpy(dtype=np.int64)
        radix = np.array([c.n_levels + 1 for c in self.comparisons], dtype=np.int64)
        if np.prod(radix.astype(float)) < 2.0**62:
            places = np.concatenate([np.cumprod(radix[::-1])[::-1][1:], [1]])
            inverse, distinct = pd.factorize((matrix + 1) @ places)
            counts = np.bincount(inverse, minlength=len(distinct)).astype(np.float64)
            patterns = (np.asarray(distinct)[:, None] // places) % radix - 1
            return patterns, counts, inverse
        rows, inverse, row_counts = np.unique(matrix, axis=0, return_inverse=True, return_counts=True)
        return rows, row_counts.astype(np.float64), inverse.ravel()

    def _log2_ratios(self, patterns: np.ndarray) -> np.ndarray:
        total = np.full(len(patterns), probability_to_weight(self.prior))
        for column, comparison in enumerate(self.comparisons):
            total += self._weight_table(comparison.name)[patterns[:, column] + 1]
        return total

    def fit(self, gamma: pd.DataFrame, max_iterations: int = 200, tolerance: float = 1e-7) -> FellegiSunter:
        """EM over the pairs' gamma vectors: m, λ and the u not fixed; stops when no
        parameter moves more than `tolerance`."""
        self.iterations = 0
        if len(gamma) == 0:
            return self
        patterns, counts, _ = self._patterns(gamma)
        for _ in range(max_iterations):
            self.iterations += 1
            posterior = weight_to_probability(self._log2_ratios(patterns))
            as_match, as_non_match = counts * posterior, counts * (1.0 - posterior)
            change = 0.0
            for column, comparison in enumerate(self.comparisons):
                levels = patterns[:, column]
                present = levels >= 0
                for table, weights, fixed in ((self.m, as_match, self.fixed_m), (self.u, as_non_match, self.fixed_u)):
                    if comparison.name in fixed:
                        continue
                    updated = _normalise(np.bincount(levels[present], weights=weights[present], minlength=comparison.n_levels))
                    change = max(change, float(np.abs(updated - table[comparison.name]).max()))
                    table[comparison.name] = updated
            if not self.fixed_prior:
                prior = float(np.clip(as_match.sum() / counts.sum(), _FLOOR, 1 - _FLOOR))
                change = max(change, abs(prior - self.prior))
                self.prior = prior
            if change < tolerance:
                break
        return self

    # --- scoring -------------------------------------------------------------------------------

    def _weight_table(self, name: str) -> np.ndarray:
        """log2(m/u) per level, with 0 in front for the missing level (-1 + 1 = index 0)."""
        return np.concatenate([[0.0], np.log2(self.m[name] / self.u[name])])

    def match_weights(self, gamma: pd.DataFrame, u_override: Mapping[str, np.ndarray] | None = None) -> pd.Series:
        """The match weight of every pair (same index as `gamma`).

        `u_override`: per comparison, a u per pair (NaN = keep the model's) replacing the u of the
        pair's level, e.g. a term frequency; ignored where the level is missing.
        """
        total = np.full(len(gamma), probability_to_weight(self.prior))
        for comparison in self.comparisons:
            levels = gamma[comparison.name].to_numpy(dtype=np.int64)
            total += self._weight_table(comparison.name)[levels + 1]
            if u_override and comparison.name in u_override:
                u = np.asarray(u_override[comparison.name], dtype=np.float64)
                use = ~np.isnan(u) & (levels >= 0)
                model_u = self.u[comparison.name][levels[use]]
                total[use] += np.log2(model_u) - np.log2(np.maximum(u[use], np.finfo(float).tiny))
        return pd.Series(total, index=gamma.index, name="match_weight")

    def predict_proba(self, gamma: pd.DataFrame) -> pd.Series:
        """The match probability of every pair."""
        return pd.Series(weight_to_probability(self.match_weights(gamma).to_numpy()), index=gamma.index, name="match_probability")

    def predict(self, gamma: pd.DataFrame, threshold: float = 0.5) -> pd.MultiIndex:
        """The pairs whose match probability is at least `threshold`."""
        return gamma.index[(self.predict_proba(gamma) >= threshold).to_numpy()]

    def explain(self, gamma_row: Mapping[str, int] | pd.Series, u_override: Mapping[str, float] | None = None) -> dict:
        """How one pair's weight is made up, ready for JSON:

        {"comparisons": [{"name", "level", "label", "m", "u", "weight"}...],
         "prior": λ, "prior_weight", "total_weight", "probability"}; a missing level has m, u None
        and weight 0. A comparison whose u `u_override` replaces says so with "u_override": True.
        """
        rows = []
        total = prior_weight = probability_to_weight(self.prior)
        overrides = u_override or {}
        for comparison in self.comparisons:
            level = int(gamma_row[comparison.name])
            overridden = comparison.name in overrides and level != MISSING
            if level == MISSING:
                m = u = None
                weight = 0.0
            else:
                m, u = float(self.m[comparison.name][level]), float(self.u[comparison.name][level])
                if overridden:
                    u = float(overrides[comparison.name])
                weight = math.log2(m / u)
            total += weight
            label = comparison.labels[level]
            row = {"name": comparison.name, "level": level, "label": label, "m": m, "u": u, "weight": weight}
            if overridden:
                row["u_override"] = True
            rows.append(row)
        return {
            "comparisons": rows,
            "prior": self.prior,
            "prior_weight": prior_weight,
            "total_weight": total,
            "probability": float(weight_to_probability(total)),
        }

    # --- storage -------------------------------------------------------------------------------

    def to_dict(self) -> dict:
        """Everything needed to score again, as JSON-ready values."""
        return {
            "prior": self.prior,
            "comparisons": [
                {
                    "name": c.name,
                    "labels": {str(level): label for level, label in c.labels.items()},
                    "m": self.m[c.name].tolist(),
                    "u": self.u[c.name].tolist(),
                }
                for c in self.comparisons
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> FellegiSunter:
        """A model from `to_dict` output, every m, u and λ fixed (refit only what you unfix)."""
        comparisons = [
            ComparisonLevels(c["name"], {int(level): label for level, label in c["labels"].items()}) for c in data["comparisons"]
        ]
        names = {c.name for c in comparisons}
        return cls(
            comparisons,
            m={c["name"]: c["m"] for c in data["comparisons"]},
            u={c["name"]: c["u"] for c in data["comparisons"]},
            prior=float(data["prior"]),
            fixed_m=set(names),
            fixed_u=set(names),
            fixed_prior=True,
        )
