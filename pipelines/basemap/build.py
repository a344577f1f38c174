"""The base map (底图) of one night, built from the person rows and the linker's result.

`build_base_map` is pure (so it can be tested on a hand-made LinkResult): tonight's clusters become
the persons and households of the base map with the IDs they had before (pipelines.basemap.identity),
each attribute gets its value and source (pipelines.basemap.attributes), and each person a household
(pipelines.basemap.households).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pipelines import store
from pipelines.basemap.attributes import authority_order, build_row_values, choose_attributes
from pipelines.basemap.households import assign_households
from pipelines.basemap.identity import assign_household_codes, assign_person_ids, match_rows, unique_rows
from pipelines.catalog.feeds import FACT_FIELDS, FACTS, record_key

__all__ = ["BaseMap", "build_base_map", "build_facts"]


@dataclass
class BaseMap:
    """One night's base map, ready to store: frames in the shape pipelines.store writes."""

    links: pd.DataFrame  # store.LINK_COLUMNS
    persons: pd.DataFrame  # PERSON_COLUMNS without first_seen/last_seen
    households: pd.DataFrame  # HOUSEHOLD_COLUMNS without first_seen/last_seen
    review: pd.DataFrame  # store.REVIEW_COLUMNS
    counts: dict[str, int] = field(default_factory=dict)


def _pair_keys(frame: pd.DataFrame, reverse: bool = False) -> pd.Series:
    parts = (
        ["candidate_feed", "candidate_key", "feed", "record_key"]
        if reverse
        else ["feed", "record_key", "candidate_feed", "candidate_key"]
    )
    text = frame[parts].astype(str)
    return text[parts[0]] + "\t" + text[parts[1]] + "\t" + text[parts[2]] + "\t" + text[parts[3]]


def _review_rows(review: pd.DataFrame, decisions: pd.DataFrame | None) -> pd.DataFrame:
    columns = store.REVIEW_COLUMNS
    review = review.reindex(columns=[c for c in columns if c != "status"]).drop_duplicates(
        ["feed", "record_key", "candidate_feed", "candidate_key"]
    )
    decided = set()
    if decisions is not None and len(decisions):
        decided = set(_pair_keys(decisions)) | set(_pair_keys(decisions, reverse=True))
    status = _pair_keys(review).isin(decided).map({True: "decided", False: "open"})
    return review.assign(status=status.to_numpy()).reset_index(drop=True)[columns]


def build_base_map(
    rows: pd.DataFrame,
    result: Any,
    previous: pd.DataFrame,
    next_person_number: int,
    household_keys: pd.DataFrame,
    facts: pd.DataFrame,
    decisions: pd.DataFrame | None = None,
) -> BaseMap:
    """Tonight's base map from the person rows and the LinkResult (see the linkage contract).

    `previous`: feed, record_key, person_id of the last night linked; `household_keys`: every
    household_key → household_code issued; `facts`: feed, record_key and attributes.FACTS.
    Persons are handled as integer codes (their cluster's position) until the frames are made.
    """
    linked = unique_rows(result.links)
    ids = assign_person_ids(linked, previous, next_person_number)
    person_ids = ids["person_id"].to_numpy(dtype=object)  # a person's code is its position here
    link_person = pd.Index(ids["cluster"]).get_indexer(linked["cluster"].to_numpy())
    rows = unique_rows(rows)
    at = match_rows(rows, linked)
    if (at < 0).any():  # rows the linker did not return are left out, as links are the truth
        rows = rows[at >= 0]
        at = at[at >= 0]
    person = link_person[at]

    values = build_row_values(rows, facts)
    order = authority_order(values["feed"], person)
    persons = choose_attributes(values, person, order)
    home, households = assign_households(rows, values["relation"].to_numpy(), person, persons["village_code"], order)
    codes = assign_household_codes(households[["household_key", "village_code"]], household_keys)
    code_of_key = codes.set_index("household_key")["household_code"]
    households.insert(0, "household_code", households["household_key"].map(code_of_key))
    head = households.pop("head")
    households["head_person_id"] = np.where(head.isna(), None, person_ids[head.fillna(0).to_numpy(dtype=np.int64)])
    person_code = home.map(code_of_key)
    persons.insert(0, "household_code", _none_for_missing(person_code.reindex(persons.index)))
    persons.insert(0, "person_id", person_ids[persons.index.to_numpy()])

    link_rows = linked.assign(
        person_id=person_ids[link_person], household_code=_none_for_missing(person_code.reindex(link_person))
    )
    counts = {
        "rows": len(link_rows),
        "persons": len(persons),
        "persons_kept": int(ids["kept"].sum()),
        "persons_new": int((~ids["kept"]).sum()),
        "households": len(households),
        "households_new": int(codes["new"].sum()),
        "review_pairs": len(result.review),
    }
    households = households[store.HOUSEHOLD_COLUMNS[:-2]]
    return BaseMap(
        link_rows.reindex(columns=store.LINK_COLUMNS).reset_index(drop=True),
        persons.reset_index(drop=True),
        households.astype(object).where(households.notna(), None),
        _review_rows(result.review, decisions),
        counts,
    )


def _none_for_missing(values: pd.Series) -> np.ndarray:
    array = values.to_numpy(dtype=object)
    array[pd.isna(array)] = None
    return array


def build_facts(snapshots: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """feed, record_key and the FACT_FIELDS facts of each person-level feed's snapshot of the night
    (`snapshots`: feed → its rows in delivered order, with at least the record key and fact fields;
    a feed without a snapshot gives nothing). Rows without a record key are left out."""
    frames = []
    for feed, fields in FACT_FIELDS.items():
        snapshot = snapshots.get(feed)
        if snapshot is None:
            continue
        keys = snapshot[record_key(feed)]
        keyed = keys.notna().to_numpy()
        facts = {fact: snapshot[column].to_numpy(dtype=object)[keyed] for fact, column in fields.items()}
        frames.append(pd.DataFrame({"feed": feed, "record_key": keys.to_numpy(dtype=object)[keyed], **facts}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["feed", "record_key", *FACTS])
