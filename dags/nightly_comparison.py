"""The nightly comparison (每晚数据比对): waits for one delivery to be fully written, then wires the
pipeline stages over it and publishes the night as the Asset ``bidui://night``.

Every task body calls one ``pipelines`` function with run-scoped values. Pipeline imports live
inside the task bodies (and the failure callback) so the scheduler's DAG processor parses this file
in milliseconds and a broken stage cannot turn into a DAG import error.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pendulum
from airflow.sdk import (
    Asset,
    CronTriggerTimetable,
    Param,
    PokeReturnValue,
    TriggerRule,
    XComArg,
    dag,
    get_current_context,
    task,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["LOCAL_TZ", "NIGHT", "data_date_for", "default_delivery_dir", "nightly_comparison", "record_failure"]

log = logging.getLogger(__name__)

LOCAL_TZ = "Asia/Shanghai"
# The night, published when its last task is done: what reads a finished night is scheduled on it.
NIGHT = Asset("bidui://night")
# Deliveries are due by 01:00; one not ready by 07:00 fails the sensor, and the failure is on the
# data officer's night page when the working day starts.
DELIVERY_POKE_SECONDS = 5 * 60.0
DELIVERY_WAIT_SECONDS = 6 * 3600.0
DEFAULT_STABLE_MINUTES = 30

DOC_MD = """
### 每晚数据比对 · Nightly comparison

**中文**：每天凌晨 01:00（北京时间）处理前一天的部门交付数据。01:00 运行处理的“数据日期”为运行日的前一天
（21 日 01:00 的运行处理 20 日的交付），默认交付目录为 `<drop_dir>/<数据日期>/`；
手动触发时可用参数 `delivery_dir` 指定其他目录。

0. **wait_for_delivery 等待交付**：交付目录中出现完成标记 `_READY`，或目录中的文件连续 `stable_minutes`
   分钟（默认 30）没有变动，才开始导入；每 5 分钟检查一次（不占用工作进程），到 07:00 仍未就绪则失败。
1. **ingest 导入**：读取交付目录中的各部门文件，入库并给出待校验的数据源清单；
2. **validate 校验**：按数据源并行校验（每个数据源一个映射任务实例）；
3. **report 校验报告**：汇总校验结果，生成 `reports/<数据日期>/` 下的报告文件；
   即使当晚没有任何可校验的数据源，也照常生成报告。
4. **link 关联**：与报告并行，把当晚各数据源的人员记录关联成底图（人员、户、关联结果、待审核配对），
   人员编号与户编码逐晚保持不变；关联失败不影响校验报告。
5. **clues 问题线索**：关联完成后运行全部规则，新增、沿用、数据消除、重新打开问题线索；
   命中数突增的规则被熔断暂停下发，留待数据管理员核查。
6. **ledger 问题台账**：按县并行（每个有待下发线索的县一个映射任务实例），生成该县的问题台账工作簿并下发。
7. **snapshot 当晚快照**：按台账下发后的线索重写当晚各地区的问题统计（趋势图读取），并发布
   Airflow 资产 `bidui://night`，供读取当晚结果的流程（如台账回收 ledger_feedback）触发。

每个任务失败后重试两次，各有运行时限；重试后仍失败的任务记入数据库，显示在数据管理员的“当晚比对”页面。

**English**: runs at 01:00 Asia/Shanghai and processes the previous day's delivery (the 01:00 run
on the 21st handles the delivery dated the 20th), read from `<drop_dir>/<data date>/` unless the
`delivery_dir` param names another folder. `wait_for_delivery` (a reschedule-mode sensor, poked
every 5 minutes for up to 6 hours) lets the night start once the folder holds a `_READY` marker or
its files have not changed for `stable_minutes` (default 30). `ingest` loads the files and lists the feeds to check,
`validate` checks each feed as one mapped task instance, `report` writes the validation reports
under `reports/<data date>/`, even on a night with no feed left to validate. `link`, beside
`report`, links the night's person-level rows into the base map (persons, households, links, review
queue) with person IDs and household codes kept from night to night; a failed link leaves the report
alone. `clues` then runs every rule on the base map and brings the clues up to date (a rule firing far
beyond its last count is held for the data officer), and `ledger`, mapped per county with clues to
issue, writes and issues that county's ledger workbook. `snapshot` rewrites the night's problem
counts for the trends as the night leaves the clues and publishes the Asset `bidui://night`. Every
task retries twice within its own execution timeout; a task that still fails is recorded in the
store (task_failures) and shown on the data officer's night page. Re-running a night is idempotent.
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


