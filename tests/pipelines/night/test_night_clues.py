"""The whole night on the seed delivery: ingest → validate → link → rules → clues, run twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines import store
from pipelines.clues.life import load_clues
from pipelines.night.chain import run_night

SEED = Path(__file__).resolve().parents[3] / "seeds" / "demo" / "2026-11-20"


@pytest.mark.slow
def test_the_same_night_twice_makes_no_new_clue_and_changes_no_row(settings):
    first = run_night(settings, SEED)
    assert first.link_error is None and first.clue_error is None
    assert first.clues.new > 0
    assert not first.clues.skipped and not first.clues.failed
    before = load_clues(store.connect(settings))
    second = run_night(settings, SEED)
    assert second.clues.new == 0 and second.clues.changed == 0
    after = load_clues(store.connect(settings))
    assert before.equals(after)
    assert (settings.reports_dir / "2026-11-20" / "clues.json").exists()
