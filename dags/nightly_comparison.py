"""The nightly comparison (每晚数据比对): wires the pipeline stages for one delivery.

Every task body calls one ``pipelines`` function with run-scoped values. Pipeline imports live
inside the task bodies so the scheduler's DAG processor parses this file in milliseconds and a
broken stage cannot turn into a DAG import error.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pendulum
from airflow.sdk import CronTriggerTimetable, Param, TriggerRule, XComArg, dag, get_current_context, task

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["LOCAL_TZ", "data_date_for", "default_delivery_dir", "nightly_comparison"]

LOCAL_TZ = "Asia/Shanghai"

DOC_MD = """
### 每晚数据比对 · Nightly comparison

**中文**：每天凌晨 01:00（北京时间）处理前一天的部门交付数据。01:00 运行处理的“数据日期”为运行日的前一天
（21 日 01:00 的运行处理 20 日的交付），默认交付目录为 `<drop_dir>/<数据日期>/`；
手动触发时可用参数 `delivery_dir` 指定其他目录。

1. **ingest 导入**：读取交付目录中的各部门文件，入库并给出待校验的数据源清单；
2. **validate 校验**：按数据源并行校验（每个数据源一个映射任务实例）；
3. **report 校验报告**：汇总校验结果，生成 `reports/<数据日期>/` 下的报告文件；
   即使当晚没有任何可校验的数据源，也照常生成报告。
4. **link 关联**：与报告并行，把当晚各数据源的人员记录关联成底图（人员、户、关联结果、待审核配对），
   人员编号与户编码逐晚保持不变；关联失败不影响校验报告。
5. **clues 问题线索**：关联完成后运行全部规则，新增、沿用、数据消除、重新打开问题线索；
   命中数突增的规则被熔断暂停下发，留待数据管理员核查。
6. **ledger 问题台账**：按县并行（每个有待下发线索的县一个映射任务实例），生成该县的问题台账工作簿并下发。

**English**: runs at 01:00 Asia/Shanghai and processes the previous day's delivery (the 01:00 run
on the 21st handles the delivery dated the 20th), read from `<drop_dir>/<data date>/` unless the
`delivery_dir` param names another folder. `ingest` loads the files and lists the feeds to check,
`validate` checks each feed as one mapped task instance, `report` writes the validation reports
under `reports/<data date>/`, even on a night with no feed left to validate. `link`, beside
`report`, links the night's person-level rows into the base map (persons, households, links, review
queue) with person IDs and household codes kept from night to night; a failed link leaves the report
alone. `clues` then runs every rule on the base map and brings the clues up to date (a rule firing far
beyond its last count is held for the data officer), and `ledger`, mapped per county with clues to
issue, writes and issues that county's ledger workbook. Every task retries twice; re-running a night
is idempotent.
"""


def data_date_for(moment: datetime) -> date:
    """Return the data date a run handles: the day before the run's local (Asia/Shanghai) date."""
    return pendulum.instance(moment).in_timezone(LOCAL_TZ).date() - timedelta(days=1)


def default_delivery_dir(drop_dir: Path, moment: datetime) -> Path:
    """Return ``<drop_dir>/<data date>`` for a run scheduled at ``moment``."""
    return Path(drop_dir) / data_date_for(moment).isoformat()


def _run_moment(context: Context) -> datetime:
    # Runs triggered without a logical date (allowed since Airflow 3) still have run_after.
    return context.get("logical_date") or context["dag_run"].run_after


