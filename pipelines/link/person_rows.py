"""Person rows: every person-level source row of a night, in one shape, standardised for linkage.

Each feed's effective snapshot for the night is read once; ROW_SOURCES says which of its fields
give the name, ID number, sex, birth date, village and household of the person the row is about
(the head of a poverty household, the owner of a house or vehicle, a company's legal
representative). Names and IDs go through pipelines.standardise, each distinct value once. A bad
field becomes None and the row stays: linkage falls back on the other fields.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines import store
from pipelines.settings import Settings
from pipelines.standardise.ids import standardise_ids
from pipelines.standardise.names import standardise_names

__all__ = ["PERSON_ROW_COLUMNS", "ROW_SOURCES", "RowSource", "build_person_rows", "standardise_person_rows"]


@dataclass(frozen=True)
class RowSource:
    """Which fields of `feed` describe the person of a row; None = the feed has no such field."""

    feed: str
    role: str
    key: str
    name: str
    id_number: str
    sex: str | None = None
    birth_date: str | None = None
    village_code: str | None = None
    # (prefix, field): household_ref = prefix + ":" + value, e.g. "poverty:5227011012160001".
    household: tuple[str, str] | None = None
    # The field that says which period a row is for, when a feed lists a person once per period.
    period: str | None = None


# hukou first: it is the spine the other rows are linked to.
ROW_SOURCES: tuple[RowSource, ...] = (
    RowSource("hukou", "person", "person_no", "name", "id_number", "sex", "birth_date", "village_code", ("hukou", "hukou_no")),
    RowSource(
        "poverty_members", "person", "member_no", "name", "id_number", "sex", "birth_date", None, ("poverty", "household_no")
    ),
    RowSource(
        "poverty_households",
        "household_head",
        "household_no",
        "head_name",
        "head_id",
        None,
        None,
        "village_code",
        ("poverty", "household_no"),
    ),
    RowSource("medical_insurance", "person", "insured_no", "name", "id_number", None, None, "village_code", period="year"),
    RowSource("illness_registry", "person", "registry_no", "name", "id_number"),
    RowSource("school_enrolment", "person", "student_no", "name", "id_number", "sex", "birth_date", "village_code"),
    RowSource("minimum_living", "person", "person_no", "name", "id_number", None, None, "village_code", ("case", "case_no")),
    RowSource("dangerous_housing", "owner", "appraisal_no", "owner_name", "owner_id", None, None, "village_code"),
    RowSource("public_payroll", "person", "person_no", "name", "id_number"),
    RowSource("enterprise_registry", "legal_rep", "credit_code", "legal_rep_name", "legal_rep_id"),
    RowSource("vehicles", "owner", "plate_no", "owner_name", "owner_id"),
)

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


def build_person_rows(engine, settings: Settings, day: dt.date) -> pd.DataFrame:
    """One row per person-level source row of the night's effective snapshots (PERSON_ROW_COLUMNS).

    Feeds without any snapshot are skipped. Rows without a record key (blank rows) are left out,
    and of rows repeating a record key the first is kept; `attrs["stats"]` counts both, per feed,
    with the seconds spent.
    """
    started = time.perf_counter()
    villages = None
    used: dict[str, str] = {}
    parts, per_feed = [], {}
    # poverty_households first: its members need its villages. Each snapshot is cut down to its
    # person columns at once, so only one whole snapshot is in memory at a time.
    for source in sorted(ROW_SOURCES, key=lambda s: s.feed != "poverty_households"):
        snapshot_day = store.effective_date(engine, source.feed, day)
        if snapshot_day is None:
            continue
        snapshot = store.load_snapshot(engine, source.feed, snapshot_day)
        used[source.feed] = snapshot_day.isoformat()
        if source.feed == "poverty_households":
            households = snapshot.dropna(subset=["household_no"]).drop_duplicates("household_no")
            villages = households.set_index("household_no")["village_code"]
        raw = _raw_rows(source, snapshot, villages)
        del snapshot
        keys = raw["record_key"]
        blank = keys.isna() | keys.astype(str).str.strip().eq("")
        repeated = ~blank & keys.duplicated()
        per_feed[source.feed] = {
            "rows": int((~blank & ~repeated).sum()),
            "blank_keys": int(blank.sum()),
            "repeated_keys": int(repeated.sum()),
        }
        parts.append((source.feed, raw[~blank & ~repeated]))
    loaded = time.perf_counter()
    order = {source.feed: i for i, source in enumerate(ROW_SOURCES)}
    parts = [raw for _, raw in sorted(parts, key=lambda p: order[p[0]])]
    if not parts:
        rows = pd.DataFrame(columns=PERSON_ROW_COLUMNS)
    else:
        rows = standardise_person_rows(pd.concat(parts, ignore_index=True))
    rows.attrs["stats"] = {
        "snapshots": {feed: used[feed] for feed in sorted(used, key=order.get)},
        "feeds": {feed: per_feed[feed] for feed in sorted(per_feed, key=order.get)},
        "rows": len(rows),
        "seconds": {
            "load": round(loaded - started, 3),
            "standardise": round(time.perf_counter() - loaded, 3),
        },
    }
    return rows
