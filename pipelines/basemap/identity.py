"""Stable identity: person IDs and household codes that stay put from night to night.

The linker numbers tonight's clusters afresh; these pure functions give each cluster the person ID
its records had last night, and each household the code its key has always had. Readable codes:

- person_id: 'P' + 9 digits, e.g. P000000042, from one sequence (max ever issued + 1);
- household_code (一户一码): 'H' + the 12-digit village code where the household was first seen
  + a 4-digit sequence within that village, e.g. H5227251022030007.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import pandas as pd

from pipelines.catalog.feeds import SPINE_FEED
from pipelines.errors import BiduiError

__all__ = [
    "assign_household_codes",
    "assign_person_ids",
    "format_person_id",
    "match_rows",
    "next_person_number",
    "person_number",
    "unique_rows",
]

UNKNOWN_VILLAGE = "000000000000"
_PERSON_DIGITS = 9
_HOUSEHOLD_SEQUENCE_DIGITS = 4


def format_person_id(number: int) -> str:
    """42 → 'P000000042'."""
    if not 0 < number < 10**_PERSON_DIGITS:
        raise BiduiError(f"人员编号已用尽或无效：{number}")
    return f"P{number:0{_PERSON_DIGITS}d}"


def person_number(person_id: str) -> int:
    """'P000000042' → 42."""
    return int(person_id[1:])


def next_person_number(issued: pd.Series | list[str]) -> int:
    """The number after the largest person ID ever issued (1 for an empty store)."""
    values = pd.Series(issued, dtype=object).dropna()
    return int(values.str.slice(1).astype(np.int64).max()) + 1 if len(values) else 1


def _by_feed(*frames: pd.DataFrame) -> Iterator[list[np.ndarray]]:
    """(row positions of each frame) per feed: work on one record-key column at a time, which is
    far cheaper than hashing (feed, record_key) pairs of millions of rows."""
    codes, feeds = pd.factorize(np.concatenate([f["feed"].to_numpy(dtype=object) for f in frames]))
    bounds = np.cumsum([0, *(len(f) for f in frames)])
    parts = [codes[a:b] for a, b in itertools.pairwise(bounds)]
    for code in range(len(feeds)):
        yield [np.flatnonzero(part == code) for part in parts]


def unique_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` without rows lacking a record key and without repeats of a (feed, record_key)."""
    keys = frame["record_key"].to_numpy(dtype=object)
    drop = pd.isna(keys)
    for (positions,) in _by_feed(frame):
        drop[positions] |= pd.Series(keys[positions]).duplicated().to_numpy()
    # Copying a frame of millions of rows costs more than checking it: copy only when needed.
    return frame[~drop] if drop.any() else frame


def match_rows(left: pd.DataFrame, right: pd.DataFrame) -> np.ndarray:
    """For each row of `left`, the position of the row with the same (feed, record_key) in `right`
    (which holds each at most once), or -1."""
    found = np.full(len(left), -1, dtype=np.int64)
    left_keys, right_keys = left["record_key"].to_numpy(dtype=object), right["record_key"].to_numpy(dtype=object)
    for in_left, in_right in _by_feed(left, right):
        if len(in_left) and len(in_right):
            at = pd.Index(right_keys[in_right]).get_indexer(left_keys[in_left])
            found[in_left] = np.where(at >= 0, in_right[np.maximum(at, 0)], -1)
    return found


def _first_row_order(records: pd.DataFrame) -> pd.Series:
    """Each cluster's first row position: new IDs go out in the order the rows came, which does
    not depend on how the linker happened to number its clusters."""
    clusters = records["cluster"].to_numpy()
    first = ~pd.Series(clusters).duplicated().to_numpy()
    return pd.Series(np.flatnonzero(first), index=clusters[first])


