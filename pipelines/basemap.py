"""The link stage and the base map (底图): person rows → linkage → stable persons and households.

`link_night` runs the stage for a night already ingested: it builds the person rows, links them
(obeying every stored reviewer decision), turns tonight's clusters into the persons and households
of the base map with the IDs they had before (pipelines.identity), picks each attribute's value and
source (pipelines.attributes), and stores links, review queue and model (pipelines.storage_basemap).
`build_base_map` is the pure part, so it can be tested on a hand-made LinkResult.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from . import storage, storage_basemap
from .attributes import FACT_FIELDS, authority_order, build_row_values, choose_attributes
from .errors import BiduiError
from .households import assign_households
from .identity import assign_household_codes, assign_person_ids, match_rows, unique_rows
from .settings import Settings

__all__ = ["STAGE_TEXT", "BaseMap", "Linker", "default_linker", "build_base_map", "load_facts", "link_night"]

log = logging.getLogger(__name__)
Progress = Callable[[str, float], None]
STAGE_TEXT = {
    "person_rows": "整理人员记录",
    "linking": "关联",
    "loading": "读取已有编号与各部门事实",
    "base_map": "生成底图",
    "writing": "写入数据库",
}


@dataclass
class BaseMap:
    """One night's base map, ready to store: frames in the shape storage_basemap writes."""

    links: pd.DataFrame  # storage_basemap.LINK_COLUMNS
    persons: pd.DataFrame  # PERSON_COLUMNS without first_seen/last_seen
    households: pd.DataFrame  # HOUSEHOLD_COLUMNS without first_seen/last_seen
    review: pd.DataFrame  # REVIEW_COLUMNS
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Linker:
    """The linkage half of the stage: person rows for a night, and the linker over them."""

    build_rows: Callable[[Any, Settings, dt.date], pd.DataFrame]
    link: Callable[[pd.DataFrame, pd.DataFrame | None, Settings], Any]


def default_linker() -> Linker:
    """pipelines.person_rows and pipelines.link (imported here: they pull in the whole matcher)."""
    try:
        from .link import link_person_rows
        from .person_rows import build_person_rows
    except ModuleNotFoundError as exc:
        raise BiduiError("本版本尚未包含人员关联模块（pipelines.link），底图无法生成") from exc
    return Linker(build_person_rows, link_person_rows)


def _pair_keys(frame: pd.DataFrame, reverse: bool = False) -> pd.Series:
    parts = ["candidate_feed", "candidate_key", "feed", "record_key"] if reverse else ["feed", "record_key", "candidate_feed", "candidate_key"]
    text = frame[parts].astype(str)
    return text[parts[0]] + "\t" + text[parts[1]] + "\t" + text[parts[2]] + "\t" + text[parts[3]]


def _review_rows(review: pd.DataFrame, decisions: pd.DataFrame | None) -> pd.DataFrame:
    columns = storage_basemap.REVIEW_COLUMNS
    review = review.reindex(columns=[c for c in columns if c != "status"]).drop_duplicates(
        ["feed", "record_key", "candidate_feed", "candidate_key"]
    )
    decided = set()
    if decisions is not None and len(decisions):
        decided = set(_pair_keys(decisions)) | set(_pair_keys(decisions, reverse=True))
    status = _pair_keys(review).isin(decided).map({True: "decided", False: "open"})
    return review.assign(status=status.to_numpy()).reset_index(drop=True)[columns]


def build_base_map(
    rows: pd.DataFrame,
    result: Any,
    previous: pd.DataFrame,
    next_person_number: int,
    household_keys: pd.DataFrame,
    facts: pd.DataFrame,
    decisions: pd.DataFrame | None = None,
) -> BaseMap:
    """Tonight's base map from the person rows and the LinkResult (see the linkage contract).

    `previous`: feed, record_key, person_id of the last night linked; `household_keys`: every
    household_key → household_code issued; `facts`: feed, record_key and attributes.FACTS.
    Persons are handled as integer codes (their cluster's position) until the frames are made.
    """
    linked = unique_rows(result.links)
    ids = assign_person_ids(linked, previous, next_person_number)
    person_ids = ids["person_id"].to_numpy(dtype=object)  # a person's code is its position here
    link_person = pd.Index(ids["cluster"]).get_indexer(linked["cluster"].to_numpy())
    rows = unique_rows(rows)
    at = match_rows(rows, linked)
    if (at < 0).any():  # rows the linker did not return are left out, as links are the truth
        rows = rows[at >= 0]
        at = at[at >= 0]
    person = link_person[at]

    values = build_row_values(rows, facts)
    order = authority_order(values["feed"], person)
    persons = choose_attributes(values, person, order)
    home, households = assign_households(rows, values["relation"].to_numpy(), person, persons["village_code"], order)
    codes = assign_household_codes(households[["household_key", "village_code"]], household_keys)
    code_of_key = codes.set_index("household_key")["household_code"]
    households.insert(0, "household_code", households["household_key"].map(code_of_key))
    head = households.pop("head")
    households["head_person_id"] = np.where(head.isna(), None, person_ids[head.fillna(0).to_numpy(dtype=np.int64)])
    person_code = home.map(code_of_key)
    persons.insert(0, "household_code", _none_for_missing(person_code.reindex(persons.index)))
    persons.insert(0, "person_id", person_ids[persons.index.to_numpy()])

    link_rows = linked.assign(
        person_id=person_ids[link_person], household_code=_none_for_missing(person_code.reindex(link_person))
    )
    counts = {
        "rows": len(link_rows),
        "persons": len(persons),
        "persons_kept": int(ids["kept"].sum()),
        "persons_new": int((~ids["kept"]).sum()),
        "households": len(households),
        "households_new": int(codes["new"].sum()),
        "review_pairs": len(result.review),
    }
    households = households[storage_basemap.HOUSEHOLD_COLUMNS[:-2]]
    return BaseMap(
        link_rows.reindex(columns=storage_basemap.LINK_COLUMNS).reset_index(drop=True),
        persons.reset_index(drop=True),
        households.astype(object).where(households.notna(), None),
        _review_rows(result.review, decisions),
        counts,
    )


