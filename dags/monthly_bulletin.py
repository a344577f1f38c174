"""The monthly bulletin (月通报): on the 5th of each month at 08:00 Asia/Shanghai, ranks the counties
for the month before. One task, one call into ``pipelines``, run as the system (no sign-in inside
Airflow, as the nightly stages run); pipeline imports live inside the task body."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pendulum
from airflow.sdk import Asset, CronTriggerTimetable, dag, get_current_context, task

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["LOCAL_TZ", "monthly_bulletin", "record_failure"]

LOCAL_TZ = "Asia/Shanghai"
NIGHT = Asset("bidui://night")  # read, not waited for: the bulletin keeps its date (the 5th, 08:00)

DOC_MD = """
### 月通报 · Monthly bulletin

**中文**：每月 5 日 08:00（北京时间）生成上一个月的月通报：各县按综合得分排名，标出排名后三和连续排名靠后需约谈的县，
与上月比较；文件写入 `<数据目录>/bulletins/<月份>/`（HTML、PDF、Excel），排名存入数据库供以后各月计算连续次数。

**English**: at 08:00 Asia/Shanghai on the 5th, makes the bulletin of the previous month (from the
run's logical date) as the system: files under `<data_dir>/bulletins/<month>/`, ranks stored.
Re-running a month gives the same figures.
"""


def record_failure(context: Context) -> None:
    """Every task's on_failure_callback: the failed try goes where the night page lists it, under
    the night before the run's local date (the newest night a 08:00 run reads)."""
    from pipelines.night import record_task_failure

    record_task_failure(
        context,
        lambda: (
            pendulum.instance(context.get("logical_date") or context["dag_run"].run_after).in_timezone(LOCAL_TZ).date()
            - timedelta(days=1)
        ),
    )


@dag(
    dag_id="monthly_bulletin",
    schedule=CronTriggerTimetable("0 8 5 * *", timezone=LOCAL_TZ),
    start_date=pendulum.datetime(2026, 1, 1, tz=LOCAL_TZ),
    catchup=False,
    max_active_runs=1,
    tags=["bidui", "documents"],
    default_args={
        "retries": 2,
        "retry_delay": timedelta(minutes=10),
        "execution_timeout": timedelta(minutes=30),
        "on_failure_callback": record_failure,
    },
    doc_md=DOC_MD,
)
def monthly_bulletin() -> None:
    """Wire the month's bulletin."""

    @task(multiple_outputs=False, execution_timeout=timedelta(minutes=30), inlets=[NIGHT])
    def bulletin() -> dict[str, Any]:
        """Make the previous month's bulletin; returns its month, night and files."""
        from pipelines.documents import run_monthly_bulletin
        from pipelines.settings import load_settings

        context = get_current_context()
        moment = context.get("logical_date") or context["dag_run"].run_after
        return run_monthly_bulletin(load_settings(), pendulum.instance(moment).in_timezone(LOCAL_TZ).date())

    bulletin()


monthly_bulletin()
