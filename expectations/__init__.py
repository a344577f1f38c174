"""Great Expectations suites, one per feed, named after the feed.

Each feed module exposes `SUITE_NAME` and `build_expectations(ctx)`; `expectations.common` builds
the checks every feed shares from its FeedSpec kinds, and `expectations.runner` runs a suite on a
frame. Great Expectations itself is imported lazily, inside functions: importing it takes seconds.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

# The one environment write in bidui, accepted by the house rules: Great Expectations decides on
# analytics when it is imported, so the switch has to be set before any module imports it, and
# this package is the only road to that import. The offices running bidui are offline anyway.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

__all__ = ["FEED_SUITES", "suite_module"]

# Feeds with a suite module of their own in this package, named after the feed.
FEED_SUITES: tuple[str, ...] = (
    "poverty_households",
    "poverty_members",
    "hukou",
    "medical_insurance",
    "illness_registry",
    "school_enrolment",
    "dangerous_housing",
    "minimum_living",
    "public_payroll",
    "enterprise_registry",
    "vehicles",
    "regions",
)


def suite_module(feed: str) -> ModuleType:
    """The module holding a feed's suite; a feed added to the configuration only gets the shared checks."""
    return importlib.import_module(f"{__name__}.{feed if feed in FEED_SUITES else 'generic'}")
