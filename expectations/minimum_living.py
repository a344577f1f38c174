"""Suite minimum_living (民政·低保特困): the shared checks."""

from __future__ import annotations

from .common import SuiteContext, standard_expectations

__all__ = ["SUITE_NAME", "build_expectations"]

SUITE_NAME = "minimum_living"


def build_expectations(ctx: SuiteContext) -> list:
    """Shared checks (person and case numbers, name, ID, region, kind, amount ≥ 0, start date, state)."""
    return standard_expectations(ctx)
