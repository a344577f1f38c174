"""The whole night in one process, in the order the Airflow DAG runs it.

`STAGES` is that order, once: the DAG's tasks are tested against it, `run_night` follows it, and the
evaluators and CLI commands that need only the first stages stop the same chain early (`until`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pipelines.clues.stage import ClueNight, run_clue_night
from pipelines.errors import BiduiError
from pipelines.ingest.delivery import Ingested, ingest_delivery
from pipelines.link.stage import Linked, link_night
from pipelines.results import StageResult
from pipelines.settings import Settings
from pipelines.validate.stage import FeedValidation, ValidationReport, finish_validation, validate_feed

__all__ = ["STAGES", "Night", "run_night", "validate_night"]

log = logging.getLogger(__name__)
Progress = Callable[[str, float], None]
T = TypeVar("T")

# The night's stages in order; the DAG has one task per stage (validate and ledger mapped). The
# first waits for the delivery to be fully written; the last writes the night's counts for the trends.
STAGES = ("wait_for_delivery", "ingest", "validate", "report", "link", "clues", "ledger", "snapshot")
_STOPS = ("report", "link", "clues")  # where run_night may stop


@dataclass
class Night(StageResult):
    """One night run in one process. A failure of linking or of the rules comes back as Chinese text
    in `link_error` / `clue_error`, after the validation report has been written. `seconds`: wall
    time of each stage run (ingest, validate — its report included —, link, clues)."""

    ingest: Ingested
    checks: list[FeedValidation] = field(default_factory=list)
    report: ValidationReport | None = None
    link: Linked | None = None
    link_error: str | None = None
    clues: ClueNight | None = None
    clue_error: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)


def validate_night(
    settings: Settings, delivery_date: str, feeds: Iterable[str], progress: Progress | None = None
) -> tuple[list[FeedValidation], ValidationReport]:
    """validate every feed given, then write the night's report (the DAG's validate → report)."""
    feeds = list(feeds)
    checks = []
    for index, feed in enumerate(feeds):
        if progress:
            progress(f"检查 {feed}", index / max(len(feeds), 1))
        checks.append(validate_feed(settings, delivery_date, feed))
    return checks, finish_validation(settings, delivery_date)


def run_night(
    settings: Settings,
    delivery_dir: Path,
    progress: Progress | None = None,
    release: Iterable[str] = (),
    until: str = "clues",
) -> Night:
    """ingest → validate every feed → report → link into the base map → rules → clues.

    `until` stops after that stage ("report" for a night whose linker is to be judged on its own).
    The validation report is written before linking, so a night whose linking fails still has its
    report, and no rule runs on a base map that is not tonight's. `release`: rules let through the
    circuit breaker tonight. Ledgers are issued per county by the DAG or `bidui ledgers issue`.
    """
    if until not in _STOPS:
        raise ValueError(f"run_night stops after report, link or clues, not {until!r}")
    seconds: dict[str, float] = {}
    with _timed(seconds, "ingest"):
        ingested = ingest_delivery(settings, delivery_dir, progress=progress)
    day = ingested.delivery_date
    with _timed(seconds, "validate"):
        checks, report = validate_night(settings, day, ingested.feeds_to_validate, progress)
    night = Night(ingested, checks, report, seconds=seconds)
    if until == "report":
        return night
    with _timed(seconds, "link"):
        night.link, night.link_error = _guarded(lambda: link_night(settings, day, progress=progress), f"linking {day}")
    if until == "link":
        return night
    if night.link_error is None:
        with _timed(seconds, "clues"):
            night.clues, night.clue_error = _guarded(
                lambda: run_clue_night(settings, day, release=release, progress=progress), f"rules and clues of {day}"
            )
    else:
        night.clue_error = "关联失败，今晚未运行问题线索规则"
    if progress:
        progress("完成", 1.0)
    return night


@contextmanager
def _timed(seconds: dict[str, float], stage: str) -> Iterator[None]:
    """Record the wall seconds of the block under `stage` (benchmarks read them off the Night)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        seconds[stage] = round(time.perf_counter() - start, 3)


def _guarded(step: Callable[[], T], what: str) -> tuple[T | None, str | None]:
    """Run `step`; a failure becomes its Chinese text instead of losing the night's summary."""
    try:
        return step(), None
    except BiduiError as exc:
        return None, str(exc)
    except Exception as exc:  # the report is out; say what broke
        log.exception("%s failed", what)
        return None, f"{type(exc).__name__}: {exc}"
