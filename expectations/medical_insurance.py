"""Suite medical_insurance (医保·城乡居民参保): the shared checks."""

from __future__ import annotations

from .common import SuiteContext, standard_expectations

__all__ = ["SUITE_NAME", "build_expectations"]

SUITE_NAME = "medical_insurance"


def build_expectations(ctx: SuiteContext) -> list:
    """Shared checks (insured number, name, ID, region, year 1990..as-of, state, cover)."""
    return standard_expectations(ctx)
