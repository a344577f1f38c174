"""Dates as delivered (several text shapes, Excel cells and serials) to ISO 'YYYY-MM-DD'."""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata

import numpy as np
import pandas as pd

__all__ = ["MIN_READABLE_YEAR", "parse_date", "parse_dates", "parse_year"]

# The years a delivered date or year can be read in at all: outside them it is a typo (0217, 2917),
# not a date. Whether a readable year is plausible for its field is the suites' business
# (expectations.common.MIN_EVENT_YEAR, MIN_DATE).
MIN_READABLE_YEAR = 1900
MAX_READABLE_YEAR = 2199

# Excel's day 0; 1900-03-01 onwards the 1900 leap-year bug is absorbed by starting on the 30th.
EXCEL_EPOCH = dt.date(1899, 12, 30)
# Only these serials are read as Excel dates (1927-05-18 .. 2119-01-11): smaller or larger plain
# numbers are more likely counts, amounts or codes than dates.
MIN_SERIAL = 10000
MAX_SERIAL = 80000

_TIME = r"(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_SEPARATED = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})" + _TIME)
_CHINESE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?" + _TIME)
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})(?:\.0*)?")
_SERIAL = re.compile(r"\d{5}(?:\.\d*)?")
_YEAR = re.compile(r"(\d{4})(?:\.0*)?\s*年?")


def _is_empty(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    if isinstance(value, np.datetime64):
        return bool(np.isnat(value))
    return isinstance(value, str) and not value.strip()


def _make(year: int, month: int, day: int) -> dt.date | None:
    if not MIN_READABLE_YEAR <= year <= MAX_READABLE_YEAR:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _from_serial(serial: float) -> dt.date | None:
    if not MIN_SERIAL <= serial <= MAX_SERIAL:
        return None
    return EXCEL_EPOCH + dt.timedelta(days=int(serial))


def _from_number(number: float) -> dt.date | None:
    if not math.isfinite(number):
        return None
    # A CSV reader that guessed types turns 20170623 into an int and 42909 into 42909.0.
    if float(number).is_integer() and 10_000_000 <= number <= 99_999_999:
        whole = int(number)
        return _make(whole // 10000, whole // 100 % 100, whole % 100)
    return _from_serial(float(number))


def _from_text(text: str) -> dt.date | None:
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    text = text.strip()
    for pattern in (_SEPARATED, _CHINESE):
        match = pattern.fullmatch(text)
        if match:
            year, month, day = match.group(1), match.groups()[-2], match.groups()[-1]
            return _make(int(year), int(month), int(day))
    match = _COMPACT.fullmatch(text)
    if match:
        return _make(*map(int, match.groups()))
    if _SERIAL.fullmatch(text):
        return _from_serial(float(text))
    return None


def parse_date(value: object) -> dt.date | None:
    """A delivered date value as a date; None when empty, unparseable or impossible.

    Accepts 2017-06-23, 20170623, 2017/6/23, 2017.6.23, 2017年6月23日 (optionally followed by a
    time), datetime/Timestamp cells, and Excel serial numbers 10000..80000 (as number or text).
    """
    if _is_empty(value) or isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, dt.datetime):  # includes pd.Timestamp; checked before its parent dt.date
        return _make(value.year, value.month, value.day)
    if isinstance(value, dt.date):
        return _make(value.year, value.month, value.day)
    if isinstance(value, np.datetime64):
        return parse_date(pd.Timestamp(value))
    if isinstance(value, int | np.integer | float | np.floating):
        return _from_number(float(value))
    return _from_text(value if isinstance(value, str) else str(value))


def _standard_text(value: object) -> str | None:
    if _is_empty(value):
        return None
    parsed = parse_date(value)
    if parsed is not None:
        return parsed.isoformat()
    return value.strip() if isinstance(value, str) else str(value).strip()


def parse_dates(values: pd.Series) -> pd.Series:
    """ISO 'YYYY-MM-DD' strings, same index; None where empty.

    A non-empty value that is not a date is kept as its stripped text, so nothing is lost and
    validation can flag it as not ISO. Each distinct value is parsed once.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    texts = [_standard_text(u) for u in uniques]
    lookup = np.array([*texts, None], dtype=object)  # code -1 (missing) picks the trailing None
    return pd.Series(lookup[codes], index=values.index, name=values.name, dtype=object)


def parse_year(value: object) -> str | None:
    """A four-digit year from "2017", "2017.0", "2017年", 2017 or a full date; else None."""
    if _is_empty(value) or isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, int | np.integer | float | np.floating) and float(value).is_integer():
        year = int(value)
        if MIN_READABLE_YEAR <= year <= MAX_READABLE_YEAR:
            return str(year)
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        match = _YEAR.fullmatch(text)
        if match:
            year = int(match.group(1))
            return str(year) if MIN_READABLE_YEAR <= year <= MAX_READABLE_YEAR else None
    parsed = parse_date(value)
    return None if parsed is None else str(parsed.year)
