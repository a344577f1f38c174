"""Suite public_payroll (财政·财政供养人员, optional): the shared checks."""

from __future__ import annotations

from .common import SuiteContext, standard_expectations

__all__ = ["SUITE_NAME", "build_expectations"]

SUITE_NAME = "public_payroll"


def build_expectations(ctx: SuiteContext) -> list:
    """Shared checks (person number, name, ID, hiring date)."""
    return standard_expectations(ctx)