def _none_for_missing(values: pd.Series) -> np.ndarray:
    array = values.to_numpy(dtype=object)
    array[pd.isna(array)] = None
    return array


def load_facts(engine, day: dt.date) -> pd.DataFrame:
    """feed, record_key and the FACT_FIELDS facts of every person-level feed's effective snapshot."""
    frames = []
    for feed, fields in FACT_FIELDS.items():
        frame = storage_basemap.load_snapshot_fields(engine, feed, day, list(dict.fromkeys(fields.values())))
        frames.append(pd.DataFrame({"feed": feed, "record_key": frame["record_key"], **{f: frame[c] for f, c in fields.items()}}))
    return pd.concat(frames, ignore_index=True)


def _decisions_for_linker(decisions: pd.DataFrame) -> pd.DataFrame | None:
    return decisions[["feed", "record_key", "candidate_feed", "candidate_key", "decision"]] if len(decisions) else None


def link_night(settings: Settings, delivery_date: str | dt.date, progress: Progress | None = None, linker: Linker | None = None) -> dict:
    """Link one ingested night into the base map; returns a JSON-serialisable summary.

    Linking the same night again with the same data and decisions changes nothing.
    """
    day = dt.date.fromisoformat(delivery_date) if isinstance(delivery_date, str) else delivery_date
    engine = storage.connect(settings)
    if not storage.load_feed_loads(engine, day):
        raise BiduiError(f"数据日期 {day.isoformat()} 还没有载入记录，请先运行 bidui ingest 或 bidui run")
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

    rows = linker.build_rows(engine, settings, day)
    lap("person_rows", 0.2)
    summary: dict[str, Any] = {"delivery_date": day.isoformat(), "seconds": seconds}
    if rows.empty:
        summary.update(counts={"rows": 0}, note="本晚没有可关联的人员记录")
        return _finish(settings, day, summary)
    decisions = storage_basemap.load_review_decisions(engine)
    result = linker.link(rows, _decisions_for_linker(decisions), settings)
    lap("linking", 0.7)
    previous = storage_basemap.load_previous_links(engine, day)
    next_number = storage_basemap.load_next_person_number(engine)
    household_keys = storage_basemap.load_household_keys(engine)
    facts = load_facts(engine, day)
    lap("loading", 0.75)
    base = build_base_map(rows, result, previous, next_number, household_keys, facts, decisions)
    del previous, facts
    lap("base_map", 0.85)
    storage_basemap.write_base_map(engine, day, base.links, base.persons, base.households, base.review, result.model)
    lap("writing", 1.0)
    methods = base.links["method"].value_counts().sort_index()
    summary.update(
        counts=base.counts,
        methods={str(k): int(v) for k, v in methods.items()},
        linker_stats=result.stats,
        thresholds={k: result.model.get(k) for k in ("upper", "lower")},
    )
    return _finish(settings, day, summary)


def _plain(value: Any) -> Any:
    """numpy values in the linker's stats as JSON values; anything else as its text."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value.item() if isinstance(value, np.generic) else str(value)


def _finish(settings: Settings, day: dt.date, summary: dict) -> dict:
    summary["total_seconds"] = round(sum(summary["seconds"].values()), 3)
    out = settings.reports_dir / day.isoformat()
    out.mkdir(parents=True, exist_ok=True)
    path = out / "link.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(summary, ensure_ascii=False, indent=2, default=_plain), encoding="utf-8")
    tmp.replace(path)
    summary["summary_file"] = str(path)
    log.info("linked %s: %s", day, summary["counts"])
    return json.loads(json.dumps(summary, default=_plain))
