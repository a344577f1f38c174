"""Suite illness_registry (卫健·大病慢病登记): the shared checks.

A diagnosis after the data date is caught by the shared date range (1900-01-01 .. as-of), which is
an error: rules read 确诊日期 as a fact.
"""

from __future__ import annotations

from .common import SuiteContext, standard_expectations

__all__ = ["SUITE_NAME", "build_expectations"]

SUITE_NAME = "illness_registry"


def build_expectations(ctx: SuiteContext) -> list:
    """Shared checks (registry number, name, ID, kind, diagnosis date, self-paid amount ≥ 0)."""
    return standard_expectations(ctx)
