"""A task that failed for good, recorded where the data officer's night page lists it.

Every DAG's `on_failure_callback` calls `record_task_failure` with Airflow's task context and the
data date its run worked on. A callback that raises hides the failure it was called for (Airflow
logs the callback's error instead), so this never raises: whatever goes wrong, the settings, the
store or the context, is logged and False returned.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from pipelines import store
from pipelines.errors import BiduiError
from pipelines.settings import Settings, load_settings
from pipelines.store.failures import write_task_failure

__all__ = ["MESSAGE_LIMIT", "failure_message", "record_task_failure"]

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 4000  # characters of the exception kept; a traceback belongs in the task log
_DAY = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})$")


def failure_message(error: BaseException | str | None) -> tuple[str, str]:
    """(error type, the Chinese text the night page shows) for a task's exception."""
    if error is None:
        return "unknown", "任务失败，Airflow 未给出原因，请查看任务日志"
    if isinstance(error, str):
        return "unknown", _cut(f"任务失败：{error}")
    kind, text = type(error).__name__, str(error).strip()
    if isinstance(error, BiduiError):  # already Chinese, written for the people who read this page
        message = text
    elif kind == "AirflowSensorTimeout":
        message = f"等待超时，任务已停止：{text}"
    elif kind == "AirflowTaskTimeout":
        message = f"运行超过时限（execution_timeout），任务已被停止：{text}"
    else:
        message = f"系统错误（{kind}）：{text}" if text else f"系统错误（{kind}），请查看任务日志"
    return kind, _cut(message)


def _cut(text: str) -> str:
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


def _day(value: dt.date | str | None) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value.date() if isinstance(value, dt.datetime) else value
    match = _DAY.match(str(value).strip())
    try:
        return dt.date(*(int(g) for g in match.groups())) if match else None
    except ValueError:
        return None


def record_task_failure(
    context: Mapping[str, Any],
    data_date: dt.date | str | Callable[[], dt.date | str | None] | None,
    settings: Settings | None = None,
    now: dt.datetime | None = None,
) -> bool:
    """Record the failed try in task_failures (DAG, task, map index, run, data date, try, when, the
    exception in Chinese); True when it was recorded. Never raises. `settings` None loads them here,
    and a callable `data_date` (the DAG's reading of its run's context) is called here, both inside
    the guard, so a broken environment or context is logged rather than raised from the callback."""
    try:
        if callable(data_date):
            data_date = data_date()
        ti = context.get("ti") or context.get("task_instance")
        error_type, message = failure_message(context.get("exception"))
        map_index = getattr(ti, "map_index", None)
        row = {
            "dag_id": str(getattr(ti, "dag_id", None) or context.get("dag_id") or "unknown"),
            "run_id": str(getattr(ti, "run_id", None) or context.get("run_id") or "unknown"),
            "task_id": str(getattr(ti, "task_id", None) or "unknown"),
            "map_index": -1 if map_index is None else int(map_index),
            "try_number": int(getattr(ti, "try_number", None) or 0),
            "data_date": _day(data_date),
            "failed_at": (now or dt.datetime.now()).replace(microsecond=0),
            "error_type": error_type,
            "message": message,
        }
        write_task_failure(store.connect(settings or load_settings()), row)
        return True
    except Exception:
        log.exception("could not record the failed task in task_failures")
        return False