def _delivery_dir(context: Context, drop_dir: Path) -> Path:
    given = context["params"].get("delivery_dir")
    return Path(given) if given else default_delivery_dir(drop_dir, _run_moment(context))


def record_failure(context: Context) -> None:
    """Every task's on_failure_callback: the failed try goes where the night page lists it, under
    the run's data date (the delivery folder's name when one was given)."""
    from pipelines.night import record_task_failure

    def data_date() -> str | date:
        given = context["params"].get("delivery_dir")
        return Path(given).name if given else data_date_for(_run_moment(context))

    record_task_failure(context, data_date)


# Reschedule mode gives the worker slot back between pokes; execution_timeout bounds one poke.
@task.sensor(
    poke_interval=DELIVERY_POKE_SECONDS,
    timeout=DELIVERY_WAIT_SECONDS,
    mode="reschedule",
    execution_timeout=timedelta(minutes=2),
)
def wait_for_delivery() -> PokeReturnValue:
    """Done once the delivery folder is fully written (a _READY marker, or files unchanged for
    stable_minutes); logs why not otherwise."""
    from pipelines.ingest import delivery_ready
    from pipelines.settings import load_settings

    context = get_current_context()
    settings = load_settings()
    assert settings.drop_dir is not None  # load_settings always sets it
    readiness = delivery_ready(_delivery_dir(context, settings.drop_dir), float(context["params"]["stable_minutes"]))
    log.info("%s", readiness.reason)  # the task log says why the night waits
    return PokeReturnValue(is_done=readiness.ready, xcom_value=readiness.reason)


