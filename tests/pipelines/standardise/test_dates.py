"""Dates in every delivered shape to ISO; what cannot be read is kept as text."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from pipelines.standardise.dates import MAX_READABLE_YEAR, MIN_READABLE_YEAR, parse_date, parse_dates, parse_year

JUNE_23 = dt.date(2017, 6, 23)


@pytest.mark.parametrize(
    "raw",
    [
        "2017-06-23",
        "20170623",
        "2017/6/23",
        "2017/06/23",
        "2017.6.23",
        "2017年6月23日",
        "2017年06月23日",
        "  2017-06-23\u3000",
        "２０１７－０６－２３",  # full-width
        "2017-06-23 00:00:00",
        "2017/6/23 0:00",
        "2017-06-23T00:00:00",
        dt.datetime(2017, 6, 23, 0, 0),
        pd.Timestamp("2017-06-23"),
        np.datetime64("2017-06-23"),
        JUNE_23,
        42909,  # Excel serial: 1899-12-30 + 42909 days
        42909.0,
        "42909",
        "42909.0",
        20170623,
        20170623.0,
    ],
)
def test_parse_date_formats(raw):
    assert parse_date(raw) == JUNE_23


@pytest.mark.parametrize(
    "raw",
    [
        None,
        float("nan"),
        pd.NaT,
        "",
        "   ",
        "不详",
        "2017-02-30",  # impossible
        "2017-13-01",
        "20170230",
        "2017-06/23",  # mixed separators
        "0217-06-23",  # typo year, outside 1900..2199
        9999,  # a number below the serial range
        123456,  # above it
        True,
        "2017",
    ],
)
def test_parse_date_rejects(raw):
    assert parse_date(raw) is None


def test_excel_serial_edges():
    assert parse_date(10000) == dt.date(1927, 5, 18)
    assert parse_date(80000) == dt.date(2119, 1, 11)
    assert parse_date(43831) == dt.date(2020, 1, 1)
    assert parse_date(42909.75) == JUNE_23  # a time of day on the serial is dropped


def test_parse_dates_keeps_unreadable_text_and_index():
    raw = pd.Series(
        ["2017-06-23", "2017年6月23日", " 不详 ", None, "", 42909, "2017-02-30", "2017-06-23", float("nan")],
        index=list("abcdefghi"),
        name="birth_date",
    )
    expected = pd.Series(
        ["2017-06-23", "2017-06-23", "不详", None, None, "2017-06-23", "2017-02-30", "2017-06-23", None],
        index=list("abcdefghi"),
        name="birth_date",
        dtype=object,
    )
    pdt.assert_series_equal(parse_dates(raw), expected)


def test_parse_dates_on_datetime_and_float_columns():
    stamps = pd.Series(pd.to_datetime(["2017-06-23", None, "1990-01-01"]))
    pdt.assert_series_equal(parse_dates(stamps), pd.Series(["2017-06-23", None, "1990-01-01"], dtype=object))
    serials = pd.Series([42909.0, np.nan, 5.5])
    pdt.assert_series_equal(parse_dates(serials), pd.Series(["2017-06-23", None, "5.5"], dtype=object))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2017", "2017"),
        ("2017.0", "2017"),
        ("2017年", "2017"),
        (2017, "2017"),
        (2017.0, "2017"),
        ("2017-06-23", "2017"),
        ("", None),
        (None, None),
        ("17", None),
        ("1850", None),
        ("去年", None),
    ],
)
def test_parse_year(raw, expected):
    assert parse_year(raw) == expected


def test_dates_and_years_are_read_only_inside_the_readable_years():
    assert (MIN_READABLE_YEAR, MAX_READABLE_YEAR) == (1900, 2199)
    assert [parse_year(y) for y in ("1899", "1900", "2199", "2200", 1899, 2200)] == [None, "1900", "2199", None, None, None]
    assert [parse_date(d) for d in ("1899-12-31", "1900-01-01", "2199-12-31", "2200-01-01")] == [
        None,
        dt.date(1900, 1, 1),
        dt.date(2199, 12, 31),
        None,
    ]
