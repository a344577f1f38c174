"""Person rows: every person-level source row of a night, in one shape, standardised for linkage.

`load_person_snapshots` reads each person-level feed's effective snapshot for the night once, cut
down to the fields linkage and the base map use; the catalogue's ROW_SOURCES (pipelines.catalog)
says which of them give the name, ID number, sex, birth date, village and household of the person
a row is about (the head of a poverty household, the owner of a house or vehicle, a company's legal
representative). `build_person_rows` makes the rows: names and IDs go through
pipelines.standardise, each distinct value once. A bad field becomes None and the row stays:
linkage falls back on the other fields.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines import store
from pipelines.catalog.feeds import ROW_SOURCES, RowSource
from pipelines.standardise.ids import standardise_ids
from pipelines.standardise.names import standardise_names

__all__ = ["PersonSnapshots", "build_person_rows", "load_person_snapshots", "standardise_person_rows"]


@dataclass
class PersonSnapshots:
    """The night's effective snapshot of each person-level feed that has one, read once: feed →
    its rows in delivered order, holding the fields of its RowSource (ROW_SOURCES order)."""

    frames: dict[str, pd.DataFrame]
    dates: dict[str, str]  # feed → the snapshot's delivery date
    seconds: float  # spent reading


PERSON_ROW_COLUMNS = [
    "feed",
    "record_key",
    "role",
    "name",
    "name_norm",
    "name_pinyin",
    "name_initials",
    "id_raw",
    "id_clean",
    "id_status",
    "id18",
    "birth_date",
    "id_birth_date",
    "sex",
    "id_sex",
    "village_code",
    "household_ref",
    "period",
]

_SEXES = {"男": "男", "女": "女", "男性": "男", "女性": "女"}


def _column(snapshot: pd.DataFrame, field: str | None) -> np.ndarray:
    if field is None or field not in snapshot:
        return np.full(len(snapshot), None, dtype=object)
    return snapshot[field].to_numpy(dtype=object)


def _raw_rows(source: RowSource, snapshot: pd.DataFrame, villages: pd.Series | None) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "feed": source.feed,
            "record_key": _column(snapshot, source.key),
            "role": source.role,
            "name": _column(snapshot, source.name),
            "id_raw": _column(snapshot, source.id_number),
            "birth_date": _column(snapshot, source.birth_date),
            "sex": _column(snapshot, source.sex),
            "village_code": _column(snapshot, source.village_code),
            "household_ref": None,
            "period": _column(snapshot, source.period),
        }
    )
    if source.household is not None:
        prefix, field = source.household
        values = pd.Series(_column(snapshot, field), dtype=object)
        frame["household_ref"] = (prefix + ":" + values).where(values.notna() & values.ne(""), None).to_numpy()
        if source.village_code is None and villages is not None:
            # Members carry no village of their own: they live where their household is registered.
            frame["village_code"] = values.map(villages).to_numpy(dtype=object)
    return frame


def _valid_dates(values: pd.Series) -> pd.Series:
    """ISO dates that are real dates; anything else None (each distinct value checked once)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    parsed = pd.to_datetime(pd.Series(uniques, dtype=object), format="%Y-%m-%d", errors="coerce")
    iso = pd.Series(uniques, dtype=object).str.fullmatch(r"\d{4}-\d{2}-\d{2}", na=False)
    good = parsed.notna().to_numpy() & iso.to_numpy(dtype=bool)
    lookup = np.array([*np.where(good, uniques.astype(object), None), None], dtype=object)
    return pd.Series(lookup[codes], index=values.index, dtype=object)


def _lookup(values: pd.Series, mapping: dict) -> pd.Series:
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    lookup = np.array([*(mapping.get(str(u).strip()) for u in uniques), None], dtype=object)
    return pd.Series(lookup[codes], index=values.index, dtype=object)