@dag(
    dag_id="nightly_comparison",
    # The trigger timetable makes logical_date the 01:00 trigger time itself, which is what
    # data_date_for assumes; a bare cron string would follow [scheduler] create_cron_data_intervals.
    schedule=CronTriggerTimetable("0 1 * * *", timezone=LOCAL_TZ),
    start_date=pendulum.datetime(2026, 1, 1, tz=LOCAL_TZ),
    catchup=False,
    max_active_runs=1,
    tags=["bidui", "nightly"],
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
    params={
        "delivery_dir": Param(
            None,
            type=["null", "string"],
            title="交付目录 delivery_dir",
            description="留空则使用 <drop_dir>/<数据日期>/。Leave empty for <drop_dir>/<data date>/.",
        ),
    },
    doc_md=DOC_MD,
)
def nightly_comparison() -> None:
    """Wire one night: ingest the delivery, validate each feed, then write the validation reports
    and link the base map side by side."""

    @task
    def ingest() -> list[str]:
        """Load the night's delivery; returns the feeds to validate.

        Airflow maps only over a task's whole return value, so the feed list is the return value;
        the delivery date and the full summary go out under their own XCom keys.
        """
        from pipelines.ingest import ingest_delivery
        from pipelines.settings import load_settings

        context = get_current_context()
        settings = load_settings()
        given = context["params"].get("delivery_dir")
        assert settings.drop_dir is not None  # load_settings always sets it
        delivery_dir = Path(given) if given else default_delivery_dir(settings.drop_dir, _run_moment(context))
        summary = ingest_delivery(settings, delivery_dir)
        context["ti"].xcom_push(key="delivery_date", value=summary.delivery_date)
        context["ti"].xcom_push(key="summary", value=summary.to_dict())
        return summary.feeds_to_validate

    # A dict return annotation would otherwise push every key as its own XCom.
    # Named map indexes show feed names instead of 0..n in the UI.
    @task(multiple_outputs=False, map_index_template="{{ feed }}")
    def validate(delivery_date: str, feed: str) -> dict[str, Any]:
        """Validate one feed of the delivery."""
        from pipelines.settings import load_settings
        from pipelines.validate import validate_feed

        get_current_context()["feed"] = feed  # type: ignore[typeddict-unknown-key]
        return validate_feed(load_settings(), delivery_date, feed).to_dict()

    # none_failed: a night whose every feed was rejected or missing maps zero validate instances
    # (skipped), and that is exactly the night county staff most need the report.
    @task(multiple_outputs=False, trigger_rule=TriggerRule.NONE_FAILED)
    def report(delivery_date: str) -> dict[str, Any]:
        """Write the night's validation reports; returns their paths."""
        from pipelines.settings import load_settings
        from pipelines.validate import finish_validation

        return finish_validation(load_settings(), delivery_date).to_dict()

    # none_failed for the same reason as report: feeds kept from earlier nights still get linked.
    @task(multiple_outputs=False, trigger_rule=TriggerRule.NONE_FAILED)
    def link(delivery_date: str) -> dict[str, Any]:
        """Link the night's person rows into the base map; returns counts and seconds per stage."""
        from pipelines.link import link_night
        from pipelines.settings import load_settings

        return link_night(load_settings(), delivery_date).to_dict()

    @task(multiple_outputs=False)
    def clues(delivery_date: str) -> list[str]:
        """Run the rules on tonight's base map and bring the clues up to date; returns the
        counties with clues to issue (the rules' summary goes out as XCom "summary")."""
        from pipelines.clues import counties_with_new_clues, run_clue_night
        from pipelines.settings import load_settings

        settings = load_settings()
        summary = run_clue_night(settings, delivery_date)
        get_current_context()["ti"].xcom_push(key="summary", value=summary.to_dict())
        return counties_with_new_clues(settings)

    @task(multiple_outputs=False, map_index_template="{{ county }}")
    def ledger(delivery_date: str, county: str) -> dict[str, Any]:
        """Issue one county's ledger workbook, dated the day the run issues it."""
        from pipelines.ledgers import issue_county_ledger
        from pipelines.settings import load_settings

        get_current_context()["county"] = county  # type: ignore[typeddict-unknown-key]
        issue_date = date.fromisoformat(delivery_date) + timedelta(days=1)
        return issue_county_ledger(load_settings(), county, issue_date).to_dict()

    # Airflow's stubs type a task call like its function, but while the DAG is parsed a call takes
    # and returns XComArgs; what it returns is a PlainXComArg, which has .operator.
    feeds = ingest()
    delivery_date = XComArg(feeds.operator, key="delivery_date")  # type: ignore[attr-defined]
    validated = validate.partial(delivery_date=delivery_date).expand(feed=feeds)
    linked = link(delivery_date)  # type: ignore[arg-type]
    validated >> [report(delivery_date), linked]  # type: ignore[arg-type]
    counties = clues(delivery_date)  # type: ignore[arg-type]
    linked >> counties
    ledger.partial(delivery_date=delivery_date).expand(county=counties)


nightly_comparison()
