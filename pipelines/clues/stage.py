"""The clues stage: a night's rules become clues (`run_clue_night`); clues leave through
pipelines.clues.export.

The summary of each night's rules — ran, skipped for a missing feed, held by the circuit breaker,
failed — is also written to reports/<date>/clues.json for the data officer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from pipelines import store
from pipelines.clues.life import apply_rule_run, load_clues
from pipelines.results import StageResult
from pipelines.rules.run import FIRED_COLUMNS
from pipelines.settings import Settings

__all__ = ["ClueNight", "counties_with_new_clues", "run_clue_night"]


@dataclass
class ClueNight(StageResult):
    """What a night's rules did to the clues (also reports/<date>/clues.json)."""

    delivery_date: str
    rules: list[dict[str, Any]] = field(default_factory=list)  # per rule: status, fired, new, cleared, …
    new: int = 0
    cleared: int = 0
    reopened: int = 0
    changed: int = 0
    held: list[str] = field(default_factory=list)  # rules held back by the circuit breaker
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def run_clue_night(
    settings: Settings,
    day: dt.date | str,
    release: Iterable[str] = (),
    progress: Callable[[str, float], None] | None = None,
) -> ClueNight:
    """Run every rule on the night's base map, apply the results to the clues and write the night's
    problem counts (night_counts) for the trends."""
    from pipelines.rules.run import load_rules, run_rules

    day = dt.date.fromisoformat(day) if isinstance(day, str) else day
    engine = store.connect(settings)
    rules = load_rules()
    deadlines = {rule.code: rule.deadline_days for rule in rules}
    if store.latest_link_date(engine, day) != day:
        # Nothing was linked tonight (no person rows at all): every rule is skipped, no clue changes.
        why = f"{day} 没有底图（当晚没有可关联的人员记录），规则未运行"
        runs = [{"rule": rule.code, "status": "skipped", "fired": None, "seconds": 0.0, "message": why} for rule in rules]
        summary = apply_rule_run(
            engine, settings, day, pd.DataFrame(columns=FIRED_COLUMNS), runs, deadlines, release, night_counts=True
        )
    else:
        run = run_rules(engine, settings, day, rules, progress=progress)
        summary = apply_rule_run(engine, settings, day, run.fired, run.runs, deadlines, release, night_counts=True)
    result = ClueNight(**summary)
    store.write_json(settings.reports_dir / day.isoformat() / "clues.json", result.to_dict())
    return result


def counties_with_new_clues(settings: Settings) -> list[str]:
    """Counties holding clues not yet issued: tonight's ledger work, one county per task."""
    frame = load_clues(store.connect(settings), statuses=["new"])
    return sorted({c for c in frame["county_code"] if c})
