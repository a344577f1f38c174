"""Ingest: one night's delivery folder into dated snapshots, one per feed."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipelines import store
from pipelines.catalog.feeds import FeedSpec, load_feeds
from pipelines.errors import BiduiError
from pipelines.ingest.readers import FeedRejected, read_feed_file
from pipelines.ingest.ready import READY_MARKER
from pipelines.results import StageResult
from pipelines.settings import Settings
from pipelines.standardise.values import normalise_frame

__all__ = ["FeedOutcome", "Ingested", "delivery_date_of", "ingest_delivery"]

log = logging.getLogger(__name__)
Progress = Callable[[str, float], None]
_DATE_DIR = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})$")
SUFFIXES = (".csv", ".xlsx")


@dataclass
class FeedOutcome:
    """What became of one feed this night (JSON-serialisable for Airflow's XCom)."""

    feed: str
    title: str
    status: str  # loaded | unchanged | rejected | missing | absent_optional
    source_file: str | None = None
    encoding: str | None = None
    rows: int | None = None
    effective_date: str | None = None
    message: str | None = None


def delivery_date_of(delivery_dir: Path) -> dt.date:
    """A delivery folder is named by its data date: 2026-11-20 (or 20261120)."""
    match = _DATE_DIR.match(delivery_dir.name)
    try:
        return dt.date(*(int(g) for g in match.groups())) if match else _bad_name(delivery_dir)
    except ValueError:
        return _bad_name(delivery_dir)


def _bad_name(delivery_dir: Path) -> dt.date:
    raise BiduiError(f"交付目录名“{delivery_dir.name}”不是数据日期（应为 YYYY-MM-DD，例如 2026-11-20）")


def find_feed_files(delivery_dir: Path, feeds: dict[str, FeedSpec]) -> tuple[dict[str, Path], list[str]]:
    """Feed name → file; and notes on files that are not feeds or that compete for one feed."""
    found: dict[str, Path] = {}
    notes: list[str] = []
    for path in sorted(p for p in delivery_dir.iterdir() if p.is_file() and p.name != READY_MARKER):
        stem = path.stem.strip().lower()
        if path.suffix.lower() not in SUFFIXES or stem not in feeds:
            notes.append(f"未识别的文件“{path.name}”，已忽略")
        elif stem in found:
            notes.append(f"“{path.name}”与“{found[stem].name}”是同一数据项，已使用后者")
        else:
            found[stem] = path
    return found, notes


def _checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ingest_feed(engine, settings: Settings, feed: FeedSpec, day: dt.date, path: Path | None) -> FeedOutcome:
    """Load one feed's file as the (night, feed) snapshot; never raises for a bad file."""
    outcome = FeedOutcome(feed=feed.name, title=feed.title, status="", source_file=path.name if path else None)
    existing = store.get_feed_load(engine, day, feed.name)
    if path is None:
        outcome.status = "absent_optional" if feed.optional else "missing"
        if not (existing and existing["status"] == "loaded"):
            store.write_feed_load(engine, day, feed.name, status=outcome.status, message="本次交付未包含该数据")
    else:
        checksum = _checksum(path)
        if existing and existing["checksum"] == checksum and existing["status"] in ("loaded", "rejected"):
            outcome.status, outcome.encoding, outcome.rows = "unchanged", existing["encoding"], existing["rows"]
        else:
            _load(engine, settings, feed, day, path, checksum, existing, outcome)
    effective = store.effective_date(engine, feed.name, day)
    outcome.effective_date = effective.isoformat() if effective else None
    return outcome


def _load(engine, settings, feed, day, path, checksum, existing, outcome: FeedOutcome) -> None:
    try:
        table = read_feed_file(path, feed, settings.max_file_bytes)
        frame = normalise_frame(feed, table.frame)
    except FeedRejected as exc:
        _reject(engine, feed, day, checksum, existing, outcome, str(exc))
        return
    except Exception:  # an unreadable file must not stop the night
        log.exception("reading %s failed", path)
        _reject(
            engine,
            feed,
            day,
            checksum,
            existing,
            outcome,
            # The exception's text is English and already in the log beside the traceback.
            "文件读取时发生意外错误（已记入日志，请把该文件交数据管理员检查）",
        )
        return
    store.write_snapshot(
        engine,
        feed.name,
        day,
        frame,
        load=dict(
            status="loaded",
            source_file=path.name,
            encoding=table.encoding,
            checksum=checksum,
            rows=len(frame),
            bad_rows=None,
            message=None,
            loaded_at=dt.datetime.now(),
            validated_at=None,
            columns=json.dumps([c for c in feed.columns if c in frame.columns]),
        ),
    )
    store.write_findings(engine, day, feed.name, "ingest", _note_frame(feed, table.notes, frame))
    outcome.status, outcome.encoding, outcome.rows = "loaded", table.encoding, len(frame)
    if feed.name == "regions":
        store.replace_region_reference(engine, frame, source=f"{day.isoformat()} 交付的 {path.name}")


def _reject(engine, feed, day, checksum, existing, outcome: FeedOutcome, reason: str) -> None:
    outcome.status, outcome.message = "rejected", reason
    finding = pd.DataFrame([{"check": "file_rejected", "severity": "error", "message": f"整份文件被拒收：{reason}"}])
    if existing and existing["status"] == "loaded":
        # A good file for this night is already stored; a broken re-delivery must not replace it.
        outcome.message = f"{reason}（保留此前已载入的同日数据）"
        return
    store.write_feed_load(
        engine,
        day,
        feed.name,
        status="rejected",
        source_file=outcome.source_file,
        checksum=checksum,
        rows=None,
        bad_rows=None,
        message=reason,
        loaded_at=dt.datetime.now(),
    )
    store.write_findings(engine, day, feed.name, "ingest", finding)


def _note_frame(feed: FeedSpec, notes: list[dict], frame: pd.DataFrame) -> pd.DataFrame:
    notes_frame = pd.DataFrame(notes, columns=["check", "severity", "message", "row_no", "field", "value"])
    if notes_frame.empty:
        return notes_frame
    keys = dict(zip(frame["row_no"], frame[feed.key]))
    notes_frame["record_key"] = notes_frame["row_no"].map(keys)
    return notes_frame


def _ensure_regions(engine, settings: Settings, feeds: dict[str, FeedSpec]) -> None:
    if store.load_region_reference(engine).empty and settings.regions_seed.exists():
        table = read_feed_file(settings.regions_seed, feeds["regions"], settings.max_file_bytes)
        store.replace_region_reference(
            engine, normalise_frame(feeds["regions"], table.frame), source=str(settings.regions_seed.name)
        )


@dataclass
class Ingested(StageResult):
    """What a night's ingest did: each feed's outcome, and the feeds validation must check."""

    delivery_date: str
    delivery_dir: str
    feeds: list[FeedOutcome]
    notes: list[str]
    feeds_to_validate: list[str]


def ingest_delivery(settings: Settings, delivery_dir: Path, progress: Progress | None = None) -> Ingested:
    """Ingest every feed of a delivery folder (also written to reports/<date>/ingest.json)."""
    delivery_dir = Path(delivery_dir)
    if not delivery_dir.is_dir():
        raise BiduiError(f"找不到交付目录：{delivery_dir}")
    day = delivery_date_of(delivery_dir)
    feeds = load_feeds(settings.feeds_config)
    engine = store.connect(settings)
    store.open_night(engine, day)  # a future or out-of-order date is refused before anything is written
    _ensure_regions(engine, settings, feeds)
    files, notes = find_feed_files(delivery_dir, feeds)
    store.record_delivery(engine, day, str(delivery_dir.resolve()))
    # regions first: the other feeds' region codes are checked against it.
    order = sorted(feeds, key=lambda name: name != "regions")
    outcomes = []
    for index, name in enumerate(order):
        if progress:
            progress(f"载入 {feeds[name].title}", index / len(order))
        outcomes.append(ingest_feed(engine, settings, feeds[name], day, files.get(name)))
    if progress:
        progress("载入完成", 1.0)
    result = Ingested(
        delivery_date=day.isoformat(),
        delivery_dir=str(delivery_dir.resolve()),
        feeds=outcomes,
        notes=notes,
        feeds_to_validate=[o.feed for o in outcomes if o.status in ("loaded", "unchanged")],
    )
    store.write_json(settings.reports_dir / day.isoformat() / "ingest.json", result.to_dict())
    return result
