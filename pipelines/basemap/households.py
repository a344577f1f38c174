"""Which household each person belongs to, and each household's village and head.

A household is keyed on the hukou 户号 ('hukou:<户号>') wherever the police register has one. A person
without a hukou row joins the registered household that most of the people sharing their
department household number (poverty 户编号 'poverty:…', assistance case 'case:…') belong to; failing
that, the department household itself is the household. The household code (一户一码) follows the
key (pipelines.basemap.identity.assign_household_codes).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.basemap.attributes import authority_order
from pipelines.catalog.feeds import SPINE_FEED

__all__ = ["assign_households"]

HUKOU_PREFIX = "hukou:"
HEAD_RELATION = "户主"


def _first_per_person(people: np.ndarray, values: np.ndarray) -> pd.Series:
    """The first value of each person in person-sorted arrays."""
    if not len(people):
        return pd.Series([], dtype=object)
    first = np.r_[True, people[1:] != people[:-1]]
    return pd.Series(values[first], index=people[first], dtype=object)


def _present(array: np.ndarray) -> np.ndarray:
    return array.astype(bool) & (array == array)


def _mode(keys: np.ndarray, values: np.ndarray) -> pd.Series:
    """The most common value per key (ties: the smallest value); missing keys or values ignored.

    Works on factorised integer codes: sorting millions of strings is what makes the obvious
    groupby-and-sort slow."""
    key_codes, key_names = pd.factorize(keys)
    value_codes, value_names = pd.factorize(values, sort=True)
    keep = (key_codes >= 0) & (value_codes >= 0)
    combined = key_codes[keep].astype(np.int64) * max(len(value_names), 1) + value_codes[keep]
    combined = np.sort(combined)
    starts = np.flatnonzero(np.r_[True, combined[1:] != combined[:-1]]) if len(combined) else np.zeros(0, np.int64)
    pairs, counts = combined[starts], np.diff(np.r_[starts, len(combined)])
    key_of, value_of = pairs // max(len(value_names), 1), pairs % max(len(value_names), 1)
    best = np.lexsort((value_of, -counts, key_of))
    first = np.r_[True, key_of[best][1:] != key_of[best][:-1]] if len(best) else np.zeros(0, dtype=bool)
    chosen = best[first]
    return pd.Series(
        np.asarray(value_names, dtype=object)[value_of[chosen]],
        index=np.asarray(key_names, dtype=object)[key_of[chosen]],
        dtype=object,
    )


def _registered(refs: np.ndarray) -> np.ndarray:
    return np.fromiter((ref.startswith(HUKOU_PREFIX) for ref in refs), dtype=bool, count=len(refs))


def assign_households(
    rows: pd.DataFrame, relation: np.ndarray, person: np.ndarray, villages: pd.Series, order: np.ndarray | None = None
) -> tuple[pd.Series, pd.DataFrame]:
    """Each person's household key, and one row per household.

    `rows`: feed, role, household_ref (one per source row, in delivered order); `relation`: each
    row's 与户主关系 (hukou and poverty members) or None; `person`: an integer code of each row's
    person; `villages`: each person's chosen village code (index: person code); `order`:
    authority_order of the rows if already known. Returns (household_key indexed by person code,
    only for persons with a household) and a frame household_key, hukou_no, village_code (most
    common among its people), head (person code of the hukou 户主, else of the poverty household's
    head, else of the poverty member recorded as 户主), sorted by household_key.
    """
    person = np.asarray(person)
    order = authority_order(rows["feed"], person) if order is None else order
    refs_all = rows["household_ref"].to_numpy(dtype=object)[order]
    has_ref = _present(refs_all)
    at = order[has_ref]
    people, refs = person[at], refs_all[has_ref]
    registered = _registered(refs)
    hukou_home = _first_per_person(people[registered], refs[registered])

    # A department household belongs to the registered household most of its people are in.
    other_people, other_refs = people[~registered], refs[~registered]
    voters = hukou_home.reindex(other_people).to_numpy(dtype=object)
    votes = pd.DataFrame({"ref": other_refs, "person": other_people, "home": voters}).dropna().drop_duplicates(["ref", "person"])
    ref_home = _mode(votes["ref"].to_numpy(dtype=object), votes["home"].to_numpy(dtype=object))
    resolved = ref_home.reindex(other_refs).to_numpy(dtype=object)
    joined = _first_per_person(other_people[pd.notna(resolved)], resolved[pd.notna(resolved)])
    own = _first_per_person(other_people, other_refs)
    home = hukou_home.combine_first(joined).combine_first(own).rename("household_key")
    home.index.name = "person"

    # The head: hukou 户主, else the poverty household's head row, else the poverty member 户主.
    mapped = ref_home.reindex(refs).to_numpy(dtype=object)
    resolved_all = np.where(registered | pd.isna(mapped), refs, mapped)
    in_home = resolved_all == home.reindex(people).to_numpy(dtype=object)
    feeds = rows["feed"].to_numpy(dtype=object)[at]
    relations = np.asarray(relation, dtype=object)[at]
    role = rows["role"].to_numpy(dtype=object)[at]
    rank = np.select(
        [
            (feeds == SPINE_FEED) & (relations == HEAD_RELATION),
            role == "household_head",
            (feeds == "poverty_members") & (relations == HEAD_RELATION),
        ],
        [0, 1, 2],
        default=-1,
    )
    candidate = in_home & (rank >= 0)
    heads = pd.DataFrame({"household_key": resolved_all[candidate], "rank": rank[candidate], "person": people[candidate]})
    head = (
        heads.sort_values(["household_key", "rank", "person"])
        .drop_duplicates("household_key")
        .set_index("household_key")["person"]
    )

    keys = np.sort(home.unique().astype(object)) if len(home) else np.array([], dtype=object)
    registered_keys = _registered(keys)
    households = pd.DataFrame({"household_key": keys})
    households["hukou_no"] = np.where(registered_keys, [k[len(HUKOU_PREFIX) :] for k in keys], None)  # type: ignore[call-overload]  # numpy's stubs leave None out of ArrayLike
    households["village_code"] = households["household_key"].map(
        _mode(home.to_numpy(dtype=object), villages.reindex(home.index).to_numpy(dtype=object))
    )
    households["head"] = households["household_key"].map(head).astype("Int64")
    return home, households
