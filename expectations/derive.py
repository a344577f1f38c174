"""Derived columns the expectations look at: parsed dates, years, numbers, region codes, ID statuses.

Ingestion leaves every value as text. Expectations that compare values (ranges, orders, sets) run on
a parsed copy next to the raw column, so a value that does not parse shows up as "present in the
raw column, missing in the parsed one" and every check stays a vectorised pandas operation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.catalog.feeds import FeedSpec

__all__ = [
    "INDEX",
    "build_check_frame",
    "derived",
    "parse_iso_dates",
    "parse_numbers",
    "parse_years",
    "twelve_digit_codes",
]

INDEX = "row_no"

_SUFFIX = {"date": "ymd", "year": "year", "integer": "num", "number": "num", "region": "code12", "id": "id_status"}
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
# [0-9], not \d: Python's \d also matches full-width and other Unicode digits.
_INTEGER = r"[+-]?[0-9]+"
_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"


def derived(field: str, kind: str) -> str:
    """Name of the parsed column that sits next to a raw field of the given kind."""
    return f"{field}__{_SUFFIX[kind]}"


def _text(values: pd.Series) -> pd.Series:
    """Values as object-dtype text with None for missing, whatever dtype arrived."""
    text = values.astype(object).where(values.notna(), None)
    if pd.api.types.infer_dtype(text, skipna=True) not in ("string", "empty"):
        text = text.map(lambda v: v if v is None or isinstance(v, str) else str(v))
    return text


def parse_iso_dates(values: pd.Series) -> pd.Series:
    """'YYYY-MM-DD' text of a real calendar day -> float yyyymmdd; anything else -> NaN."""
    out = np.full(len(values), np.nan)
    raw = values.to_numpy(dtype=object)
    lengths = np.fromiter((len(v) if isinstance(v, str) else 0 for v in raw), dtype=np.int64, count=len(raw))
    at = np.flatnonzero(lengths == 10)
    if len(at):
        points = np.array(raw[at].tolist(), dtype="<U10").view(np.uint32).reshape(len(at), 10)
        digits = points.astype(np.int64) - ord("0")
        digit_cols = [0, 1, 2, 3, 5, 6, 8, 9]
        shape_ok = ((digits[:, digit_cols] >= 0) & (digits[:, digit_cols] <= 9)).all(axis=1)
        shape_ok &= (points[:, 4] == ord("-")) & (points[:, 7] == ord("-"))
        year = digits[:, 0] * 1000 + digits[:, 1] * 100 + digits[:, 2] * 10 + digits[:, 3]
        month = digits[:, 5] * 10 + digits[:, 6]
        day = digits[:, 8] * 10 + digits[:, 9]
        leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
        month_ok = (month >= 1) & (month <= 12)
        last_day = _DAYS_IN_MONTH[np.where(month_ok, month, 0)] + ((month == 2) & leap)
        ok = shape_ok & month_ok & (day >= 1) & (day <= last_day)
        out[at[ok]] = (year * 10000 + month * 100 + day)[ok]
    return pd.Series(out, index=values.index)


def parse_years(values: pd.Series) -> pd.Series:
    """Four-digit year text -> float year; anything else -> NaN."""
    text = _text(values)
    four = text.str.fullmatch(r"[0-9]{4}", na=False).astype(bool)
    return pd.to_numeric(text.where(four), errors="coerce").astype(float)


def parse_numbers(values: pd.Series, integer: bool) -> pd.Series:
    """Plain decimal text -> float (whole numbers only when `integer`); anything else -> NaN."""
    text = _text(values)
    ok = text.str.fullmatch(_INTEGER if integer else _NUMBER, na=False).astype(bool)
    return pd.to_numeric(text.where(ok), errors="coerce").astype(float)


def twelve_digit_codes(values: pd.Series) -> pd.Series:
    """The value where it is a 12-digit code, else None."""
    text = _text(values)
    ok = text.str.fullmatch(r"[0-9]{12}", na=False).astype(bool)
    return text.where(ok, None)


def _id_statuses(values: pd.Series) -> pd.Series:
    from pipelines.standardise.ids import id_statuses

    return id_statuses(_text(values))


_PARSERS = {
    "date": parse_iso_dates,
    "year": parse_years,
    "integer": lambda v: parse_numbers(v, integer=True),
    "number": lambda v: parse_numbers(v, integer=False),
    "region": twelve_digit_codes,
    "id": _id_statuses,
}


def build_check_frame(spec: FeedSpec, frame: pd.DataFrame) -> pd.DataFrame:
    """The frame the suite runs on: the feed's fields as text, a parsed column beside each typed one,
    indexed by row_no so Great Expectations names failing rows by their source row number."""
    present = [f for f in spec.fields if f.name in frame.columns]
    columns: dict[str, pd.Series] = {}
    for f in present:
        columns[f.name] = _text(frame[f.name])
        parse = _PARSERS.get(f.kind)
        if parse is not None:
            columns[derived(f.name, f.kind)] = parse(frame[f.name])
    out = pd.DataFrame(columns, index=frame.index)
    out.index = pd.Index(pd.to_numeric(frame[INDEX]).astype("int64").to_numpy(), name=INDEX)
    return out
