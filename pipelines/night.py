"""The whole night in one process, in the order the Airflow DAG runs it."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from .ingest import ingest_delivery
from .settings import Settings
from .validate import finish_validation, validate_feed

__all__ = ["run_night"]


def run_night(settings: Settings, delivery_dir: Path, progress: Callable[[str, float], None] | None = None) -> dict:
    """ingest → validate every feed → report; returns the report summary."""
    summary = ingest_delivery(settings, delivery_dir, progress=progress)
    feeds = summary["feeds_to_validate"]
    checks = []
    for index, feed in enumerate(feeds):
        if progress:
            progress(f"检查 {feed}", index / max(len(feeds), 1))
        checks.append(validate_feed(settings, summary["delivery_date"], feed))
    report = finish_validation(settings, summary["delivery_date"])
    if progress:
        progress("完成", 1.0)
    return {"ingest": summary, "checks": checks, "report": report}
