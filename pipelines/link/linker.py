"""Link person rows into persons: hukou is the spine, ID numbers settle most rows, scoring the rest.

1. Deterministic pass (pipelines.link.deterministic). A row whose valid ID (id18) is a hukou
   row's links to that hukou row when the name agrees (normalised form or pinyin) or its own
   birth date does. Hukou rows sharing an ID are one person. Rows whose valid ID no hukou row has
   form one person per ID, headed by their first row, which joins the spine.
2. Probabilistic pass (pipelines.link.probabilistic, configured by pipelines.link.people): every other
   row — no valid ID, or an ID that disagrees with the name and birth date (somebody else's) — is
   scored against the spine and links to its most probable candidate if that is probable enough.
   Heads of ID groups the spine lacks are scored too, against hukou rows without a valid ID only
   (a police record whose ID is blank or mistyped). "Same ID" weighs what it should: its u is the
   rate at which a row carries somebody else's ID, over the spine size (borrowed_id_share).
3. Reviewer decisions are obeyed: "same" links the pair whatever the scores say, "different"
   forbids it (the row then takes its next best candidate or stays alone).
4. Clusters: every row joins the cluster of the row it was linked to; a merge that would put two
   different valid IDs of ID-settled rows into one person is refused (matchers.clustering).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from matchers.clustering import build_cluster_ids
from pipelines.catalog.feeds import SPINE_FEED
from pipelines.link import people
from pipelines.link.deterministic import borrowed_id_share, build_household_map, build_id_links, spine_coverage
from pipelines.link.probabilistic import (
    Scored,
    build_listed,
    build_side,
    candidate_posteriors,
    choose_candidates,
    score_candidates,
)
from pipelines.settings import Settings

__all__ = ["CLUSTER_LINK_COLUMNS", "REVIEW_CANDIDATE_COLUMNS", "LinkResult", "link_person_rows"]

# The linker's links: each input row's cluster of tonight, how it joined it and the row it joined.
# The base map turns clusters into persons: the stored link (pipelines.store.basemap.LINK_COLUMNS)
# has person_id and household_code where this has cluster.
CLUSTER_LINK_COLUMNS = [
    "feed",
    "record_key",
    "cluster",
    "method",
    "probability",
    "match_weight",
    "anchor_feed",
    "anchor_key",
    "levels",
]
# Gray-zone pairs for a reviewer; the stored review queue row (pipelines.store.basemap.REVIEW_COLUMNS)
# adds the pair's status.
REVIEW_CANDIDATE_COLUMNS = [
    "feed",
    "record_key",
    "candidate_feed",
    "candidate_key",
    "probability",
    "match_weight",
    "levels",
]
# How strongly an edge holds when the conflict rule has to choose: decisions, then IDs, then scores.
_DECISION_SCORE = 1e12
_ID_SCORE = 1e9
# The review queue shows a row's few most probable candidates, each at least this probable.
_REVIEW_CANDIDATES = 3
_REVIEW_FLOOR = 0.01


@dataclass
class LinkResult:
    """What linking a night gives the base map (see the linkage contract)."""

    links: pd.DataFrame
    review: pd.DataFrame
    model: dict
    stats: dict = field(default_factory=dict)
    # For evaluating the blocking, as positions of the input rows: "scored" (rows of the
    # probabilistic pass), "spine" (what they were scored against), "pairs" (candidate pairs:
    # columns row, candidate).
    blocking: dict | None = None


class _Clock:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] = round(self.seconds.get(stage, 0.0) + now - self._last, 3)
        self._last = now


# --- decisions ---------------------------------------------------------------------------------


def _positions(rows: pd.DataFrame, feeds: pd.Series, keys: pd.Series) -> np.ndarray:
    """Row position of each (feed, record_key), -1 when not among tonight's rows."""
    record_keys = rows["record_key"].astype(str)
    at = np.flatnonzero(record_keys.isin(set(keys.astype(str))).to_numpy())
    lookup = dict(zip(zip(rows["feed"].to_numpy()[at], record_keys.to_numpy()[at]), at.tolist()))
    return np.array([lookup.get((f, str(k)), -1) for f, k in zip(feeds, keys)], dtype=np.int64)


