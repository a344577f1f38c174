"""Suite poverty_households (扶贫·建档立卡户): shared checks plus the household's own consistency."""

from __future__ import annotations

from .common import SuiteContext, not_before, required_when, standard_expectations

__all__ = ["SUITE_NAME", "build_expectations"]

SUITE_NAME = "poverty_households"


def build_expectations(ctx: SuiteContext) -> list:
    """Shared checks; a household has at least one person; exit comes after identification."""
    return [
        *standard_expectations(ctx, minimums={"size": 1}),
        *not_before(ctx, "exit_year", "identified_year", "脱贫年度（{value}）早于识别年度（{identified_year}）"),
        *required_when(ctx, "exit_year", "status", ["已脱贫"], "脱贫状态为“已脱贫”，但脱贫年度为空"),
    ]
