"""Suite for a feed added to the configuration without a module of its own: the shared checks only."""

from __future__ import annotations

from .common import SuiteContext, standard_expectations

__all__ = ["build_expectations"]


def build_expectations(ctx: SuiteContext) -> list:
    """The shared checks built from the feed's field kinds."""
    return standard_expectations(ctx)
