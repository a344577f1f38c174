"""The link stage: person rows → linkage → the night's base map, stored.

`link_night` runs the stage for a night already ingested: it reads each person-level snapshot
once, builds the person rows and the base map's facts from it, links the rows (obeying every
stored reviewer decision), builds the base map from tonight's clusters (pipelines.basemap) and
stores links, review queue and model through pipelines.store.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from pipelines import store
from pipelines.basemap.build import build_base_map, build_facts
from pipelines.errors import BiduiError
from pipelines.link.person_rows import PersonSnapshots, load_person_snapshots
from pipelines.results import StageResult
from pipelines.settings import Settings

__all__ = ["STAGE_TEXT", "Linked", "Linker", "default_linker", "link_night"]

log = logging.getLogger(__name__)
Progress = Callable[[str, float], None]
STAGE_TEXT = {
    "person_rows": "整理人员记录",
    "linking": "关联",
    "loading": "读取已有编号与各部门事实",
    "base_map": "生成底图",
    "writing": "写入数据库",
}


@dataclass(frozen=True)
class Linker:
    """The linkage half of the stage: person rows from the night's snapshots, and the linker over them."""

    build_rows: Callable[[PersonSnapshots], pd.DataFrame]
    link: Callable[[pd.DataFrame, pd.DataFrame | None, Settings], Any]


def default_linker() -> Linker:
    """pipelines.link.person_rows and pipelines.link.linker (imported here: they pull in the whole matcher)."""
    try:
        from pipelines.link.linker import link_person_rows
        from pipelines.link.person_rows import build_person_rows
    except ModuleNotFoundError as exc:
        raise BiduiError("本版本尚未包含人员关联模块（pipelines.link.linker），底图无法生成") from exc
    return Linker(build_person_rows, link_person_rows)


def _decisions_for_linker(decisions: pd.DataFrame) -> pd.DataFrame | None:
    return decisions[["feed", "record_key", "candidate_feed", "candidate_key", "decision"]] if len(decisions) else None


@dataclass
class Linked(StageResult):
    """What a night's linking did (also reports/<date>/link.json): counts, methods, seconds per step."""

    delivery_date: str
    seconds: dict[str, float]
    counts: dict[str, int]
    methods: dict[str, int] = field(default_factory=dict)
    linker_stats: dict[str, Any] = field(default_factory=dict)
    thresholds: dict[str, float | None] = field(default_factory=dict)
    note: str | None = None  # why nothing was linked, on a night without person rows
    total_seconds: float = 0.0
    summary_file: str = ""


def link_night(
    settings: Settings, delivery_date: str | dt.date, progress: Progress | None = None, linker: Linker | None = None
) -> Linked:
    """Link one ingested night into the base map.

    Linking the same night again with the same data and decisions changes nothing.
    """
    day = dt.date.fromisoformat(delivery_date) if isinstance(delivery_date, str) else delivery_date
    engine = store.connect(settings)
    if not store.load_feed_loads(engine, day):
        raise BiduiError(f"数据日期 {day.isoformat()} 还没有载入记录，请先运行 bidui ingest 或 bidui run")
    newest = store.latest_night(engine)
    if newest is not None and day < newest:
        # The base map holds one current state: an older night linked again would overwrite it.
        raise BiduiError(
            f"数据日期 {day.isoformat()} 早于已处理的最近一晚 {newest}，不能再关联；"
            f"若 {newest} 的交付有误，请先用 bidui night undo {newest} 撤销该晚"
        )
    linker = linker or default_linker()
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str, fraction: float) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[stage] = round(now - clock, 3)
        clock = now
        if progress:
            progress(f"{STAGE_TEXT[stage]}完成", fraction)

    snapshots = load_person_snapshots(engine, day)
    rows = linker.build_rows(snapshots)
    facts = build_facts(snapshots.frames)
    del snapshots
    lap("person_rows", 0.2)
    if rows.empty:
        return _finish(settings, Linked(day.isoformat(), seconds, counts={"rows": 0}, note="本晚没有可关联的人员记录"))
    decisions = store.load_review_decisions(engine)
    result = linker.link(rows, _decisions_for_linker(decisions), settings)
    lap("linking", 0.7)
    previous = store.load_previous_links(engine, day)
    next_number = store.load_next_person_number(engine)
    household_keys = store.load_household_keys(engine)
    lap("loading", 0.75)
    base = build_base_map(rows, result, previous, next_number, household_keys, facts, decisions)
    del previous, facts
    lap("base_map", 0.85)
    store.write_base_map(engine, day, base.links, base.persons, base.households, base.review, result.model)
    lap("writing", 1.0)
    methods = base.links["method"].value_counts().sort_index()
    summary = Linked(
        day.isoformat(),
        seconds,
        counts=base.counts,
        methods={str(k): int(v) for k, v in methods.items()},
        linker_stats=result.stats,
        thresholds={k: result.model.get(k) for k in ("upper", "lower")},
    )
    return _finish(settings, summary)


def _finish(settings: Settings, summary: Linked) -> Linked:
    summary.total_seconds = round(sum(summary.seconds.values()), 3)
    path = settings.reports_dir / summary.delivery_date / "link.json"
    summary.summary_file = str(path)
    store.write_json(path, summary.to_dict())
    log.info("linked %s: %s", summary.delivery_date, summary.counts)
    return summary
