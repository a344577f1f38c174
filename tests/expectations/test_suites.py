"""Every feed in the catalogue has a suite named after it, and clean rows pass it without a finding."""

from __future__ import annotations

import datetime as dt
import importlib

import pandas as pd
import pytest

from expectations.common import SuiteContext, build_suite
from expectations.runner import context_build_seconds, gx_context
from pipelines.catalog.feeds import FeedSpec, FieldSpec, load_feeds
from pipelines.settings import load_settings
from pipelines.validate.checks import check_feed

AS_OF = dt.date(2026, 11, 20)
VILLAGE = "522725102203"
FEEDS = load_feeds()
SETTINGS = load_settings(environ={}, data_dir="data", show_progress=False)


def _suite_module(feed: str):
    return importlib.import_module(f"expectations.{FEEDS[feed].suite}")


def test_every_catalogued_feed_has_its_own_suite_module():
    for feed in FEEDS:
        assert FEEDS[feed].suite == feed
        assert feed == _suite_module(feed).SUITE_NAME


@pytest.mark.parametrize("feed", sorted(FEEDS))
def test_clean_rows_pass_every_suite(feed, make_clean_frame):
    result = check_feed(FEEDS[feed], make_clean_frame(feed), {VILLAGE}, SETTINGS, AS_OF)
    assert result.findings.to_dict("records") == []
    assert (result.rejected, result.rows, result.bad_rows) == (False, 3, 0)


@pytest.mark.parametrize("feed", sorted(FEEDS))
def test_every_expectation_says_what_its_failures_become(feed):
    ctx = SuiteContext(FEEDS[feed], frozenset(FEEDS[feed].columns), AS_OF, frozenset({VILLAGE}))
    suite = build_suite(feed, _suite_module(feed).build_expectations(ctx))
    assert suite.name == feed
    for expectation in suite.expectations:
        meta = expectation.meta
        assert meta["severity"] in ("error", "warning")
        assert meta["check"] and meta["message"]
        assert meta["field"] is None or meta["field"] in FEEDS[feed].columns


def test_a_feed_without_a_module_gets_the_shared_checks():
    spec = FeedSpec(
        name="land_contracts",
        title="农业·土地承包",
        key="contract_no",
        fields=(
            FieldSpec("contract_no", "合同编号", "key", required=True),
            FieldSpec("area", "面积（亩）", "number"),
        ),
    )
    frame = pd.DataFrame({"row_no": [2, 3], "contract_no": ["C1", "C2"], "area": ["1.5", "-2"]}, dtype=object)
    result = check_feed(spec, frame, set(), SETTINGS, AS_OF)
    assert result.findings[["record_key", "field", "check", "severity", "message"]].to_dict("records") == [
        {
            "record_key": "C2",
            "field": "area",
            "check": "number_range",
            "severity": "error",
            "message": "面积（亩）应不小于 0：-2",
        },
    ]


def test_one_context_per_process():
    assert gx_context() is gx_context()
    assert set(context_build_seconds()) == {"import", "context"}
