"""Parsed columns beside the raw ones: what counts as a date, a year, a number, a region code."""

from __future__ import annotations

import numpy as np
import pandas as pd

from expectations.derive import (
    build_check_frame,
    derived,
    parse_iso_dates,
    parse_numbers,
    parse_years,
    twelve_digit_codes,
)
from pipelines.catalog.feeds import load_feeds


def _floats(series: pd.Series) -> list:
    return [None if np.isnan(v) else v for v in series.tolist()]


def test_iso_dates_parse_only_real_calendar_days():
    values = pd.Series(["2020-02-29", "2021-02-29", "2020/1/1", None, "1899-12-31", "2020-13-01", "２０２０-01-01"])
    assert _floats(parse_iso_dates(values)) == [20200229.0, None, None, None, 18991231.0, None, None]


def test_years_need_four_digits():
    values = pd.Series(["2014", "14", "2014.0", None, "２０１４"], dtype=object)
    assert _floats(parse_years(values)) == [2014.0, None, None, None, None]


def test_integers_and_numbers():
    values = pd.Series(["3", "-1", "2.5", "abc", None, ".5"], dtype=object)
    assert _floats(parse_numbers(values, integer=True)) == [3.0, -1.0, None, None, None, None]
    assert _floats(parse_numbers(values, integer=False)) == [3.0, -1.0, 2.5, None, None, 0.5]


def test_twelve_digit_codes():
    values = pd.Series(["522725102203", "52272510220", "5227251022031", None, "52272510220X"], dtype=object)
    assert twelve_digit_codes(values).tolist() == ["522725102203", None, None, None, None]


def test_non_text_values_are_checked_as_their_text():
    spec = load_feeds()["medical_insurance"]
    frame = pd.DataFrame({"row_no": [2, 3], "insured_no": [101, 102], "year": [2026, None]})
    checked = build_check_frame(spec, frame)
    assert checked["insured_no"].tolist() == ["101", "102"]
    assert checked["year"].tolist() == ["2026.0", None]
    assert _floats(checked["year__year"]) == [None, None]


def test_check_frame_is_indexed_by_row_no_with_parsed_columns():
    spec = load_feeds()["medical_insurance"]
    frame = pd.DataFrame(
        {
            "row_no": [7, 9],
            "insured_no": ["M1", "M2"],
            "year": ["2026", "26"],
            "village_code": ["522725102203", None],
            "id_number": [None, "5.22701E+17"],
            "extra": ["{}", None],
        },
        dtype=object,
    )
    checked = build_check_frame(spec, frame)
    assert checked.index.name == "row_no"
    assert checked.index.tolist() == [7, 9]
    assert list(checked.columns) == [
        "insured_no",
        "id_number",
        derived("id_number", "id"),
        "village_code",
        derived("village_code", "region"),
        "year",
        derived("year", "year"),
    ]
    assert checked["id_number__id_status"].tolist() == ["empty", "mangled"]
    assert _floats(checked["year__year"]) == [2026.0, None]
