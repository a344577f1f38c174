"""A failed Airflow task recorded for the night page (pipelines.night.record_task_failure): on
SQLite and PostgreSQL, once per try, and never raising whatever is wrong."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from pipelines import store
from pipelines.errors import BiduiError
from pipelines.night import failure_message, record_task_failure
from pipelines.settings import load_settings
from pipelines.store.failures import load_failure_days, load_task_failures

AT = dt.datetime(2026, 11, 21, 3, 12, 5)
DAY = dt.date(2026, 11, 20)


def _context(exception, task_id="link", map_index=-1, try_number=3) -> dict:
    ti = SimpleNamespace(
        dag_id="nightly_comparison",
        run_id="scheduled__2026-11-20T17:00:00+00:00",
        task_id=task_id,
        map_index=map_index,
        try_number=try_number,
    )
    return {"ti": ti, "exception": exception}


def test_a_failed_try_is_recorded_once_with_its_reason_in_chinese(settings):
    error = RuntimeError("could not allocate 3.2 GiB")
    assert record_task_failure(_context(error), "2026-11-20", settings, now=AT) is True
    assert record_task_failure(_context(error), DAY, settings, now=AT + dt.timedelta(seconds=9)) is True  # called again
    assert record_task_failure(_context(BiduiError("县代码 522799 不在区划名录中"), "ledger", 2), DAY, settings, now=AT) is True

    rows = load_task_failures(store.connect(settings), DAY)
    assert [{k: v for k, v in row.items() if k != "failure_id"} for row in rows] == [
        {
            "dag_id": "nightly_comparison",
            "run_id": "scheduled__2026-11-20T17:00:00+00:00",
            "task_id": "link",
            "map_index": -1,
            "try_number": 3,
            "data_date": DAY,
            "failed_at": AT,
            "error_type": "RuntimeError",
            "message": "系统错误（RuntimeError）：could not allocate 3.2 GiB",
        },
        {
            "dag_id": "nightly_comparison",
            "run_id": "scheduled__2026-11-20T17:00:00+00:00",
            "task_id": "ledger",
            "map_index": 2,
            "try_number": 3,
            "data_date": DAY,
            "failed_at": AT,
            "error_type": "BiduiError",
            "message": "县代码 522799 不在区划名录中",
        },
    ]
    assert load_failure_days(store.connect(settings)) == {DAY}


def test_timeouts_and_missing_exceptions_are_said_in_chinese():
    AirflowSensorTimeout = type("AirflowSensorTimeout", (Exception,), {})
    AirflowTaskTimeout = type("AirflowTaskTimeout", (Exception,), {})
    assert failure_message(AirflowSensorTimeout("Sensor has timed out")) == (
        "AirflowSensorTimeout",
        "等待超时，任务已停止：Sensor has timed out",
    )
    assert failure_message(AirflowTaskTimeout("Timeout, PID: 42")) == (
        "AirflowTaskTimeout",
        "运行超过时限（execution_timeout），任务已被停止：Timeout, PID: 42",
    )
    assert failure_message(None) == ("unknown", "任务失败，Airflow 未给出原因，请查看任务日志")
    assert failure_message(ValueError()) == ("ValueError", "系统错误（ValueError），请查看任务日志")
    kind, message = failure_message(ValueError("x" * 5000))
    assert (kind, len(message), message[-1]) == ("ValueError", 4000, "…")


def test_recording_never_raises_and_a_bad_data_date_is_kept_as_none(tmp_path, sqlite_settings):
    # The store cannot be opened (its folder is a file): logged, False, nothing raised.
    blocked = tmp_path / "blocked"
    blocked.write_text("")
    unreachable = load_settings(environ={}, data_dir=tmp_path, database_url=f"sqlite:///{blocked}/bidui.sqlite3")
    assert record_task_failure(_context(RuntimeError("boom")), DAY, unreachable, now=AT) is False
    # A context without a task instance or exception still says what it can.
    assert record_task_failure({}, "not-a-date", sqlite_settings, now=AT) is True
    with store.connect(sqlite_settings).connect() as conn:
        from sqlalchemy import select

        from pipelines.store.tables import task_failures

        rows = conn.execute(select(task_failures.c.task_id, task_failures.c.data_date, task_failures.c.message)).all()
    assert rows == [("unknown", None, "任务失败，Airflow 未给出原因，请查看任务日志")]


def test_a_data_date_the_callback_cannot_read_from_its_context_is_logged_not_raised(sqlite_settings):
    # The DAGs pass how to read their run's data date; a context without params or a run must not
    # turn the callback into a second failure that hides the first.
    def unreadable() -> dt.date:
        return {}["params"]

    assert record_task_failure(_context(RuntimeError("boom")), unreadable, sqlite_settings, now=AT) is False
    assert record_task_failure(_context(RuntimeError("boom")), lambda: DAY, sqlite_settings, now=AT) is True
