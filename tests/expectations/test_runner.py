"""Running a suite: failing rows come back as row numbers; a suite that cannot run says so."""

from __future__ import annotations

import pandas as pd
import pytest

from expectations.common import build_suite, finding_meta
from expectations.runner import run_suite


def _frame() -> pd.DataFrame:
    frame = pd.DataFrame({"sex": ["男", "x", None, "y"]}, dtype=object)
    frame.index = pd.Index([12, 15, 16, 20], name="row_no")
    return frame


def test_failing_rows_are_named_by_row_no():
    import great_expectations.expectations as gxe

    meta = finding_meta("sex", "enum", "error", "性别：{value}")
    suite = build_suite(
        "t",
        [
            gxe.ExpectColumnValuesToBeInSet(column="sex", value_set=["男", "女"], meta=meta),
            gxe.ExpectColumnValuesToNotBeNull(column="sex", meta=finding_meta("sex", "required", "error", "空")),
            gxe.ExpectTableRowCountToBeBetween(min_value=10, meta=finding_meta(None, "row_count", "error", "行数")),
        ],
    )
    failures = sorted(run_suite(suite, _frame()), key=lambda f: f.meta["check"])
    assert [(f.meta["check"], None if f.row_nos is None else f.row_nos.tolist()) for f in failures] == [
        ("enum", [15, 20]),
        ("required", [16]),
        ("row_count", None),
    ]


def test_an_expectation_that_cannot_run_raises():
    import great_expectations.expectations as gxe

    suite = build_suite(
        "t",
        [
            gxe.ExpectColumnValuesToBeBetween(
                column="sex",
                min_value=1,
                max_value=2,
                meta=finding_meta("sex", "number_range", "error", "x"),
            )
        ],
    )
    with pytest.raises(RuntimeError, match="expect_column_values_to_be_between"):
        run_suite(suite, _frame())