@dag(
    dag_id="nightly_comparison",
    # The trigger timetable makes logical_date the 01:00 trigger time itself, which is what
    # data_date_for assumes; a bare cron string would follow [scheduler] create_cron_data_intervals.
    schedule=CronTriggerTimetable("0 1 * * *", timezone=LOCAL_TZ),
    start_date=pendulum.datetime(2026, 1, 1, tz=LOCAL_TZ),
    catchup=False,
    max_active_runs=1,
    tags=["bidui", "nightly"],
    default_args={
        "retries": 2,
        "retry_delay": timedelta(minutes=5),
        # A night's heaviest stage; each task sets its own limit below.
        "execution_timeout": timedelta(hours=1),
        "on_failure_callback": record_failure,
    },
    params={
        "delivery_dir": Param(
            None,
            type=["null", "string"],
            title="交付目录 delivery_dir",
            description="留空则使用 <drop_dir>/<数据日期>/。Leave empty for <drop_dir>/<data date>/.",
        ),
        "stable_minutes": Param(
            DEFAULT_STABLE_MINUTES,
            type="number",
            minimum=0,
            title="文件稳定分钟数 stable_minutes",
            description="没有 _READY 标记时，交付文件需连续多少分钟没有变动才开始导入；0 表示有文件即可。",
        ),
    },
    doc_md=DOC_MD,
)
def nightly_comparison() -> None:
    """Wire one night: wait for the delivery, ingest it, validate each feed, then write the
    validation reports and link the base map side by side; rules and clues, ledgers per county, and
    the night's snapshot, which publishes the night."""

    @task(execution_timeout=timedelta(minutes=30))
    def ingest() -> list[str]:
        """Load the night's delivery; returns the feeds to validate.

        Airflow maps only over a task's whole return value, so the feed list is the return value;
        the delivery date and the full summary go out under their own XCom keys.
        """
        from pipelines.ingest import ingest_delivery
        from pipelines.settings import load_settings

        context = get_current_context()
        settings = load_settings()
        assert settings.drop_dir is not None  # load_settings always sets it
        summary = ingest_delivery(settings, _delivery_dir(context, settings.drop_dir))
        context["ti"].xcom_push(key="delivery_date", value=summary.delivery_date)
        context["ti"].xcom_push(key="summary", value=summary.to_dict())
        return summary.feeds_to_validate

    # A dict return annotation would otherwise push every key as its own XCom.
    # Named map indexes show feed names instead of 0..n in the UI.
    @task(multiple_outputs=False, map_index_template="{{ feed }}", execution_timeout=timedelta(minutes=30))
    def validate(delivery_date: str, feed: str) -> dict[str, Any]:
        """Validate one feed of the delivery."""
        from pipelines.settings import load_settings
        from pipelines.validate import validate_feed

        get_current_context()["feed"] = feed  # type: ignore[typeddict-unknown-key]
        return validate_feed(load_settings(), delivery_date, feed).to_dict()

    # none_failed: a night whose every feed was rejected or missing maps zero validate instances
    # (skipped), and that is exactly the night county staff most need the report.
    @task(multiple_outputs=False, trigger_rule=TriggerRule.NONE_FAILED, execution_timeout=timedelta(minutes=20))
    def report(delivery_date: str) -> dict[str, Any]:
        """Write the night's validation reports; returns their paths."""
        from pipelines.settings import load_settings
        from pipelines.validate import finish_validation

        return finish_validation(load_settings(), delivery_date).to_dict()

    # none_failed for the same reason as report: feeds kept from earlier nights still get linked.
    @task(multiple_outputs=False, trigger_rule=TriggerRule.NONE_FAILED, execution_timeout=timedelta(hours=1))
    def link(delivery_date: str) -> dict[str, Any]:
        """Link the night's person rows into the base map; returns counts and seconds per stage."""
        from pipelines.link import link_night
        from pipelines.settings import load_settings

        return link_night(load_settings(), delivery_date).to_dict()

    # Rules and clues stay one task: run_clue_night hands the rules' findings (one row per subject
    # fired, millions at province scale) to the clue update in memory, and nothing stores them
    # between the two; a split would pass them through XCom or a new table.
    @task(multiple_outputs=False, execution_timeout=timedelta(minutes=45))
    def clues(delivery_date: str) -> list[str]:
        """Run the rules on tonight's base map and bring the clues up to date; returns the
        counties with clues to issue (the rules' summary goes out as XCom "summary")."""
        from pipelines.clues import counties_with_new_clues, run_clue_night
        from pipelines.settings import load_settings

        settings = load_settings()
        summary = run_clue_night(settings, delivery_date)
        get_current_context()["ti"].xcom_push(key="summary", value=summary.to_dict())
        return counties_with_new_clues(settings)

    @task(multiple_outputs=False, map_index_template="{{ county }}", execution_timeout=timedelta(minutes=20))
    def ledger(delivery_date: str, county: str) -> dict[str, Any]:
        """Issue one county's ledger workbook, dated the day the run issues it."""
        from pipelines.ledgers import issue_county_ledger
        from pipelines.settings import load_settings

        get_current_context()["county"] = county  # type: ignore[typeddict-unknown-key]
        issue_date = date.fromisoformat(delivery_date) + timedelta(days=1)
        return issue_county_ledger(load_settings(), county, issue_date).to_dict()

    # none_failed: a night with no county to issue maps zero ledger instances (skipped) and is
    # still a finished night.
    @task(
        multiple_outputs=False,
        trigger_rule=TriggerRule.NONE_FAILED,
        execution_timeout=timedelta(minutes=15),
        outlets=[NIGHT],
    )
    def snapshot(delivery_date: str) -> dict[str, Any]:
        """Write the night's problem counts as the night leaves the clues; publishes the night."""
        from pipelines.night import snapshot_night
        from pipelines.settings import load_settings

        return snapshot_night(load_settings(), delivery_date)

    # Airflow's stubs type a task call like its function, but while the DAG is parsed a call takes
    # and returns XComArgs; what it returns is a PlainXComArg, which has .operator.
    feeds = ingest()
    wait_for_delivery() >> feeds
    delivery_date = XComArg(feeds.operator, key="delivery_date")  # type: ignore[attr-defined]
    validated = validate.partial(delivery_date=delivery_date).expand(feed=feeds)
    linked = link(delivery_date)  # type: ignore[arg-type]
    validated >> [report(delivery_date), linked]  # type: ignore[arg-type]
    counties = clues(delivery_date)  # type: ignore[arg-type]
    linked >> counties
    ledger.partial(delivery_date=delivery_date).expand(county=counties) >> snapshot(delivery_date)  # type: ignore[arg-type]


nightly_comparison()
