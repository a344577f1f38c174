"""The whole night in one process, in the order the Airflow DAG runs it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from pipelines.clues.stage import run_clue_night
from pipelines.errors import BiduiError
from pipelines.ingest.delivery import ingest_delivery
from pipelines.link.stage import link_night
from pipelines.settings import Settings
from pipelines.validate.stage import finish_validation, validate_feed

__all__ = ["run_night"]

log = logging.getLogger(__name__)


def run_night(
    settings: Settings,
    delivery_dir: Path,
    progress: Callable[[str, float], None] | None = None,
    release: Iterable[str] = (),
) -> dict:
    """ingest → validate every feed → report → link into the base map → rules → clues.

    The validation report is written before linking, so a night whose linking fails still has its
    report; the failure comes back as `link_error` (Chinese text) with `link` None, and no rule
    runs on a base map that is not tonight's. Likewise a failure of the rules or clues comes back
    as `clue_error`. `release`: rules let through the circuit breaker tonight.
    """
    summary = ingest_delivery(settings, delivery_dir, progress=progress)
    feeds = summary["feeds_to_validate"]
    checks = []
    for index, feed in enumerate(feeds):
        if progress:
            progress(f"检查 {feed}", index / max(len(feeds), 1))
        checks.append(validate_feed(settings, summary["delivery_date"], feed))
    report = finish_validation(settings, summary["delivery_date"])
    linked, link_error = None, None
    try:
        linked = link_night(settings, summary["delivery_date"], progress=progress)
    except BiduiError as exc:
        link_error = str(exc)
    except Exception as exc:  # the report is out; say what broke instead of losing the night's summary
        log.exception("linking %s failed", summary["delivery_date"])
        link_error = f"{type(exc).__name__}: {exc}"
    clues, clue_error = None, None
    if link_error is None:
        try:
            clues = run_clue_night(settings, summary["delivery_date"], release=release, progress=progress)
        except BiduiError as exc:
            clue_error = str(exc)
        except Exception as exc:
            log.exception("rules and clues of %s failed", summary["delivery_date"])
            clue_error = f"{type(exc).__name__}: {exc}"
    else:
        clue_error = "关联失败，今晚未运行问题线索规则"
    if progress:
        progress("完成", 1.0)
    return {
        "ingest": summary,
        "checks": checks,
        "report": report,
        "link": linked,
        "link_error": link_error,
        "clues": clues,
        "clue_error": clue_error,
    }
