"""Clusters from scored pairs: connected components, and the conflict rule splitting a chain."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as pdt

from matchers.clustering import build_cluster_ids, cluster_dedup, cluster_link

RECORDS = pd.DataFrame(
    {
        "id18": ["X1", None, "X2", None, "X3", ""],
        "id_status": ["valid", "empty", "valid", "empty", "bad_checksum", "empty"],
    },
    index=pd.Index(["a", "b", "c", "d", "e", "f"], name="record"),
)


def ids(values: list[int]) -> pd.Series:
    return pd.Series(values, index=RECORDS.index, name="cluster_id", dtype=np.int64)


def test_connected_components_above_the_threshold():
    pairs = pd.MultiIndex.from_tuples([("a", "b"), ("b", "c"), ("d", "e"), ("e", "f")])
    clusters = cluster_dedup(pairs, [0.9, 0.8, 0.3, 0.5], 0.5, RECORDS)
    pdt.assert_series_equal(clusters, ids([0, 0, 0, 1, 2, 2]))


def test_a_chain_joining_two_ids_is_split_at_its_weakest_link():
    # a(X1) - b - c(X2) - d: merging b-c after a-b would put X1 and X2 together, so it is refused.
    pairs = pd.MultiIndex.from_tuples([("a", "b"), ("b", "c"), ("c", "d")])
    clusters = cluster_dedup(pairs, [0.95, 0.9, 0.8], 0.5, RECORDS, conflict_key="id18")
    pdt.assert_series_equal(clusters, ids([0, 0, 1, 1, 2, 3]))


def test_the_stronger_link_wins_the_record_in_between():
    pairs = pd.MultiIndex.from_tuples([("a", "b"), ("b", "c"), ("c", "d")])
    clusters = cluster_dedup(pairs, [0.7, 0.9, 0.8], 0.5, RECORDS, conflict_key="id18")
    pdt.assert_series_equal(clusters, ids([0, 1, 1, 1, 2, 3]))


def test_without_the_conflict_rule_the_chain_is_one_cluster():
    pairs = pd.MultiIndex.from_tuples([("a", "b"), ("b", "c"), ("c", "d")])
    clusters = cluster_dedup(pairs, [0.95, 0.9, 0.8], 0.5, RECORDS)
    pdt.assert_series_equal(clusters, ids([0, 0, 0, 0, 1, 2]))


def test_a_direct_pair_of_different_ids_is_never_merged():
    pairs = pd.MultiIndex.from_tuples([("a", "c")])
    clusters = cluster_dedup(pairs, [0.99], 0.5, RECORDS, conflict_key="id18")
    pdt.assert_series_equal(clusters, ids([0, 1, 2, 3, 4, 5]))


def test_a_callable_conflict_key_only_trusts_valid_ids():
    # e carries an ID with a bad checksum: not trusted, so it may join a and its X1.
    pairs = pd.MultiIndex.from_tuples([("a", "e"), ("c", "e")])

    def valid_id(frame: pd.DataFrame) -> pd.Series:
        return frame["id18"].where(frame["id_status"] == "valid")

    clusters = cluster_dedup(pairs, [0.9, 0.8], 0.5, RECORDS, conflict_key=valid_id)
    pdt.assert_series_equal(clusters, ids([0, 1, 2, 3, 0, 4]))


def test_linking_two_frames_shares_one_id_space():
    left = pd.DataFrame({"id18": ["X1", "X2"]}, index=["l1", "l2"])
    right = pd.DataFrame({"id18": [None, "X1", "X2"]}, index=["r1", "r2", "r3"])
    pairs = pd.MultiIndex.from_tuples([("l1", "r1"), ("l2", "r1"), ("l1", "r2"), ("l2", "r3")])
    left_ids, right_ids = cluster_link(pairs, [0.9, 0.95, 0.8, 0.2], 0.5, left, right, conflict_key="id18")
    # l2-r1 (0.95) first; l1-r1 would bring X1 to X2: refused; l1-r2 joins; l2-r3 is below threshold.
    assert left_ids.tolist() == [0, 1] and right_ids.tolist() == [1, 0, 2]
    assert list(left_ids.index) == ["l1", "l2"] and list(right_ids.index) == ["r1", "r2", "r3"]


def test_cluster_ids_follow_the_first_record_of_each_cluster():
    result = build_cluster_ids(5, np.array([3, 1]), np.array([4, 2]), np.array([1.0, 1.0]))
    assert result.tolist() == [0, 1, 1, 2, 2]
