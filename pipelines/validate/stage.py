"""Validate: run each feed's Great Expectations suite on the stored snapshot, keep every finding."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from pipelines import store
from pipelines.catalog.feeds import load_feeds
from pipelines.errors import BiduiError
from pipelines.results import StageResult
from pipelines.settings import Settings

__all__ = ["STATUS_TEXT", "FeedValidation", "ValidationReport", "finish_validation", "validate_feed"]

STATUS_TEXT = {
    "loaded": "已载入",
    "unchanged": "与上次相同",
    "rejected": "已拒收",
    "missing": "缺失",
    "absent_optional": "可选数据未提供",
}


@dataclass
class FeedValidation(StageResult):
    """One feed's check on one night: counts, and whether the feed was rejected whole."""

    feed: str
    validated: bool
    rows: int | None = None
    bad_rows: int | None = None
    findings: int | None = None
    rejected: bool | None = None
    reason: str | None = None


@dataclass
class ValidationReport(StageResult):
    """The night's validation report: each feed's status and where the report files are."""

    delivery_date: str
    feeds: list[dict[str, Any]]
    html: str
    json: str
    csv: str


def validate_feed(settings: Settings, delivery_date: str, feed: str) -> FeedValidation:
    """Check one feed's snapshot of one night; store its findings and accept or reject it whole."""
    from pipelines.validate.checks import check_feed

    day = dt.date.fromisoformat(delivery_date)
    spec = load_feeds(settings.feeds_config)[feed]
    engine = store.connect(settings)
    load = store.get_feed_load(engine, day, feed)
    if not load or not load["rows"]:
        return FeedValidation(feed, validated=False, reason="本次没有可检查的数据")
    frame = store.load_snapshot(engine, feed, day)
    # The snapshot table has every contract column; validation must see only what was delivered.
    delivered = json.loads(load["columns"]) if load["columns"] else spec.columns
    frame = frame[["row_no", *delivered, *(["extra"] if "extra" in frame else [])]]
    known_regions = set(store.load_region_reference(engine)["code"])
    result = check_feed(spec, frame, known_regions, settings, as_of=day)
    store.write_findings(engine, day, feed, "validate", result.findings)
    store.write_feed_load(
        engine,
        day,
        feed,
        status="rejected" if result.rejected else "loaded",
        bad_rows=result.bad_rows,
        message=result.reason,
        validated_at=dt.datetime.now(),
    )
    return FeedValidation(
        feed,
        validated=True,
        rows=result.rows,
        bad_rows=result.bad_rows,
        findings=len(result.findings),
        rejected=result.rejected,
        reason=result.reason,
    )


def finish_validation(settings: Settings, delivery_date: str) -> ValidationReport:
    """Write the night's validation report (offline HTML, JSON, CSV) and return where it is."""
    from pipelines.reports.validation import write_validation_report

    day = dt.date.fromisoformat(delivery_date)
    engine = store.connect(settings)
    specs = load_feeds(settings.feeds_config)
    loads = {row["feed"]: row for row in store.load_feed_loads(engine, day)}
    if not loads:
        raise BiduiError(f"数据日期 {delivery_date} 还没有载入记录，请先运行 bidui ingest 或 bidui run")
    feeds = []
    for name, spec in specs.items():
        load = loads.get(name, {})
        effective = store.effective_date(engine, name, day)
        status = load.get("status", "missing")
        message = load.get("message")
        if status in ("missing", "rejected") or (effective and effective != day):
            fallback = f"沿用 {effective.isoformat()} 的数据" if effective else "没有可沿用的历史数据，依赖该数据的比对本次跳过"
            message = "；".join(m for m in (message, fallback) if m)
        feeds.append(
            {
                "feed": name,
                "title": spec.title,
                "status": status,
                "source_file": load.get("source_file"),
                "encoding": load.get("encoding"),
                "rows": load.get("rows"),
                "bad_rows": load.get("bad_rows"),
                "effective_date": effective.isoformat() if effective else None,
                "message": message,
            }
        )
    findings = store.load_findings(engine, day)
    paths = write_validation_report(delivery_date, feeds, findings, settings.reports_dir / delivery_date)
    return ValidationReport(delivery_date, feeds, **{k: str(v) for k, v in paths.items()})
