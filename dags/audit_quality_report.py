"""The pre-audit data-quality report (数据质量报告), triggered by hand before a national system audit:
one task calling pipelines.documents.make_quality_report with the run's `as_of` and `since`.

Pipeline imports live inside the task body so this file parses in milliseconds.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pendulum
from airflow.sdk import Asset, Param, dag, get_current_context, task

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["LOCAL_TZ", "audit_quality_report", "record_failure", "report_date_for"]

LOCAL_TZ = "Asia/Shanghai"
NIGHT = Asset("bidui://night")  # read: the report is made for a night on or before as_of

DOC_MD = """
### 数据质量报告 · Pre-audit data-quality report

**中文**：国家系统数据核查前手动触发。按参数 `as_of`（截至日期，留空为触发当天）取该日及以前最近一晚的数据，
生成数据质量报告（HTML、PDF、Excel，存放在 `reports/quality/<数据日期>/`）：各县身份证号无效、必填项缺失、
部门间身份不一致和数据矛盾、被拒收的数据，各数据项校验结果，关联覆盖，数据准确率及其口径；
并与参数 `since`（留空为本期之前最近一期）那一期报告比较。同一数据日期重复生成会覆盖原报告。

**English**: triggered by hand before a national audit. Makes the report for the night on or before
`as_of` (default: the run's local date) and compares it with the stored report on or before `since`
(default: the newest before it). Re-running a night replaces its report.
"""


def report_date_for(moment: datetime) -> date:
    """The default as-of date of a run: the run's own local (Asia/Shanghai) date."""
    return pendulum.instance(moment).in_timezone(LOCAL_TZ).date()


def record_failure(context: Context) -> None:
    """Every task's on_failure_callback: the failed try goes where the night page lists it, under
    the as_of date asked for, or the night before the run's local date."""
    from pipelines.night import record_task_failure

    record_task_failure(
        context,
        lambda: (
            context["params"].get("as_of")
            or report_date_for(context.get("logical_date") or context["dag_run"].run_after) - timedelta(days=1)
        ),
    )


@dag(
    dag_id="audit_quality_report",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz=LOCAL_TZ),
    catchup=False,
    max_active_runs=1,
    tags=["bidui", "documents", "audit"],
    default_args={
        "retries": 2,
        "retry_delay": timedelta(minutes=5),
        "execution_timeout": timedelta(minutes=30),
        "on_failure_callback": record_failure,
    },
    params={
        "as_of": Param(
            None,
            type=["null", "string"],
            format="date",
            title="截至日期 as_of",
            description="YYYY-MM-DD；留空为触发当天。Leave empty for the run's date.",
        ),
        "since": Param(
            None,
            type=["null", "string"],
            format="date",
            title="比较日期 since",
            description="与该日及以前最近一期报告比较；留空为本期之前最近一期。",
        ),
    },
    doc_md=DOC_MD,
)
def audit_quality_report() -> None:
    """Make the data-quality report."""

    @task(multiple_outputs=False, execution_timeout=timedelta(minutes=30), inlets=[NIGHT])
    def quality_report() -> dict[str, Any]:
        """The report for the run's as_of, by the system; returns the night and the files."""
        from pipelines.documents import make_quality_report
        from pipelines.settings import load_settings

        context = get_current_context()
        params = context["params"]
        moment = context.get("logical_date") or context["dag_run"].run_after
        as_of = date.fromisoformat(params["as_of"]) if params.get("as_of") else report_date_for(moment)
        since = date.fromisoformat(params["since"]) if params.get("since") else None
        result = make_quality_report(load_settings(), as_of, "airflow", since=since)
        return {key: None if value is None else str(value) for key, value in result.items()}

    quality_report()


audit_quality_report()
