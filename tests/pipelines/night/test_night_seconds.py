"""The night records the wall seconds of each stage it ran (read by tests/benchmarks/bench_night.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.night.chain import run_night

SEED = Path(__file__).resolve().parents[3] / "seeds" / "demo" / "2026-11-20"


def test_a_night_stopped_after_the_report_times_ingest_and_validate_only(sqlite_settings):
    night = run_night(sqlite_settings, SEED, until="report")
    assert list(night.seconds) == ["ingest", "validate"]
    assert all(seconds >= 0 for seconds in night.seconds.values())


@pytest.mark.slow
def test_a_whole_night_times_each_stage_in_order(sqlite_settings):
    night = run_night(sqlite_settings, SEED)
    assert list(night.seconds) == ["ingest", "validate", "link", "clues"]
    assert night.to_dict()["seconds"] == night.seconds
