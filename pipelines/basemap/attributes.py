"""Which value the base map keeps for each person attribute, and whose word it is.

Hukou (police household registration) is authoritative for identity: name, ID number, sex, birth
date, ethnicity, village and hukou state; when hukou lacks a value the next source in
IDENTITY_ORDER gives it. Each department is authoritative for its own facts (insured from medical
insurance, enrolment from school, …). Every chosen value keeps its source row as 'feed:record_key'.
The authority order and which feed gives which fact are the catalogue's (pipelines.catalog).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.basemap.identity import match_rows, unique_rows
from pipelines.catalog.feeds import ATTRIBUTE_SOURCES, FACTS, IDENTITY_ORDER
from pipelines.store.tables import PERSON_ATTRIBUTES

__all__ = ["authority_order", "build_row_values", "choose_attributes"]


def _objects(values: pd.Series) -> np.ndarray:
    """A column as an object array whose missing cells are None or NaN, never pd.NA (which
    refuses to be tested for truth)."""
    if isinstance(values.dtype, pd.api.extensions.ExtensionDtype) or values.dtype.kind == "f":
        return values.astype(object).where(values.notna(), None).to_numpy(dtype=object)
    return values.to_numpy(dtype=object)


def _present(array: np.ndarray) -> np.ndarray:
    """Cells holding a value: not None, not NaN (the only value unequal to itself), not ''."""
    return array.astype(bool) & (array == array)


def _coalesce(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    return np.where(_present(first), first, second)


def build_row_values(rows: pd.DataFrame, facts: pd.DataFrame) -> pd.DataFrame:
    """Each source row's candidate value per attribute (plus `relation`), next to feed, record_key.

    `rows`: person rows (name, name_norm, id18, sex, id_sex, birth_date, id_birth_date,
    village_code); `facts`: feed, record_key and the FACTS columns. A row's own sex and birth date
    win over what its ID number says; the standardised name over the delivered one.
    """
    column = {
        name: _objects(rows[name])
        for name in ("name", "name_norm", "id18", "sex", "id_sex", "birth_date", "id_birth_date", "village_code")
    }
    values = {"feed": rows["feed"].to_numpy(dtype=object), "record_key": rows["record_key"].to_numpy(dtype=object)}
    facts = unique_rows(facts)
    at = match_rows(pd.DataFrame(values), facts)
    found = at >= 0
    for fact in FACTS:
        values[fact] = np.full(len(rows), None, dtype=object)
        if fact in facts.columns:
            values[fact][found] = _objects(facts[fact])[at[found]]
    values["name"] = _coalesce(column["name_norm"], column["name"])
    values["id_number"] = column["id18"]
    values["sex"] = _coalesce(column["sex"], column["id_sex"])
    values["birth_date"] = _coalesce(column["birth_date"], column["id_birth_date"])
    values["village_code"] = column["village_code"]
    return pd.DataFrame(values)


def authority_order(feed: pd.Series, person: np.ndarray) -> np.ndarray:
    """Row positions sorted by person, then IDENTITY_ORDER, then position (the delivered order)."""
    codes, feeds = pd.factorize(np.asarray(feed, dtype=object))
    ranks = {name: i for i, name in enumerate(IDENTITY_ORDER)}
    rank = np.array([ranks.get(f, len(IDENTITY_ORDER)) for f in feeds], dtype=np.int64)[codes]
    return np.lexsort((np.arange(len(codes)), rank, np.asarray(person)))


def _firsts(sorted_people: np.ndarray) -> np.ndarray:
    """Where each run of one person starts in a sorted array."""
    return np.r_[True, sorted_people[1:] != sorted_people[:-1]] if len(sorted_people) else np.zeros(0, dtype=bool)


def choose_attributes(values: pd.DataFrame, person: np.ndarray, order: np.ndarray | None = None) -> pd.DataFrame:
    """One row per person (index: the distinct values of `person`, sorted): every attribute of
    PERSON_ATTRIBUTES and its source ('feed:record_key').

    `values`: from build_row_values; `person`: an integer code of each row's person; `order`:
    authority_order of the rows if already known. A value is taken from the first allowed source
    that has one.
    """
    person = np.asarray(person)
    order = authority_order(values["feed"], person) if order is None else order
    sorted_people = person[order]
    people = sorted_people[_firsts(sorted_people)]  # np.unique hashes, and is far slower
    feeds = values["feed"].to_numpy(dtype=object)
    feed_codes, feed_names = pd.factorize(feeds)
    sorted_codes = feed_codes[order]
    chosen: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for attribute in PERSON_ATTRIBUTES:
        allowed = np.isin(np.asarray(feed_names, dtype=object), ATTRIBUTE_SOURCES[attribute])
        candidates = order[allowed[sorted_codes]]  # still in person, authority order
        rows = candidates[_present(values[attribute].to_numpy(dtype=object)[candidates])]
        owners = person[rows]
        first = _firsts(owners)
        chosen[attribute] = (rows[first], owners[first])
    # One source string per row that gave anything: name, ID, sex … from one hukou row share it.
    gave = np.zeros(len(person), dtype=bool)
    for rows, _ in chosen.values():
        gave[rows] = True
    givers = np.flatnonzero(gave)
    text_of_row = np.cumsum(gave) - 1
    keys = values["record_key"].to_numpy(dtype=object)
    texts = np.array([f"{f}:{k}" for f, k in zip(feeds[givers], keys[givers])], dtype=object)
    data: dict[str, np.ndarray] = {}
    for attribute, source in PERSON_ATTRIBUTES.items():
        rows, owners = chosen[attribute]
        at = np.searchsorted(people, owners)
        data[attribute] = np.full(len(people), None, dtype=object)
        data[source] = np.full(len(people), None, dtype=object)
        data[attribute][at] = values[attribute].to_numpy(dtype=object)[rows]
        data[source][at] = texts[text_of_row[rows]]
    return pd.DataFrame(data, index=pd.Index(people, name="person"))
