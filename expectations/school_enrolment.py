"""Suite school_enrolment (教育·学籍): the shared checks; the region code may be empty."""

from __future__ import annotations

from .common import SuiteContext, standard_expectations

__all__ = ["SUITE_NAME", "build_expectations"]

SUITE_NAME = "school_enrolment"


def build_expectations(ctx: SuiteContext) -> list:
    """Shared checks (student number, name, ID, sex, birth date, stage, state, region when filled)."""
    return standard_expectations(ctx)
