"""Suite vehicles (公安交管·机动车, optional): the shared checks."""

from __future__ import annotations

from .common import SuiteContext, standard_expectations

__all__ = ["SUITE_NAME", "build_expectations"]

SUITE_NAME = "vehicles"


def build_expectations(ctx: SuiteContext) -> list:
    """Shared checks (plate number, owner name and ID, vehicle type, first registration date)."""
    return standard_expectations(ctx)