def _claims(records: pd.DataFrame, previous: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per (cluster, old person ID) with the claim's strength, strongest first; old IDs
    as codes into the returned array of IDs (codes in ID order)."""
    at = match_rows(records, previous)
    held = at >= 0
    codes, old_ids = pd.factorize(previous["person_id"].to_numpy(dtype=object)[at[held]], sort=True)
    held_rows = pd.DataFrame(
        {
            "cluster": records["cluster"].to_numpy()[held],
            "old": codes,
            "spine": records["feed"].to_numpy(dtype=object)[held] == SPINE_FEED,
        }
    )
    claims = held_rows.groupby(["cluster", "old"], sort=False).agg(votes=("spine", "size"), spine=("spine", "any")).reset_index()
    claims["size"] = claims["cluster"].map(records.groupby("cluster").size())
    # A strict total order, so "best claim" is never a coin toss: more records that held the ID,
    # then the one holding the hukou record that held it, then the larger cluster, then the numbers.
    ranked = np.lexsort(
        (claims["old"], claims["cluster"], -claims["size"], ~claims["spine"].to_numpy(dtype=bool), -claims["votes"])
    )
    return claims.iloc[ranked].reset_index(drop=True), np.asarray(old_ids, dtype=object)


def _match_claims(claims: pd.DataFrame) -> pd.DataFrame:
    """Greedy one-to-one matching of clusters to old IDs in claim order.

    Taking in each round every claim that is the best left both for its cluster and for its ID gives
    the same matching as taking claims one by one in order, in a few vectorised rounds. A cluster
    that loses its favourite ID to a stronger claim still gets its next best ID if nobody wants it.
    """
    claims = claims[["cluster", "old"]].assign(rank=np.arange(len(claims)))
    kept = []
    while len(claims):
        best_for_cluster = claims.groupby("cluster")["rank"].transform("min") == claims["rank"]
        best_for_id = claims.groupby("old")["rank"].transform("min") == claims["rank"]
        mutual = claims[best_for_cluster & best_for_id]
        kept.append(mutual[["cluster", "old"]])
        claims = claims[~claims["cluster"].isin(mutual["cluster"]) & ~claims["old"].isin(mutual["old"])]
    return pd.concat(kept, ignore_index=True) if kept else pd.DataFrame({"cluster": [], "old": []}, dtype=np.int64)


def assign_person_ids(records: pd.DataFrame, previous: pd.DataFrame, next_number: int) -> pd.DataFrame:
    """A person ID for every cluster of tonight.

    `records`: feed, record_key, cluster (one row per source row); `previous`: feed, record_key,
    person_id of the last night linked. A cluster keeps the ID most of its records had (the hukou
    record's ID wins a tie); when two clusters claim one ID the one with more of its records, then the
    hukou-holding one, then the larger one keeps it. Clusters left without an ID get new ones from
    `next_number` on, in the order of their first row.

    Returns cluster, person_id, kept (True when the ID was carried over), sorted by cluster.
    """
    records = records[["feed", "record_key", "cluster"]]
    claims, old_ids = _claims(records, previous)
    matched = _match_claims(claims)
    order = _first_row_order(records)
    clusters = np.sort(order.index.to_numpy())
    person_id = pd.Series(None, index=clusters, dtype=object)
    person_id[matched["cluster"].to_numpy()] = old_ids[matched["old"].to_numpy(dtype=np.int64)]
    kept = person_id.notna().to_numpy()
    fresh = order[~order.index.isin(matched["cluster"])].sort_values()
    person_id[fresh.index.to_numpy()] = [format_person_id(next_number + i) for i in range(len(fresh))]
    return pd.DataFrame({"cluster": clusters, "person_id": person_id.to_numpy(dtype=object), "kept": kept})


def _village_of(code: object) -> str:
    text = str(code) if code is not None and code == code else ""
    return text if len(text) == 12 and text.isdigit() else UNKNOWN_VILLAGE


def assign_household_codes(households: pd.DataFrame, existing: pd.DataFrame) -> pd.DataFrame:
    """A code for every household key: the code it has always had, else a new one.

    `households`: household_key, village_code (tonight); `existing`: household_key, household_code
    (every code ever issued). A new household gets 'H' + its village code (000000000000 when it has
    none) + the next 4-digit sequence number in that village, in household_key order.
    Returns household_key, household_code, new (True for codes issued now), sorted by household_key.
    """
    tonight = households.drop_duplicates("household_key").sort_values("household_key", ignore_index=True)
    known = dict(zip(existing["household_key"], existing["household_code"]))
    codes = tonight["household_key"].map(known).astype(object)
    new = codes.isna()
    issued = pd.Series(list(existing["household_code"]), dtype=object)
    last = issued.str.slice(13).astype(np.int64).groupby(issued.str.slice(1, 13).to_numpy()).max() if len(issued) else {}
    villages = tonight.loc[new, "village_code"].map(_village_of)
    sequence = villages.groupby(villages.to_numpy()).cumcount() + 1 + villages.map(last).fillna(0).astype(np.int64)
    if len(sequence) and sequence.max() >= 10**_HOUSEHOLD_SEQUENCE_DIGITS:
        full = villages[sequence >= 10**_HOUSEHOLD_SEQUENCE_DIGITS].iloc[0]
        raise BiduiError(f"村 {full} 的户编码序号已用尽（每村最多 9999 户）")
    codes[new] = "H" + villages + sequence.map(lambda n: f"{n:0{_HOUSEHOLD_SEQUENCE_DIGITS}d}")
    return pd.DataFrame({"household_key": tonight["household_key"], "household_code": codes, "new": new.to_numpy()})
