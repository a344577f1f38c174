"""Dates as text in the shapes departments deliver, fast for millions of rows."""

from __future__ import annotations

import numpy as np

__all__ = ["format_dates", "from_ymd", "ymd", "zero_padded"]

# The contract's date shapes, in this order: 2017-06-23, 20170623, 2017/6/23, 2017.6.23, 2017年6月23日
DATE_STYLES = ("iso", "compact", "slash", "dot", "chinese")

_YEARS = np.array([str(y) for y in range(10000)], dtype=object)
_PADDED = np.array([f"{i:02d}" for i in range(100)], dtype=object)
_PLAIN = np.array([str(i) for i in range(100)], dtype=object)
_TRIPLES = np.array([f"{i:03d}" for i in range(1000)], dtype=object)


def ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month, day integer arrays of datetime64 values."""
    days = np.asarray(days).astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, day


def from_ymd(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """datetime64[D] from valid year, month, day arrays."""
    months = (np.asarray(year) - 1970) * 12 + np.asarray(month) - 1
    return months.astype("datetime64[M]").astype("datetime64[D]") + (np.asarray(day) - 1).astype("timedelta64[D]")


def zero_padded(values: np.ndarray, width: int) -> np.ndarray:
    """Non-negative integers as zero-padded text (object array); 2 or 3 digits use lookup tables."""
    values = np.asarray(values, dtype=np.int64)
    if width == 2:
        return _PADDED[values]
    if width == 3:
        return _TRIPLES[values]
    return np.array([str(v).zfill(width) for v in values.tolist()], dtype=object)


def format_dates(days: np.ndarray, styles: np.ndarray | int = 0) -> np.ndarray:
    """Object array of date texts; `styles` indexes DATE_STYLES per row (or one style for all).
    NaT gives ""."""
    days = np.asarray(days).astype("datetime64[D]")
    n = len(days)
    styles = np.broadcast_to(np.asarray(styles, dtype=np.int64), (n,))
    out = np.full(n, "", dtype=object)
    known = ~np.isnat(days)
    year, month, day = ymd(np.where(known, days, np.datetime64("2000-01-01")))
    y = _YEARS[year]
    for style in np.unique(styles[known]):
        at = known & (styles == style)
        yy, mm, dd = y[at], month[at], day[at]
        if style == 0:
            out[at] = yy + "-" + _PADDED[mm] + "-" + _PADDED[dd]
        elif style == 1:
            out[at] = yy + _PADDED[mm] + _PADDED[dd]
        elif style == 2:
            out[at] = yy + "/" + _PLAIN[mm] + "/" + _PLAIN[dd]
        elif style == 3:
            out[at] = yy + "." + _PLAIN[mm] + "." + _PLAIN[dd]
        else:
            out[at] = yy + "年" + _PLAIN[mm] + "月" + _PLAIN[dd] + "日"
    return out
