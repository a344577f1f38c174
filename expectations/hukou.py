"""Suite hukou (公安·户籍人口): shared checks plus the dates of a change of state."""

from __future__ import annotations

from .common import SuiteContext, not_before, required_when, standard_expectations

__all__ = ["SUITE_NAME", "build_expectations"]

SUITE_NAME = "hukou"

ENDED_STATES = ["死亡", "迁出", "出国（境）定居", "其他注销"]


def build_expectations(ctx: SuiteContext) -> list:
    """Shared checks; a death or a move-out has its date; a change does not precede the birth."""
    return [
        *standard_expectations(ctx),
        *required_when(ctx, "changed_on", "state", ENDED_STATES, "人口状态为“{state}”，但变动日期为空"),
        *not_before(ctx, "changed_on", "birth_date", "变动日期（{value}）早于出生日期（{birth_date}）"),
    ]
