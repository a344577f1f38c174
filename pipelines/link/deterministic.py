"""The deterministic pass: rows settled by a valid ID number, and what they teach the rest.

`build_id_links` links a row to the hukou row with its valid ID when the name or the birth date
agrees too; hukou rows sharing an ID are one person; rows whose valid ID hukou lacks form one
person per ID. `build_household_map` and `spine_coverage` read the settled rows for the
probabilistic pass: which 户号 each department household mostly went to, and how many rows the
spine knows at all.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet

import numpy as np
import pandas as pd

from pipelines.catalog.feeds import SPINE_FEED

__all__ = ["borrowed_id_share", "build_household_map", "build_id_links", "spine_coverage"]


def _agree(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return pd.notna(x) & pd.notna(y) & (x == y)


def _first_of_group(positions: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, pd.Index, np.ndarray]:
    """For rows at `positions` with `values`: the position of the first row with the same value;
    the distinct values; and the first row's position for each of them."""
    codes, uniques = pd.factorize(values)
    first = np.full(len(uniques), -1, dtype=np.int64)
    first[codes[::-1]] = positions[::-1]  # the last write wins, so the first row per value remains
    return first[codes], pd.Index(uniques), first


def build_id_links(rows: pd.DataFrame, forbidden: AbstractSet[tuple[int, int]] = frozenset()) -> tuple[np.ndarray, np.ndarray]:
    """(anchor position per row or -1, which rows head a group of a valid ID the spine lacks).

    A row's valid ID equal to a hukou row's settles it when the name agrees (normalised form or
    pinyin) or its own birth date does; otherwise the ID may be somebody else's (R18) and the row
    is left to scoring. `forbidden` (row, hukou row) pairs are never linked here.
    """
    n = len(rows)
    anchor = np.full(n, -1, dtype=np.int64)
    id18 = rows["id18"].to_numpy(dtype=object)
    spine = rows["feed"].to_numpy(dtype=object) == SPINE_FEED
    has_id = pd.notna(id18)

    spine_rows = np.flatnonzero(spine & has_id)
    first, known, first_by_id = _first_of_group(spine_rows, id18[spine_rows])
    anchor[spine_rows] = np.where(first == spine_rows, -1, first)

    others = np.flatnonzero(~spine & has_id)
    found = known.get_indexer(id18[others])
    in_spine = found >= 0
    rows_in, hukou = others[in_spine], first_by_id[found[in_spine]]
    norm, pinyin = rows["name_norm"].to_numpy(dtype=object), rows["name_pinyin"].to_numpy(dtype=object)
    birth = rows["birth_date"].to_numpy(dtype=object)
    spine_birth = np.where(pd.notna(birth), birth, rows["id_birth_date"].to_numpy(dtype=object))
    agrees = (
        _agree(norm[rows_in], norm[hukou]) | _agree(pinyin[rows_in], pinyin[hukou]) | _agree(birth[rows_in], spine_birth[hukou])
    )
    if forbidden:
        agrees &= np.array([(int(r), int(h)) not in forbidden for r, h in zip(rows_in, hukou)], dtype=bool)
    anchor[rows_in[agrees]] = hukou[agrees]

    outside = others[~in_spine]
    first, _, _ = _first_of_group(outside, id18[outside])
    anchor[outside] = np.where(first == outside, -1, first)
    heads = np.zeros(n, dtype=bool)
    heads[outside[first == outside]] = True
    return anchor, heads


def build_household_map(rows: pd.DataFrame, anchor: np.ndarray) -> pd.Series:
    """household_ref → the 户号 most of its ID-settled rows' hukou rows have (ties: the smaller)."""
    refs = rows["household_ref"].to_numpy(dtype=object)
    linked = np.flatnonzero((anchor >= 0) & pd.notna(refs))
    hukou = pd.Series(refs[anchor[linked]], dtype=object)
    on_hukou = hukou.str.startswith("hukou:", na=False).to_numpy()
    pairs = pd.DataFrame({"ref": refs[linked][on_hukou], "hukou_no": hukou[on_hukou].str[6:].to_numpy()})
    if pairs.empty:
        return pd.Series(dtype=object)
    counts = pairs.value_counts(["ref", "hukou_no"], sort=False).reset_index(name="n")
    counts = counts.sort_values(["ref", "n", "hukou_no"], ascending=[True, False, True], kind="stable")
    return counts.drop_duplicates("ref").set_index("ref")["hukou_no"]


def spine_coverage(rows: pd.DataFrame, anchor: np.ndarray) -> float:
    """Share of non-spine rows with a valid ID whose ID the spine knows (add-one smoothed): how
    likely a row's person is in the spine at all."""
    spine = rows["feed"].to_numpy(dtype=object) == SPINE_FEED
    has_id = pd.notna(rows["id18"].to_numpy(dtype=object)) & ~spine
    ids = rows["id18"].to_numpy(dtype=object)
    known = pd.Index(ids[spine & pd.notna(ids)]).unique()
    in_spine = np.zeros(len(rows), dtype=bool)
    in_spine[has_id] = known.get_indexer(ids[has_id]) >= 0
    return float((in_spine.sum() + 1) / (has_id.sum() + 1))


def borrowed_id_share(rows: pd.DataFrame, anchor: np.ndarray) -> float:
    """Share of non-spine rows whose valid ID the spine knows that the ID could not settle (name
    and birth date both disagree): an upper bound on how often a row carries somebody else's ID
    (a typo in the name counts too), add-one smoothed.

    Random row–spine pairs cannot tell this: the few of them sharing an ID are nearly all true
    matches, so the u they give "same ID" is the match rate 1/N, not the rate at which two
    different persons share an ID, which is this share / N.
    """
    spine = rows["feed"].to_numpy(dtype=object) == SPINE_FEED
    ids = rows["id18"].to_numpy(dtype=object)
    known = pd.Index(ids[spine & pd.notna(ids)]).unique()
    others = np.flatnonzero(~spine & pd.notna(ids))
    in_spine = others[known.get_indexer(ids[others]) >= 0]
    unsettled = int((anchor[in_spine] < 0).sum())
    return float((unsettled + 1) / (len(in_spine) + 1))
