"""Great Expectations suites, one per feed, named after the feed.

Each feed module exposes `SUITE_NAME` and `build_expectations(ctx)`; `expectations.common` builds
the checks every feed shares from its FeedSpec kinds, and `expectations.runner` runs a suite on a
frame. Great Expectations itself is imported lazily, inside functions: importing it takes seconds.
"""

from __future__ import annotations

import os

# The one environment write in bidui, accepted by the house rules: Great Expectations decides on
# analytics when it is imported, so the switch has to be set before any module imports it, and
# this package is the only road to that import. The offices running bidui are offline anyway.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

__all__: list[str] = []  # the suite of a feed is named in the feed catalogue (FeedSpec.suite)
