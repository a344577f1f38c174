"""Failed Airflow task tries (task_failures): written by the DAGs' failure callback through
pipelines.night.failures, read by the data officer's night page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import Engine, select

from pipelines.store.tables import task_failures
from pipelines.store.upsert import upsert

__all__ = ["FAILURE_COLUMNS", "load_failure_days", "load_task_failures", "write_task_failure"]

FAILURE_COLUMNS = tuple(c.name for c in task_failures.columns if c.name != "failure_id")
_KEY = ("dag_id", "run_id", "task_id", "map_index", "try_number")


def write_task_failure(engine: Engine, row: Mapping[str, object]) -> None:
    """Record one failed try; the same try recorded again keeps its first row."""
    with engine.begin() as conn:
        upsert(conn, task_failures, {c: row[c] for c in FAILURE_COLUMNS}, update=(), keys=_KEY)


def load_task_failures(engine: Engine, day: dt.date) -> list[dict]:
    """The failed tries of one night's data date, oldest first."""
    statement = (
        select(task_failures)
        .where(task_failures.c.data_date == day)
        .order_by(task_failures.c.failed_at, task_failures.c.failure_id)
    )
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(statement).mappings()]


def load_failure_days(engine: Engine) -> set[dt.date]:
    """The data dates that have a failed try (a night whose delivery never came has nothing else)."""
    statement = select(task_failures.c.data_date).where(task_failures.c.data_date.is_not(None)).distinct()
    with engine.connect() as conn:
        days = conn.execute(statement).scalars()
        return {d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)[:10]) for d in days}