def _decision_pairs(rows: pd.DataFrame, decisions: pd.DataFrame | None) -> dict[str, list[tuple[int, int]]]:
    """{"same": [...], "different": [...]}: (row position, candidate position) of tonight's rows."""
    found: dict[str, list[tuple[int, int]]] = {"same": [], "different": []}
    if decisions is None or not len(decisions):
        return found
    row = _positions(rows, decisions["feed"], decisions["record_key"])
    candidate = _positions(rows, decisions["candidate_feed"], decisions["candidate_key"])
    for r, c, kind in zip(row, candidate, decisions["decision"]):
        if r >= 0 and c >= 0 and r != c and kind in found:
            found[kind].append((int(r), int(c)))
    return found


def _banned_pairs(
    forbidden: set[tuple[int, int]], anchor: np.ndarray, residual: np.ndarray, spine: np.ndarray
) -> set[tuple[int, int]]:
    """Forbidden row pairs as (residual, spine) positions; a candidate that is itself linked to a
    spine row stands for that spine row."""
    banned = set()
    left_at, spine_at = pd.Index(residual), pd.Index(spine)
    for r, c in forbidden:
        target = c if anchor[c] < 0 else anchor[c]
        li, si = left_at.get_indexer([r])[0], spine_at.get_indexer([target])[0]
        if li >= 0 and si >= 0:
            banned.add((int(li), int(si)))
    return banned


# --- frames ------------------------------------------------------------------------------------


def _levels_json(scored: Scored, at: np.ndarray) -> list[str]:
    """{comparison: level, ..., "tf_u": {comparison: term-frequency u}} per pair, as JSON."""
    names = list(scored.gamma.columns)
    tf = {name: u[at] for name, u in scored.tf_u.items()}
    out = []
    for i, row in enumerate(scored.gamma.to_numpy()[at]):
        levels: dict = dict(zip(names, map(int, row)))
        used = {name: float(u[i]) for name, u in tf.items() if not np.isnan(u[i])}
        if used:
            levels["tf_u"] = used
        out.append(json.dumps(levels))
    return out


def _review_frame(
    rows: pd.DataFrame,
    residual: np.ndarray,
    spine: np.ndarray,
    scored: Scored,
    posterior: np.ndarray,
    decision: np.ndarray,
) -> pd.DataFrame:
    """The few most probable candidates of every row left for review."""
    at = np.flatnonzero((decision[scored.a] == "review") & (posterior >= _REVIEW_FLOOR))
    at = at[np.lexsort((-posterior[at], scored.a[at]))]
    starts = np.r_[True, scored.a[at][1:] != scored.a[at][:-1]] if len(at) else np.zeros(0, dtype=bool)
    rank = np.arange(len(at)) - np.maximum.accumulate(np.where(starts, np.arange(len(at)), 0))
    at = at[rank < _REVIEW_CANDIDATES]
    row, candidate = residual[scored.a[at]], spine[scored.b[at]]
    feeds, keys = rows["feed"].to_numpy(dtype=object), rows["record_key"].to_numpy(dtype=object)
    return pd.DataFrame(
        {
            "feed": feeds[row],
            "record_key": keys[row],
            "candidate_feed": feeds[candidate],
            "candidate_key": keys[candidate],
            "probability": posterior[at],
            "match_weight": scored.weights[at],
            "levels": _levels_json(scored, at),
        },
        columns=REVIEW_CANDIDATE_COLUMNS,
    )


