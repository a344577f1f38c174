"""Fixtures for the suites: clean synthetic rows of any feed, to which a test adds the one problem it
is about."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd
import pytest

from pipelines.catalog.feeds import FieldSpec, load_feeds
from pipelines.settings import load_settings
from pipelines.standardise.ids import check_digit
from pipelines.validate.checks import FeedCheck, check_feed

AS_OF = dt.date(2026, 11, 20)
VILLAGE = "522725102203"
FEEDS = load_feeds()
SETTINGS = load_settings(environ={}, data_dir="data", show_progress=False)


def valid_id(first17: str) -> str:
    """A synthetic 18-character ID with a correct check digit."""
    return first17 + check_digit(first17)


def _clean_value(feed: str, field: FieldSpec, i: int) -> str:
    if feed == "regions" and field.name == "code":
        return f"52272{i}000000"
    if feed == "enterprise_registry" and field.name == "credit_code":
        return f"91522725MA6H1234{i}X"
    return {
        "key": f"K{i}",
        "id": valid_id(f"52272520000101{i}12"),  # born on the "date" below
        "date": "2000-01-01",
        "year": "2015",
        "integer": "3",
        "number": "100.5",
        "enum": field.values[0] if field.values else "x",
        "region": VILLAGE,
    }.get(field.kind, f"文本{i}")


def clean_frame(feed: str, rows: int = 3) -> pd.DataFrame:
    """`rows` rows of `feed` that pass its suite; row_no starts at 2 (row 1 is the header)."""
    spec = FEEDS[feed]
    records = [{"row_no": i + 2, **{f.name: _clean_value(feed, f, i) for f in spec.fields}} for i in range(rows)]
    return pd.DataFrame(records, dtype=object)


def _run_checks(feed: str, changes: dict[int, dict[str, str | None]], rows: int = 3) -> FeedCheck:
    frame = clean_frame(feed, rows)
    for row_no, values in changes.items():
        for name, value in values.items():
            frame.loc[frame["row_no"] == row_no, name] = value
    return check_feed(FEEDS[feed], frame, {VILLAGE}, SETTINGS, AS_OF)


def _short(result: FeedCheck) -> list[tuple]:
    columns = ["record_key", "row_no", "field", "check", "severity", "message"]
    return [tuple(r) for r in result.findings[columns].itertuples(index=False, name=None)]


@pytest.fixture
def make_clean_frame() -> Callable[..., pd.DataFrame]:
    """clean_frame(feed, rows=3): rows of `feed` that pass its suite."""
    return clean_frame


@pytest.fixture
def run_checks() -> Callable[..., FeedCheck]:
    """run_checks(feed, {row_no: {field: value}}): check_feed on a clean frame with those changes."""
    return _run_checks


@pytest.fixture
def short() -> Callable[[FeedCheck], list[tuple]]:
    """short(result): findings as (record_key, row_no, field, check, severity, message) tuples."""
    return _short
