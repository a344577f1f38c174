"""Pairwise quality measures: precision, recall, F1; blocking's pair completeness and reduction ratio.

Pairs are MultiIndexes of (left label, right label). When deduplicating (`dedup=True`) a pair is
unordered, so (x, y) and (y, x) are one pair, and a record paired with itself is not a pair.
Duplicates in an input count once. Clusters become pairs with `cluster_pairs` (every two records
sharing a cluster id); `cluster_precision_recall_f1` scores two clusterings of the same records
without listing their pairs (from the contingency table: a cell of n records holds n(n-1)/2 pairs),
so millions of records cost one factorisation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from matchers.blocking import Block, build_candidate_pairs

__all__ = [
    "cluster_pairs",
    "cluster_precision_recall_f1",
    "confusion_counts",
    "max_pairs",
    "pair_completeness",
    "precision_recall_f1",
    "reduction_ratio",
]


def _pair_codes(pair_sets: list[pd.MultiIndex], dedup: bool) -> list[np.ndarray]:
    """Each set of pairs as distinct int64 codes, comparable across the sets."""
    firsts = [np.asarray(p.get_level_values(0), dtype=object) for p in pair_sets]
    seconds = [np.asarray(p.get_level_values(1), dtype=object) for p in pair_sets]
    if dedup:
        codes, uniques = pd.factorize(np.concatenate(firsts + seconds))
        width = len(uniques)
        split = np.cumsum([len(f) for f in firsts])[:-1]
        first_codes = np.split(codes[: sum(map(len, firsts))], split)
        second_codes = np.split(codes[sum(map(len, firsts)) :], split)
    else:
        split = np.cumsum([len(f) for f in firsts])[:-1]
        left_codes, _ = pd.factorize(np.concatenate(firsts))
        right_codes, right_uniques = pd.factorize(np.concatenate(seconds))
        width = len(right_uniques)
        first_codes, second_codes = np.split(left_codes, split), np.split(right_codes, split)
    out = []
    for first, second in zip(first_codes, second_codes, strict=True):
        a, b = first.astype(np.int64), second.astype(np.int64)
        if dedup:
            keep = a != b
            a, b = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
        out.append(np.unique(a * np.int64(max(width, 1)) + b))
    return out


def confusion_counts(predicted: pd.MultiIndex, true: pd.MultiIndex, dedup: bool = False) -> dict[str, int]:
    """True positives, false positives and false negatives among distinct pairs."""
    found, truth = _pair_codes([predicted, true], dedup)
    tp = int(np.isin(found, truth, assume_unique=True).sum())
    return {"true_positives": tp, "false_positives": len(found) - tp, "false_negatives": len(truth) - tp}


def precision_recall_f1(predicted: pd.MultiIndex, true: pd.MultiIndex, dedup: bool = False) -> dict[str, float]:
    """Pairwise precision, recall and F1 (0.0 where undefined), with the confusion counts."""
    counts = confusion_counts(predicted, true, dedup)
    tp, fp, fn = counts["true_positives"], counts["false_positives"], counts["false_negatives"]
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, **counts}


def pair_completeness(candidates: pd.MultiIndex, true: pd.MultiIndex, dedup: bool = False) -> float:
    """Share of the true pairs that blocking kept as candidates."""
    return precision_recall_f1(candidates, true, dedup)["recall"]


def max_pairs(n_left: int, n_right: int | None = None) -> int:
    """All possible pairs: n_left * n_right, or n (n - 1) / 2 within one frame."""
    return n_left * (n_left - 1) // 2 if n_right is None else n_left * n_right


def reduction_ratio(n_candidates: int, n_left: int, n_right: int | None = None) -> float:
    """1 - candidates / all possible pairs (within one frame when `n_right` is None)."""
    return 1.0 - n_candidates / max_pairs(n_left, n_right)


def cluster_pairs(clusters: pd.Series, right_clusters: pd.Series | None = None) -> pd.MultiIndex:
    """Every two records sharing a cluster id: within `clusters` (i < j by position), or, given
    `right_clusters`, every left–right pair with the same id."""
    left = clusters.rename("cluster_id").to_frame()
    right = None if right_clusters is None else right_clusters.rename("cluster_id").to_frame()
    return build_candidate_pairs(left, right, [Block(on="cluster_id")])


def _pair_count(sizes: np.ndarray) -> int:
    sizes = sizes.astype(np.int64)
    return int((sizes * (sizes - 1) // 2).sum())


def cluster_precision_recall_f1(predicted, true) -> dict[str, float]:
    """Pairwise precision, recall and F1 of clustering `predicted` against `true` (cluster labels
    of the same records, in the same order), with the confusion counts and both pair totals —
    the same numbers as precision_recall_f1 on their cluster_pairs."""
    predicted_codes = pd.factorize(np.asarray(predicted))[0].astype(np.int64)
    true_codes = pd.factorize(np.asarray(true))[0].astype(np.int64)
    if len(predicted_codes) != len(true_codes):
        raise ValueError("两种聚类的记录数不同")
    width = np.int64(true_codes.max(initial=-1) + 1)
    cells = np.unique(predicted_codes * width + true_codes, return_counts=True)[1]
    tp = _pair_count(cells)
    predicted_pairs = _pair_count(np.bincount(predicted_codes))
    true_pairs = _pair_count(np.bincount(true_codes))
    fp, fn = predicted_pairs - tp, true_pairs - tp
    precision = tp / predicted_pairs if predicted_pairs else 0.0
    recall = tp / true_pairs if true_pairs else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "true_positives": tp,
        "false_positives": fp,
        "false_negatives": fn,
        "predicted_pairs": predicted_pairs,
        "true_pairs": true_pairs,
    }
