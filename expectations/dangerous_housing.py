"""Suite dangerous_housing (住建·农村危房鉴定): shared checks plus the renovation's completion date."""

from __future__ import annotations

from .common import SuiteContext, not_before, required_when, standard_expectations

__all__ = ["SUITE_NAME", "build_expectations"]

SUITE_NAME = "dangerous_housing"

FINISHED = ["已竣工", "已验收"]


def build_expectations(ctx: SuiteContext) -> list:
    """Shared checks; a finished renovation has a completion date, not before the appraisal."""
    return [
        *standard_expectations(ctx),
        *required_when(ctx, "completed_on", "renovation", FINISHED, "改造状态为“{renovation}”，但竣工日期为空"),
        *not_before(ctx, "completed_on", "appraised_on", "竣工日期（{value}）早于鉴定日期（{appraised_on}）"),
    ]