def standardise_person_rows(raw: pd.DataFrame) -> pd.DataFrame:
    """Raw rows (feed, record_key, role, name, id_raw, birth_date, sex, village_code, household_ref,
    period) to PERSON_ROW_COLUMNS: standard name forms, ID status and what a good ID encodes, valid
    dates, 男/女, 12-digit village codes; anything unusable None."""
    ids = standardise_ids(raw["id_raw"])
    names = standardise_names(raw["name"])
    village = raw["village_code"].astype(object)
    village = village.where(village.str.fullmatch(r"\d{12}", na=False), None)
    out = pd.DataFrame(
        {
            "feed": raw["feed"].to_numpy(dtype=object),
            "record_key": raw["record_key"].to_numpy(dtype=object),
            "role": raw["role"].to_numpy(dtype=object),
            "name": raw["name"].to_numpy(dtype=object),
            "name_norm": names["name_norm"].to_numpy(dtype=object),
            "name_pinyin": names["name_pinyin"].to_numpy(dtype=object),
            "name_initials": names["name_initials"].to_numpy(dtype=object),
            "id_raw": raw["id_raw"].to_numpy(dtype=object),
            "id_clean": ids["id_clean"].to_numpy(dtype=object),
            "id_status": ids["id_status"].to_numpy(dtype=object),
            "id18": ids["id18"].to_numpy(dtype=object),
            "birth_date": _valid_dates(raw["birth_date"]).to_numpy(dtype=object),
            "id_birth_date": ids["id_birth_date"].to_numpy(dtype=object),
            "sex": _lookup(raw["sex"], _SEXES).to_numpy(dtype=object),
            "id_sex": ids["id_sex"].to_numpy(dtype=object),
            "village_code": village.to_numpy(dtype=object),
            "household_ref": raw["household_ref"].to_numpy(dtype=object),
            "period": raw["period"].to_numpy(dtype=object),
        }
    )
    for column in ("name_norm", "name_pinyin", "name_initials"):
        out.loc[out[column] == "", column] = None
    return out


def load_person_snapshots(engine, day: dt.date) -> PersonSnapshots:
    """Each person-level feed's effective snapshot for night `day`, cut down to the fields its
    RowSource names; feeds without any snapshot are left out."""
    started = time.perf_counter()
    frames, dates = {}, {}
    for source in ROW_SOURCES:
        snapshot_day = store.effective_date(engine, source.feed, day)
        if snapshot_day is None:
            continue
        frames[source.feed] = store.load_snapshot(engine, source.feed, snapshot_day, source.fields)
        dates[source.feed] = snapshot_day.isoformat()
    return PersonSnapshots(frames, dates, round(time.perf_counter() - started, 3))


def build_person_rows(snapshots: PersonSnapshots) -> pd.DataFrame:
    """One row per person-level source row of the night's snapshots (PERSON_ROW_COLUMNS), in
    ROW_SOURCES order.

    Rows without a record key (blank rows) are left out, and of rows repeating a record key the
    first is kept; `attrs["stats"]` counts both, per feed, with the seconds spent.
    """
    started = time.perf_counter()
    villages = None
    households = snapshots.frames.get("poverty_households")
    if households is not None:
        households = households.dropna(subset=["household_no"]).drop_duplicates("household_no")
        villages = households.set_index("household_no")["village_code"]
    parts, per_feed = [], {}
    for source in ROW_SOURCES:
        snapshot = snapshots.frames.get(source.feed)
        if snapshot is None:
            continue
        raw = _raw_rows(source, snapshot, villages)
        keys = raw["record_key"]
        blank = keys.isna() | keys.astype(str).str.strip().eq("")
        repeated = ~blank & keys.duplicated()
        per_feed[source.feed] = {
            "rows": int((~blank & ~repeated).sum()),
            "blank_keys": int(blank.sum()),
            "repeated_keys": int(repeated.sum()),
        }
        parts.append(raw[~blank & ~repeated])
    built = time.perf_counter()
    if not parts:
        rows = pd.DataFrame(columns=PERSON_ROW_COLUMNS)
    else:
        rows = standardise_person_rows(pd.concat(parts, ignore_index=True))
    rows.attrs["stats"] = {
        "snapshots": dict(snapshots.dates),
        "feeds": per_feed,
        "rows": len(rows),
        "seconds": {
            "load": round(snapshots.seconds + built - started, 3),
            "standardise": round(time.perf_counter() - built, 3),
        },
    }
    return rows