def _clusters(
    rows: pd.DataFrame, anchor: np.ndarray, method: np.ndarray, weight: np.ndarray, own_id: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Cluster per row from the row → anchor edges, never joining two valid IDs that are their
    rows' own (`own_id`: hukou rows, rows the ID settled, heads of ID groups — not a row whose ID
    disagreed with its name and birth date, which may carry somebody else's).

    Returns (clusters, anchor, method, refused): a row whose edge was refused becomes an anchor
    itself; anchors take the method their cluster was formed by ("singleton" when alone).
    """
    anchor, method = anchor.copy(), method.copy()
    linked = np.flatnonzero(anchor >= 0)
    scores = np.select(
        [method[linked] == "review_decision", method[linked] == "id_exact"],
        [_DECISION_SCORE, _ID_SCORE],
        np.nan_to_num(weight[linked], nan=0.0),
    )
    id18 = rows["id18"].to_numpy(dtype=object)
    settled = pd.notna(id18) & own_id
    keys = np.full(len(rows), -1, dtype=np.int64)
    keys[settled] = pd.factorize(id18[settled])[0]
    clusters = build_cluster_ids(len(rows), linked, anchor[linked], scores, keys)
    refused = linked[clusters[linked] != clusters[anchor[linked]]]
    anchor[refused] = -1
    heads = np.flatnonzero(anchor < 0)
    sizes = np.bincount(clusters)
    formed = np.full(len(sizes), "singleton", dtype=object)
    for kind in ("review_decision", "probabilistic", "id_exact"):  # the last one written wins
        formed[clusters[(method == kind) & (anchor >= 0)]] = kind
    method[heads] = np.where(sizes[clusters[heads]] > 1, formed[clusters[heads]], "singleton")
    return clusters, anchor, method, len(refused)


def _links_frame(
    rows: pd.DataFrame,
    clusters: np.ndarray,
    anchor: np.ndarray,
    method: np.ndarray,
    probability: np.ndarray,
    weight: np.ndarray,
    levels: np.ndarray,
) -> pd.DataFrame:
    feeds, keys = rows["feed"].to_numpy(dtype=object), rows["record_key"].to_numpy(dtype=object)
    has_anchor = anchor >= 0
    at = np.maximum(anchor, 0)
    return pd.DataFrame(
        {
            "feed": feeds,
            "record_key": keys,
            "cluster": clusters.astype(np.int64),
            "method": method,
            "probability": np.where(has_anchor, probability, 1.0),
            "match_weight": np.where(has_anchor, weight, np.nan),
            "anchor_feed": np.where(has_anchor, feeds[at], None),
            "anchor_key": np.where(has_anchor, keys[at], None),
            "levels": np.where(has_anchor, levels, None),  # type: ignore[call-overload]  # numpy's stubs leave None out of ArrayLike
        },
        columns=CLUSTER_LINK_COLUMNS,
    )


def _sample(rng: np.random.Generator, positions: np.ndarray, size: int) -> np.ndarray:
    return positions if len(positions) <= size else np.sort(rng.choice(positions, size=size, replace=False))


# --- the whole linkage -------------------------------------------------------------------------


def link_person_rows(rows: pd.DataFrame, decisions: pd.DataFrame | None, settings: Settings) -> LinkResult:
    """Link the night's person rows (pipelines.link.person_rows) into persons; see the module docstring.

    links.probability is 1.0 for ID-settled rows and anchors, else the posterior of the chosen
    candidate among the row's candidates; links.match_weight the pair's Fellegi–Sunter weight.
    """
    clock = _Clock()
    rows = rows.reset_index(drop=True)
    n = len(rows)
    decided = _decision_pairs(rows, decisions)
    forbidden = set(decided["different"]) | {(c, r) for r, c in decided["different"]}
    clock.lap("decisions")

    anchor, id_heads = build_id_links(rows, forbidden)
    method = np.where(anchor >= 0, "id_exact", "singleton").astype(object)
    spine_feed = rows["feed"].to_numpy(dtype=object) == SPINE_FEED
    own_id = spine_feed | (anchor >= 0) | id_heads
    household_map = build_household_map(rows, anchor)
    coverage = spine_coverage(rows, anchor)
    clock.lap("deterministic")

    spine = np.flatnonzero((spine_feed & (anchor < 0)) | id_heads)
    # ID heads are scored too, but only against hukou rows without a valid ID: a person whose
    # hukou ID is blank or mistyped still has other departments' rows agreeing on a valid one.
    unsettled = ~spine_feed & (anchor < 0)
    unsettled[[r for r, _ in decided["same"]]] = False
    residual = np.flatnonzero(unsettled)
    no_valid_id = rows["id18"].isna().to_numpy()
    right_only = (id_heads[residual], spine_feed[spine] & no_valid_id[spine])
    rng = np.random.default_rng(people.SEED)
    settled_rows = np.flatnonzero(~spine_feed & (anchor >= 0))
    settled_rows = _sample(rng, settled_rows[spine_feed[anchor[settled_rows]]], people.SETTLED_SAMPLE)
    random_rows = _sample(rng, np.flatnonzero(~spine_feed), people.RANDOM_PAIRS)
    left, right = build_side(rows, residual, household_map), build_side(rows, spine, spine=True)
    settled = (build_side(rows, settled_rows, household_map), build_side(rows, anchor[settled_rows], spine=True))
    random_left = build_side(rows, random_rows, household_map)
    clock.lap("sides")

    prior = min(coverage / max(len(spine), 1), 0.5)
    banned = _banned_pairs(forbidden, anchor, residual, spine) if forbidden else set()
    listed = build_listed(rows, anchor)
    id_exact_u = min(borrowed_id_share(rows, anchor) / max(len(spine), 1), 0.5)
    scored = score_candidates(left, right, settled, random_left, listed, prior, banned, {"id_number": id_exact_u}, right_only)
    clock.seconds.update(scored.seconds)
    clock._last = time.perf_counter()
    none_weight = math.log2((1.0 - coverage) + coverage * people.UNBLOCKED_SHARE)
    posterior = candidate_posteriors(scored.a, scored.weights, len(left), none_weight)
    best, decision = choose_candidates(scored.a, posterior, len(left))
    probability = np.ones(n)
    weight = np.full(n, np.nan)
    levels = np.full(n, None, dtype=object)
    chosen = np.flatnonzero(decision == "link")
    pair = best[chosen]
    linked_rows = residual[chosen]
    anchor[linked_rows] = spine[scored.b[pair]]
    method[linked_rows] = "probabilistic"
    weight[linked_rows] = scored.weights[pair]
    probability[linked_rows] = posterior[pair]
    levels[linked_rows] = _levels_json(scored, pair)
    review = _review_frame(rows, residual, spine, scored, posterior, decision)
    for r, c in decided["same"]:
        anchor[r], method[r] = c, "review_decision"
        probability[r], weight[r], levels[r] = 1.0, np.nan, None
    clock.lap("choosing")

    clusters, anchor, method, refused = _clusters(rows, anchor, method, weight, own_id)
    clock.lap("clustering")
    links = _links_frame(rows, clusters, anchor, method, probability, weight, levels)
    clock.lap("output")
    model = {
        **scored.model.to_dict(),
        "upper": people.UPPER,
        "lower": people.LOWER,
        "none_weight": none_weight,
        "probability": "posterior among the row's candidates",
    }
    linked = anchor >= 0
    counts = {
        "rows": n,
        "spine_rows": len(spine),
        "id_exact": int(((method == "id_exact") & linked).sum()),
        "scored_rows": len(residual),
        "candidate_pairs": len(scored.a),
        "probabilistic": int(((method == "probabilistic") & linked).sum()),
        "review_rows": int((decision == "review").sum()),
        "review_pairs": len(review),
        "review_decision": int(((method == "review_decision") & linked).sum()),
        "conflicts_refused": refused,
        "persons": int(clusters.max(initial=-1)) + 1,
        "em_iterations": scored.model.iterations,
        "prior": prior,
        "spine_coverage": coverage,
    }
    blocking = {
        "scored": residual,
        "spine": spine,
        "pairs": pd.DataFrame({"row": residual[scored.a], "candidate": spine[scored.b]}),
    }
    return LinkResult(links, review, model, {"seconds": clock.seconds, "counts": counts}, blocking)
