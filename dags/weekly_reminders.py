"""Weekly overdue reminders (每周逾期提醒): every Monday at 08:00 Asia/Shanghai, each county's clues
still open past their deadline go out as a workbook (pipelines.documents.run_weekly_reminders).

The task body calls that one function; pipeline imports live inside it so this file parses in
milliseconds.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pendulum
from airflow.sdk import Asset, CronTriggerTimetable, dag, get_current_context, task

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["LOCAL_TZ", "record_failure", "reminder_date_for", "weekly_reminders"]

LOCAL_TZ = "Asia/Shanghai"
NIGHT = Asset("bidui://night")  # read, not waited for: reminders keep their date (Monday 08:00)

DOC_MD = """
### 每周逾期提醒 · Weekly overdue reminders

**中文**：每周一 08:00（北京时间）统计截至当天已过整改期限、尚未销号的问题线索，按县各生成一份
逾期线索提醒清单（Excel，`reminders/<统计日期>/逾期线索_<县名>_<县代码>_<统计日期>.xlsx`）：
逾期线索按逾期天数排列，另附按乡镇统计；身份证号脱敏。没有逾期线索的县不生成清单。重复运行同一天会重写当天的清单。

**English**: every Monday at 08:00 Asia/Shanghai, writes per county the clues open past their
deadline on that day (sorted by days overdue, with a count per township; ID numbers masked) to
`reminders/<date>/`. Counties without overdue clues get no file; re-running a day rewrites its files.
"""


def reminder_date_for(moment: datetime) -> date:
    """The day a run counts overdue clues on: the run's own local (Asia/Shanghai) date."""
    return pendulum.instance(moment).in_timezone(LOCAL_TZ).date()


def record_failure(context: Context) -> None:
    """Every task's on_failure_callback: the failed try goes where the night page lists it, under
    the night before the run's local date (the newest night a 08:00 run reads)."""
    from pipelines.night import record_task_failure

    record_task_failure(
        context, lambda: reminder_date_for(context.get("logical_date") or context["dag_run"].run_after) - timedelta(days=1)
    )


@dag(
    dag_id="weekly_reminders",
    # A trigger timetable makes logical_date the Monday 08:00 trigger time itself.
    schedule=CronTriggerTimetable("0 8 * * 1", timezone=LOCAL_TZ),
    start_date=pendulum.datetime(2026, 1, 1, tz=LOCAL_TZ),
    catchup=False,
    max_active_runs=1,
    tags=["bidui", "weekly", "documents"],
    default_args={
        "retries": 2,
        "retry_delay": timedelta(minutes=5),
        "execution_timeout": timedelta(minutes=20),
        "on_failure_callback": record_failure,
    },
    doc_md=DOC_MD,
)
def weekly_reminders() -> None:
    """Write this week's overdue lists."""

    @task(multiple_outputs=False, execution_timeout=timedelta(minutes=20), inlets=[NIGHT])
    def remind() -> dict[str, Any]:
        """Every county's overdue list on the run's date, as the system; returns the files written."""
        from pipelines.documents import run_weekly_reminders
        from pipelines.settings import load_settings

        context = get_current_context()
        # Runs triggered without a logical date (allowed since Airflow 3) still have run_after.
        moment = context.get("logical_date") or context["dag_run"].run_after
        return run_weekly_reminders(load_settings(), reminder_date_for(moment))

    remind()


weekly_reminders()
