"""Ledger feedback (台账回收): filled ledger workbooks dropped into the inbox folder are imported one
file per mapped task instance and moved to done/ (with the import report) or rejected/ (with the
reason). Every task body calls one ``pipelines.ledgers`` function; pipeline imports live inside the
task bodies (and the failure callback) so this file parses in milliseconds.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pendulum
from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable, dag, get_current_context, task

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["LEDGER_RETURNS", "LOCAL_TZ", "NIGHT", "data_date_for", "ledger_feedback", "record_failure"]

LOCAL_TZ = "Asia/Shanghai"
NIGHT = Asset("bidui://night")  # published by nightly_comparison's last task
LEDGER_RETURNS = Asset("bidui://ledger-returns")  # the clues moved by returned ledgers
# Every 15 minutes through the working day (08:00–19:45, every day: county staff work weekends
# before an audit); a file dropped later is picked up after the next night is published.
OFFICE_HOURS = "*/15 8-19 * * *"
SETTLE_SECONDS = 120

DOC_MD = """
### 台账回收 · Ledger feedback

**中文**：县里交回的已填台账（.xlsx）放入 `<数据目录>/inbox/ledgers/` 即可：每天 08:00–19:45 每 15 分钟检查一次，
另外每晚比对完成（资产 `bidui://night` 更新）后再检查一次。每个文件一个映射任务实例，以系统身份导入
（与 `bidui ledgers import` 相同的规则：逐行核实、整改、签字，有问题的行退回）：导入后文件移到 `done/`，
导入报告 `<文件名>_导入报告.xlsx` 放在旁边；不是台账、无法读取的文件移到 `rejected/`，旁边写明原因。
2 分钟内仍有改动的文件（正在复制）留待下次；同一文件重复放入不会重复登记（第二次各行均为“无变化”）。

**English**: imports the filled ledgers dropped into `<data_dir>/inbox/ledgers/`, one mapped task
instance per file, as the system; each file moves to `done/` beside its import report, or to
`rejected/` beside the reason it is not a ledger. Runs every 15 minutes from 08:00 to 19:45 and once
after each published night (Asset `bidui://night`). Files changed in the last 2 minutes wait for the
next run; a file dropped twice changes nothing the second time. Publishes `bidui://ledger-returns`.
"""


def data_date_for(moment: datetime) -> date:
    """The night a run works after: the day before the run's local (Asia/Shanghai) date."""
    return pendulum.instance(moment).in_timezone(LOCAL_TZ).date() - timedelta(days=1)


def _run_moment(context: Context) -> datetime:
    # Asset-triggered runs have no logical date; every run has run_after.
    return context.get("logical_date") or context["dag_run"].run_after


def record_failure(context: Context) -> None:
    """Every task's on_failure_callback: the failed try goes where the night page lists it."""
    from pipelines.night import record_task_failure

    record_task_failure(context, lambda: data_date_for(_run_moment(context)))


@dag(
    dag_id="ledger_feedback",
    schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable(OFFICE_HOURS, timezone=LOCAL_TZ), assets=[NIGHT]),
    start_date=pendulum.datetime(2026, 1, 1, tz=LOCAL_TZ),
    catchup=False,
    # One run at a time: two runs would list the same files.
    max_active_runs=1,
    tags=["bidui", "ledgers"],
    default_args={
        "retries": 2,
        "retry_delay": timedelta(minutes=2),
        "execution_timeout": timedelta(minutes=10),
        "on_failure_callback": record_failure,
    },
    doc_md=DOC_MD,
)
def ledger_feedback() -> None:
    """Wire the inbox: list the settled files, import each."""

    @task(execution_timeout=timedelta(minutes=2))
    def waiting_ledgers() -> list[str]:
        """The inbox files nobody is writing any more (one mapped import each)."""
        from pipelines.ledgers import list_inbox_ledgers
        from pipelines.settings import load_settings

        return list_inbox_ledgers(load_settings(), settle_seconds=SETTLE_SECONDS)

    @task(
        multiple_outputs=False,
        map_index_template="{{ ledger_file }}",
        execution_timeout=timedelta(minutes=15),
        outlets=[LEDGER_RETURNS],
    )
    def import_ledger_file(path: str) -> dict[str, Any]:
        """Import one file and move it to done/ or rejected/; returns what became of it."""
        from pipelines.ledgers import import_inbox_ledger
        from pipelines.settings import load_settings

        get_current_context()["ledger_file"] = Path(path).name  # type: ignore[typeddict-unknown-key]
        return import_inbox_ledger(load_settings(), path, settle_seconds=SETTLE_SECONDS)

    import_ledger_file.expand(path=waiting_ledgers())


ledger_feedback()
