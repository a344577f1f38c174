"""Pairwise precision/recall/F1, pair completeness, reduction ratio and cluster pairs, by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from matchers.evaluation import (
    cluster_pairs,
    confusion_counts,
    max_pairs,
    pair_completeness,
    precision_recall_f1,
    reduction_ratio,
)


def pairs(*tuples: tuple) -> pd.MultiIndex:
    return pd.MultiIndex.from_tuples(list(tuples))


def test_dedup_pairs_are_unordered_and_counted_once():
    predicted = pairs(("a", "b"), ("b", "c"), ("c", "d"), ("b", "a"), ("d", "d"))
    true = pairs(("b", "a"), ("d", "c"), ("a", "c"))
    # predicted {ab, bc, cd}, true {ab, cd, ac}: tp 2, fp 1 (bc), fn 1 (ac)
    assert precision_recall_f1(predicted, true, dedup=True) == {
        "precision": 2 / 3,
        "recall": 2 / 3,
        "f1": 2 / 3,
        "true_positives": 2,
        "false_positives": 1,
        "false_negatives": 1,
    }


def test_link_pairs_keep_their_sides():
    predicted = pairs(("a", "x"), ("b", "y"), ("c", "z"), ("c", "y"))
    true = pairs(("a", "x"), ("b", "y"), ("d", "w"))
    scores = precision_recall_f1(predicted, true)
    assert (scores["precision"], scores["recall"]) == (0.5, 2 / 3)
    assert scores["f1"] == pytest.approx(4 / 7)
    # the same labels read as dedup pairs are another question: ("y", "b") is ("b", "y")
    assert confusion_counts(pairs(("y", "b")), true, dedup=True)["true_positives"] == 1
    assert confusion_counts(pairs(("y", "b")), true)["true_positives"] == 0


def test_nothing_predicted_gives_zeros_not_errors():
    nothing = pd.MultiIndex.from_tuples([], names=["left", "right"])
    assert precision_recall_f1(nothing, pairs(("a", "x"))) == {
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "true_positives": 0,
        "false_positives": 0,
        "false_negatives": 1,
    }


def test_pair_completeness_and_reduction_ratio():
    candidates = pairs(("a", "x"), ("a", "y"), ("b", "y"), ("c", "x"))
    true = pairs(("a", "x"), ("b", "y"), ("c", "z"), ("d", "w"))
    assert pair_completeness(candidates, true) == 0.5
    assert max_pairs(5, 4) == 20 and max_pairs(5) == 10
    assert reduction_ratio(len(candidates), 5, 4) == 0.8
    assert reduction_ratio(4, 5) == 0.6


def test_cluster_pairs_within_one_frame():
    clusters = pd.Series([0, 0, 1, 0, 1, 2], index=["a", "b", "c", "d", "e", "f"])
    assert list(cluster_pairs(clusters)) == [("a", "b"), ("a", "d"), ("b", "d"), ("c", "e")]


def test_cluster_pairs_across_two_frames():
    left = pd.Series([0, 1], index=["l1", "l2"])
    right = pd.Series([1, 0, 0, 2], index=["r1", "r2", "r3", "r4"])
    assert list(cluster_pairs(left, right)) == [("l1", "r2"), ("l1", "r3"), ("l2", "r1")]
