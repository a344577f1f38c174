"""Run a suite on a frame with Great Expectations and say which rows failed which expectation.

One ephemeral context per process (built on first use and kept): in-memory stores, no Data Docs
(their pages pull assets from CDNs and county offices are offline), no progress bars, no analytics.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from .derive import INDEX

__all__ = ["Failure", "context_build_seconds", "gx_context", "run_suite"]

# COMPLETE lists every failing row. With row_no as the frame's named index and the values left
# out, GX reports each expectation's failing rows as one list instead of one dict per row.
RESULT_FORMAT = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": [INDEX],
    "exclude_unexpected_values": True,
    "return_unexpected_index_query": False,
}

_timings: dict[str, float] = {}


@dataclass(frozen=True)
class Failure:
    """One failed expectation: its finding meta and the failing row numbers (None: the table failed)."""

    meta: dict[str, Any]
    row_nos: np.ndarray | None


@lru_cache(maxsize=1)
def gx_context():
    """This process's ephemeral Great Expectations context (suites need one to exist)."""
    started = time.perf_counter()
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    imported = time.perf_counter()
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    context = gx.get_context(project_config=config, mode="ephemeral")
    _timings["import"] = imported - started
    _timings["context"] = time.perf_counter() - imported
    return context


@lru_cache(maxsize=1)
def _batch_definition():
    source = gx_context().data_sources.add_pandas("bidui")
    return source.add_dataframe_asset("feed").add_batch_definition_whole_dataframe("whole_frame")


def context_build_seconds() -> dict[str, float]:
    """Seconds spent importing GX and building the context in this process (empty before first use)."""
    return dict(_timings)


def _failed_rows(result: dict) -> np.ndarray | None:
    listed = result.get("unexpected_index_list")
    if listed is None:
        return None
    if not listed:
        return np.zeros(0, dtype=np.int64)
    return np.asarray(listed[0][INDEX], dtype=np.int64)


def _exception_messages(info: dict) -> list[str]:
    # A whole-expectation failure is reported flat; a failed metric is nested under its id.
    found = [info] if info.get("raised_exception") else []
    found += [v for v in info.values() if isinstance(v, dict) and v.get("raised_exception")]
    return [str(f.get("exception_message")) for f in found]


def run_suite(suite, frame: pd.DataFrame) -> list[Failure]:
    """Validate `frame` (indexed by row_no) against `suite`; one Failure per failed expectation.

    An expectation that raised is a bug in the suite, not a data problem, so it raises here.
    """
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    outcome = batch.validate(suite, result_format=RESULT_FORMAT)
    failures = []
    for result in outcome.results:
        config = result.expectation_config
        errors = _exception_messages(result.exception_info or {})
        if errors:
            raise RuntimeError(f"{config.type} ({config.meta}) failed to run: {'; '.join(errors)}")
        if result.success:
            continue
        rows = _failed_rows(result.result or {})
        if rows is not None and not len(rows):
            continue
        failures.append(Failure(meta=dict(config.meta or {}), row_nos=rows))
    return failures
