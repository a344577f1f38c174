"""A night's rules become clues (`run_clue_night`), and clues leave as CSV (`export_clues`).

The summary of each night's rules — ran, skipped for a missing feed, held by the circuit breaker,
failed — is also written to reports/<date>/clues.json for the data officer.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd

from pipelines import store
from pipelines.basemap.export import write_excel_csv
from pipelines.clues.life import EXPORT_COLUMNS, apply_rule_run, load_clues
from pipelines.errors import BiduiError
from pipelines.rules.run import FIRED_COLUMNS
from pipelines.settings import Settings

__all__ = ["counties_with_new_clues", "export_clues", "issue_county_ledger", "run_clue_night"]


def run_clue_night(
    settings: Settings,
    day: dt.date | str,
    release: Iterable[str] = (),
    progress: Callable[[str, float], None] | None = None,
) -> dict:
    """Run every rule on the night's base map and apply the results to the clues."""
    from pipelines.rules.run import load_rules, run_rules

    day = dt.date.fromisoformat(day) if isinstance(day, str) else day
    engine = store.connect(settings)
    rules = load_rules()
    deadlines = {rule.code: rule.deadline_days for rule in rules}
    if store.latest_link_date(engine, day) != day:
        # Nothing was linked tonight (no person rows at all): every rule is skipped, no clue changes.
        why = f"{day} 没有底图（当晚没有可关联的人员记录），规则未运行"
        runs = [{"rule": rule.code, "status": "skipped", "fired": None, "seconds": 0.0, "message": why} for rule in rules]
        summary = apply_rule_run(engine, settings, day, pd.DataFrame(columns=FIRED_COLUMNS), runs, deadlines, release)
    else:
        run = run_rules(engine, settings, day, rules, progress=progress)
        summary = apply_rule_run(engine, settings, day, run.fired, run.runs, deadlines, release)
    out = settings.reports_dir / day.isoformat()
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / ".clues.json.tmp"
    tmp.write_text(json.dumps(summary, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, out / "clues.json")
    return summary


def export_clues(settings: Settings, out: Path, scope=None) -> dict:
    """Write the clues `scope` may see (all for None) to `out`: UTF-8 with BOM, CRLF, written to a
    temporary file and renamed."""
    engine = store.connect(settings)
    frame = load_clues(engine, scope)
    if frame.empty and scope is None:
        raise BiduiError("还没有任何问题线索，请先运行 bidui run")
    for column in ("first_seen", "last_seen", "deadline"):
        frame[column] = [None if v is None else str(v)[:10] for v in frame[column]]
    write_excel_csv(out, EXPORT_COLUMNS, [frame])
    return {"path": str(Path(out).resolve()), "rows": len(frame)}


def counties_with_new_clues(settings: Settings) -> list[str]:
    """Counties holding clues not yet issued: tonight's ledger work, one county per task."""
    frame = load_clues(store.connect(settings), statuses=["new"])
    return sorted({c for c in frame["county_code"] if c})


def issue_county_ledger(settings: Settings, county: str, issue_date: dt.date | str) -> dict:
    """Issue one county's new clues as its ledger workbook, on the prefecture's behalf."""
    from pipelines.access.scope import Scope
    from pipelines.ledgers.issue import issue_ledgers

    issue_date = dt.date.fromisoformat(issue_date) if isinstance(issue_date, str) else issue_date
    issued = issue_ledgers(store.connect(settings), settings, Scope.system(), issue_date, counties=[county])
    done = issued[0] if issued else {"county_code": county, "clues": 0}
    return json.loads(json.dumps(done, ensure_ascii=False, default=str))  # plain values for XCom
