"""Scored pairs to clusters: connected components, optionally with a conflict rule.

Pairs scoring at least the threshold join their records. Without a conflict key that is plain
connected components (scipy.sparse.csgraph). With one — a column, or a callable giving a key per
record, e.g. the valid ID number — two records with different non-null keys never end up in one
cluster: within each component that would hold two keys, pairs are merged in descending score
order and a merge that would bring two different keys together is refused. Only those few
components go through the Python union-find; the rest stay vectorised.

Cluster ids are 0, 1, 2, ... in order of each cluster's first record (left frame first, then
right), so the same input always gives the same ids. Every record gets one, singletons included.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from matchers.blocking import pair_positions

__all__ = ["ConflictKey", "build_cluster_ids", "cluster_dedup", "cluster_link"]

ConflictKey = str | Callable[[pd.DataFrame], pd.Series] | None


def _key_values(frame: pd.DataFrame, conflict_key: str | Callable[[pd.DataFrame], pd.Series]) -> pd.Series:
    if isinstance(conflict_key, str):
        return frame[conflict_key]
    values = conflict_key(frame)
    return pd.Series(values, index=frame.index) if not isinstance(values, pd.Series) else values.reindex(frame.index)


def _key_codes(frames: list[pd.DataFrame], conflict_key: ConflictKey) -> np.ndarray | None:
    if conflict_key is None:
        return None
    values = pd.concat([_key_values(f, conflict_key).reset_index(drop=True) for f in frames], ignore_index=True)
    values = values.where(values.notna() & values.ne(""))
    codes, _ = pd.factorize(values, use_na_sentinel=True)
    return codes.astype(np.int64)


def _find(parent: list[int], node: int) -> int:
    root = node
    while parent[root] != root:
        root = parent[root]
    while parent[node] != root:
        parent[node], node = root, parent[node]
    return root


def _split_conflicts(nodes: np.ndarray, a: np.ndarray, b: np.ndarray, keys: np.ndarray, n_nodes: int) -> np.ndarray:
    """Union-find over edges already in descending score order, refusing key conflicts.

    Returns a root per node in `nodes` (global node numbers)."""
    local = np.full(n_nodes, -1, dtype=np.int64)
    local[nodes] = np.arange(len(nodes))
    parent = list(range(len(nodes)))
    key = keys[nodes].tolist()
    for x, y in zip(local[a].tolist(), local[b].tolist(), strict=True):
        rx, ry = _find(parent, x), _find(parent, y)
        if rx == ry:
            continue
        kx, ky = key[rx], key[ry]
        if kx >= 0 and ky >= 0 and kx != ky:
            continue
        parent[ry] = rx
        if kx < 0:
            key[rx] = ky
    return nodes[np.array([_find(parent, i) for i in range(len(nodes))], dtype=np.int64)]


def build_cluster_ids(
    n_nodes: int, a: np.ndarray, b: np.ndarray, scores: np.ndarray, keys: np.ndarray | None = None
) -> np.ndarray:
    """Cluster id per node 0..n_nodes-1 from edges (a, b) already kept by the threshold.

    `keys` (int codes, -1 = none) switches on the conflict rule; `scores` order the merges.
    """
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n_nodes, n_nodes))
    _, labels = connected_components(graph, directed=False)
    labels = labels.astype(np.int64)
    if keys is not None and len(a):
        present = keys >= 0
        component_keys = np.unique(labels[present] * np.int64(n_nodes) + keys[present])
        distinct_keys = np.bincount(component_keys // n_nodes, minlength=labels.max() + 1)
        conflicted = distinct_keys[labels] > 1
        if conflicted.any():
            inside = conflicted[a]
            order = np.argsort(-scores[inside], kind="stable")
            nodes = np.flatnonzero(conflicted)
            roots = _split_conflicts(nodes, a[inside][order], b[inside][order], keys, n_nodes)
            # Roots are node numbers; shift them past every component label so they stay apart.
            labels[nodes] = labels.max() + 1 + roots
    ids, _ = pd.factorize(labels)
    return ids.astype(np.int64)


def _kept_edges(
    pairs: pd.MultiIndex, scores, threshold: float, left: pd.DataFrame, right: pd.DataFrame | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    values = np.asarray(scores, dtype=np.float64)
    if len(values) != len(pairs):
        raise ValueError("得分个数与记录对个数不同")
    a, b = pair_positions(pairs, left, right)
    keep = values >= threshold
    return a[keep], b[keep], values[keep]


def cluster_dedup(
    pairs: pd.MultiIndex, scores, threshold: float, records: pd.DataFrame, conflict_key: ConflictKey = None
) -> pd.Series:
    """Cluster id of every record of one frame, from within-frame pairs scoring >= threshold."""
    a, b, values = _kept_edges(pairs, scores, threshold, records, None)
    ids = build_cluster_ids(len(records), a, b, values, _key_codes([records], conflict_key))
    return pd.Series(ids, index=records.index, name="cluster_id")


def cluster_link(
    pairs: pd.MultiIndex,
    scores,
    threshold: float,
    left: pd.DataFrame,
    right: pd.DataFrame,
    conflict_key: ConflictKey = None,
) -> tuple[pd.Series, pd.Series]:
    """Cluster ids of the left and of the right records (one id space), from left–right pairs."""
    a, b, values = _kept_edges(pairs, scores, threshold, left, right)
    keys = _key_codes([left, right], conflict_key)
    ids = build_cluster_ids(len(left) + len(right), a, b + len(left), values, keys)
    return (
        pd.Series(ids[: len(left)], index=left.index, name="cluster_id"),
        pd.Series(ids[len(left) :], index=right.index, name="cluster_id"),
    )
