"""Suite poverty_members (扶贫·家庭成员): the shared checks."""

from __future__ import annotations

from .common import SuiteContext, standard_expectations

__all__ = ["SUITE_NAME", "build_expectations"]

SUITE_NAME = "poverty_members"


def build_expectations(ctx: SuiteContext) -> list:
    """Shared checks (member number, household number, name, ID, sex, birth date, enumerations)."""
    return standard_expectations(ctx)
