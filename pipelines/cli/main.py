"""`bidui`: the one entry point for people."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipelines.cli.audit import audit_app
from pipelines.cli.bulletin import register as register_bulletin
from pipelines.cli.clues import clue_app
from pipelines.cli.common import (
    ADMIN_USER,
    PASSWORD_FILE,
    USER,
    FriendlyGroup,
    console,
    parse_date_option,
    sign_in,
    sign_in_admin,
    signed_in_scope,
)
from pipelines.cli.common import friendly_errors as _friendly_errors
from pipelines.cli.ledgers import ledgers_app
from pipelines.cli.night import night_app
from pipelines.cli.quality import register as register_quality
from pipelines.cli.remind import register as register_remind
from pipelines.cli.sample import register as register_sample
from pipelines.cli.serve import serve
from pipelines.cli.text import install as _install_chinese_text
from pipelines.cli.users import user_app
from pipelines.errors import BiduiError
from pipelines.settings import Settings, load_settings

if TYPE_CHECKING:
    from pipelines.clues import ClueNight
    from pipelines.link import Linked
    from pipelines.validate import ValidationReport

__all__ = ["app"]

_install_chinese_text()

app = typer.Typer(
    cls=FriendlyGroup, help="比对 bidui：农村人口与防返贫监测跨部门数据比对", no_args_is_help=True, add_completion=False
)
export_app = typer.Typer(help="导出结果", no_args_is_help=True)
review_app = typer.Typer(help="人工审核：灰色区间的候选配对", no_args_is_help=True)
app.add_typer(export_app, name="export")
app.add_typer(review_app, name="review")
app.add_typer(user_app, name="user")
app.add_typer(clue_app, name="clue")
app.add_typer(ledgers_app, name="ledgers")
app.add_typer(night_app, name="night")
app.add_typer(audit_app, name="audit")
app.command("serve")(serve)
for _register in (register_bulletin, register_quality, register_sample, register_remind):
    _register(app)
STATE: dict[str, Settings] = {}
REVIEWER = typer.Option(None, "--user", help="审核人用户名：须为市（州）数据管理员（prefecture）账号")


@app.callback()
def _main(verbose: bool = typer.Option(False, "--verbose", "-v", help="显示详细日志")) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with _friendly_errors():  # e.g. a feed configuration naming a feed bidui has no table for
        STATE["settings"] = load_settings()


def _settings() -> Settings:
    return STATE.get("settings") or load_settings()


@contextlib.contextmanager
def _progress(title: str) -> Iterator:
    """A progress bar fed by pipeline callbacks `(step, fraction)`."""
    if not _settings().show_progress:
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(title, total=100)

        def report(step: str, fraction: float) -> None:
            bar.update(task, description=f"{title}：{step}", completed=round(fraction * 100))

        yield report


@app.command("demo-data")
def demo_data(
    persons: int = typer.Option(2000, help="模拟人口数"),
    seed: int = typer.Option(20261120, help="随机种子（相同种子生成相同数据）"),
    out: Path | None = typer.Option(None, help="输出目录（在其下生成以数据日期命名的交付目录；用 --after 时默认与前一晚同目录）"),
    as_of: str | None = typer.Option(None, "--as-of", help="数据日期 YYYY-MM-DD（默认今天；用 --after 时默认为前一晚的次日）"),
    after: Path | None = typer.Option(None, "--after", help="前一晚的模拟交付目录：生成它的下一晚（少数人变化，其余行不变）"),
    changes: float = typer.Option(0.01, "--changes", help="用 --after 时一晚内发生变化的人口比例"),
) -> None:
    """生成一份带真值的模拟交付数据（全部为虚构数据）；用 --after 生成某份模拟交付的下一晚。"""
    from pipelines.demo import generate_after, generate_delivery

    with _friendly_errors():
        day = _day(as_of) if as_of else None
        with _progress("生成模拟数据") as progress:
            if after is not None:
                path = generate_after(after, seed, changes, day, out, progress=progress)
            elif out is None:
                raise BiduiError("请用 --out 指定输出目录")
            else:
                path = generate_delivery(persons, seed, out, day or dt.date.today(), progress=progress)
    console.print(f"模拟交付已生成：[bold]{path}[/bold]（真值在 {path / '_truth'}）")


@app.command()
def ingest(
    delivery_dir: Path = typer.Argument(..., help="交付目录，以数据日期命名，例如 drop/2026-11-20"),
    user: str | None = ADMIN_USER,
    password_file: Path | None = PASSWORD_FILE,
) -> None:
    """载入一晚的交付数据（每个数据项保存为当日快照；须以市（州）数据管理员身份登录）。"""
    from pipelines.ingest import ingest_delivery

    settings = _settings()
    with _friendly_errors():
        sign_in_admin(settings, user, password_file, "载入交付数据")
    with _friendly_errors(), _progress("载入") as progress:
        summary = ingest_delivery(settings, delivery_dir, progress=progress)
    _print_feeds([dataclasses.asdict(f) for f in summary.feeds])
    for note in summary.notes:
        console.print(f"[yellow]提示：[/yellow]{note}")


@app.command()
def validate(
    delivery_date: str = typer.Argument(..., help="数据日期 YYYY-MM-DD"),
    feed: list[str] | None = typer.Option(None, "--feed", help="只检查这些数据项"),
    user: str | None = ADMIN_USER,
    password_file: Path | None = PASSWORD_FILE,
) -> None:
    """用 Great Expectations 检查已载入的数据，并生成校验报告（须以市（州）数据管理员身份登录）。"""
    from pipelines.catalog import load_feeds
    from pipelines.night import validate_night

    settings = _settings()
    with _friendly_errors():
        _day(delivery_date)  # a mistyped date is named before a password is asked
        sign_in_admin(settings, user, password_file, "校验数据")
    with _friendly_errors(), _progress("校验") as progress:
        names = feed or list(load_feeds(settings.feeds_config))
        _, report = validate_night(settings, _day(delivery_date).isoformat(), names, progress)
    _print_report(report)


@app.command()
def run(
    delivery_dir: Path = typer.Argument(..., help="交付目录，以数据日期命名"),
    release: list[str] | None = typer.Option(None, "--release", help="放行被熔断暂停的规则，例如 --release R05"),
    user: str | None = ADMIN_USER,
    password_file: Path | None = PASSWORD_FILE,
) -> None:
    """运行一整晚的比对：载入 → 校验 → 报告 → 关联（底图）→ 规则 → 问题线索（须以市（州）数据管理员身份登录）。"""
    from pipelines.night import run_night

    settings = _settings()
    with _friendly_errors():
        sign_in_admin(settings, user, password_file, "运行夜间比对")
    with _friendly_errors(), _progress("夜间比对") as progress:
        result = run_night(settings, delivery_dir, progress=progress, release=release or ())
    if result.report is not None:
        _print_report(result.report)
    console.print(f"数据库：{settings.database_url}")
    if result.link_error or result.link is None:
        console.print(f"[red]关联失败（校验报告已生成）：[/red]{result.link_error}", highlight=False)
        raise typer.Exit(code=1)
    _print_link(result.link)
    if result.clue_error or result.clues is None:
        console.print(f"[red]问题线索生成失败（底图已生成）：[/red]{result.clue_error}", highlight=False)
        raise typer.Exit(code=1)
    _print_clues(result.clues)


@app.command()
def link(
    delivery_date: str = typer.Argument(..., help="数据日期 YYYY-MM-DD（须已载入）"),
    user: str | None = ADMIN_USER,
    password_file: Path | None = PASSWORD_FILE,
) -> None:
    """关联一晚已载入的数据：人员记录 → 关联 → 底图（人员、户、关联、待审核）；须以市（州）数据管理员身份登录。"""
    from pipelines.link import link_night

    settings = _settings()
    with _friendly_errors():
        day = _day(delivery_date)
        sign_in_admin(settings, user, password_file, "运行关联")
    with _friendly_errors(), _progress("关联") as progress:
        summary = link_night(settings, day, progress=progress)
    _print_link(summary)


@app.command()
def explain(
    feed: str = typer.Argument(..., help="数据项，例如 hukou、medical_insurance"),
    record_key: str = typer.Argument(..., help="该数据项的记录编号"),
    date: str | None = typer.Option(None, "--date", help="数据日期 YYYY-MM-DD（默认：最近一次关联）"),
    user: str = USER,
    password_file: Path | None = PASSWORD_FILE,
) -> None:
    """说明一条记录为何关联到现在的人员：逐项比对的级别和权重、合计、阈值（只限管辖范围内的记录）。"""
    from pipelines.basemap import explain_row, format_explanation

    with _friendly_errors():
        settings = _settings()
        scope = signed_in_scope(settings, user, password_file)
        info = explain_row(settings, feed, record_key, date, scope)
    console.print(format_explanation(info), markup=False, highlight=False)


_EXPORT_OUT_HELP = "输出文件：.xlsx 给人用 Excel 打开（中文表头，长编号不丢位）；.csv 给其他系统和脚本读取（英文列名和代码）"


@export_app.command("links")
def export_links(
    out: Path = typer.Option(..., "--out", help=_EXPORT_OUT_HELP),
    date: str | None = typer.Option(None, "--date", help="数据日期 YYYY-MM-DD（默认：最近一次关联）"),
    user: str = USER,
    password_file: Path | None = PASSWORD_FILE,
) -> None:
    """导出关联结果（只限市州、县级用户的管辖范围）：每条人员记录一行（数据项、记录编号、人员编号、户编码、关联方式、匹配概率）。"""
    from pipelines.basemap import export_links as write_links

    with _friendly_errors():
        settings = _settings()
        scope = signed_in_scope(settings, user, password_file)
        summary = write_links(settings, out, scope, date)
    console.print(f"已导出 {summary['delivery_date']} 的关联结果 {summary['rows']:,} 行：[bold]{summary['path']}[/bold]")


@export_app.command("clues")
def export_clues(
    out: Path = typer.Option(..., "--out", help=_EXPORT_OUT_HELP),
    user: str = USER,
    password_file: Path | None = PASSWORD_FILE,
) -> None:
    """导出管辖范围内的问题线索：每条线索一行（线索编号、规则、状态、乡镇、村、户、姓名、证件号、首次/最近发现、重开次数、整改期限）。"""
    from pipelines.clues import export_clues as write

    with _friendly_errors():
        settings = _settings()
        scope = signed_in_scope(settings, user, password_file)
        done = write(settings, out, scope)
    console.print(f"已导出 {done['rows']:,} 条问题线索：{done['path']}", highlight=False)


@review_app.command("list")
def review_list(
    limit: int = typer.Option(50, "--limit", help="最多显示多少对"),
    date: str | None = typer.Option(None, "--date", help="数据日期 YYYY-MM-DD（默认：最近一次关联）"),
    user: str | None = REVIEWER,
    password_file: Path | None = PASSWORD_FILE,
) -> None:
    """列出待审核的候选配对（匹配概率介于两个阈值之间）；须以可审核的用户登录（见 review decide）。"""
    from pipelines.basemap import REVIEW_ROLES, list_review

    with _friendly_errors():
        settings = _settings()
        sign_in(settings, user, password_file, REVIEW_ROLES, "审核候选配对")
        pairs = list_review(settings, date, limit)
    if pairs.empty:
        console.print("没有待审核的配对。")
        return
    # One pair a line, keys in the order `review decide` takes them, so a line can be copied whole.
    console.print(f"待审核配对（数据日期 {pairs['delivery_date'].iloc[0]}，按匹配概率从高到低）：", highlight=False)
    for number, p in enumerate(pairs.itertuples(index=False), 1):
        console.print(
            f"{number:>4}. {p.feed} {p.record_key} {p.candidate_feed} {p.candidate_key}　"
            f"概率 {p.probability:.4f}　权重 {p.match_weight:.2f}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    console.print(
        "查看理由：bidui explain 数据项 记录编号 --user 用户名；给出结论：bidui review decide 数据项 记录编号 候选数据项 候选记录编号 "
        "same|different --user 审核人用户名",
        highlight=False,
    )


@review_app.command("decide")
def review_decide(
    feed: str = typer.Argument(..., help="数据项"),
    record_key: str = typer.Argument(..., help="记录编号"),
    candidate_feed: str = typer.Argument(..., help="候选数据项"),
    candidate_key: str = typer.Argument(..., help="候选记录编号"),
    decision: str = typer.Argument(..., help="same（同一人）或 different（不是同一人）"),
    user: str | None = REVIEWER,
    password_file: Path | None = PASSWORD_FILE,
) -> None:
    """记录审核结论；此后每晚关联都遵守该结论，审核人记为登录的用户。只有市（州）数据管理员（prefecture）可以审核：
    一对记录可能分属两个县，结论约束全市（州）此后每晚的关联；县、乡镇、村、联络员和审计用户不能审核。"""
    from pipelines.basemap import REVIEW_ROLES, decide_pair

    with _friendly_errors():
        settings = _settings()
        reviewer = sign_in(settings, user, password_file, REVIEW_ROLES, "审核候选配对")
        stored = decide_pair(settings, feed, record_key, candidate_feed, candidate_key, decision, reviewer)
    verdict = "同一人" if stored["decision"] == "same" else "不是同一人"
    console.print(
        f"已记录：{feed} {record_key} 与 {candidate_feed} {candidate_key} {verdict}"
        f"（{stored['decided_by']}，{stored['decided_at']}）；下次关联起生效。",
        highlight=False,
    )


@app.command()
def evaluate(
    target: str = typer.Argument(..., help="带真值（_truth）的交付目录，或 febrl4 / febrl3，或 clues"),
    delivery: Path | None = typer.Argument(None, help="clues 时：带真值的交付目录"),
) -> None:
    """评估关联质量（成对精确率、召回率、F1，分块的候选对完整率与缩减率）；clues：逐条规则的线索精确率与召回率。"""
    if target == "clues":
        _evaluate_clues(delivery)
        return
    with _friendly_errors():
        if target in ("febrl4", "febrl3"):
            from matchers.febrl import evaluate_febrl

            result = evaluate_febrl(target)
        else:
            from pipelines.evaluate import evaluate_delivery

            result = evaluate_delivery(_settings(), Path(target))
    table = Table(title=f"关联质量评估：{target}")
    table.add_column("指标")
    table.add_column("数值", justify="right")
    for label, value in _flatten(result):
        table.add_row(label, value)
    console.print(table)


def _evaluate_clues(delivery: Path | None) -> None:
    from pipelines.evaluate import evaluate_rules

    with _friendly_errors():
        if delivery is None:
            raise BiduiError("请给出带真值的交付目录：bidui evaluate clues 交付目录")
        result = evaluate_rules(_settings(), delivery)
    table = Table(title=f"问题线索规则评估：{delivery}（数据日期 {result['delivery_date']}）")
    for header in ("规则", "应发现", "发现", "正确", "错报", "漏报", "精确率", "召回率", "状态"):
        table.add_column(header, justify="left" if header in ("规则", "状态") else "right")
    status = {"ran": "已运行", "skipped": "跳过", "failed": "失败"}
    for code, r in result["rules"].items():
        expected = r["true_positives"] + r["false_negatives"]
        table.add_row(
            code,
            f"{expected:,}",
            f"{r['true_positives'] + r['false_positives']:,}",
            f"{r['true_positives']:,}",
            f"{r['false_positives']:,}",
            f"{r['false_negatives']:,}",
            f"{r['precision']:.4f}",
            f"{r['recall']:.4f}",
            status.get(r["status"], r["status"]),
        )
    console.print(table)
    overall = result["overall"]
    console.print(f"合计：精确率 {overall['precision']:.4f}，召回率 {overall['recall']:.4f}", highlight=False)


@app.command("db-upgrade")
def db_upgrade(user: str | None = ADMIN_USER, password_file: Path | None = PASSWORD_FILE) -> None:
    """把数据库结构升级到最新版本（须以市（州）数据管理员身份登录）。"""
    from pipelines.store import connect

    with _friendly_errors():
        settings = _settings()
        sign_in_admin(settings, user, password_file, "升级数据库结构", migrate_schema=False)
        connect(settings)
    console.print("数据库结构已是最新版本。")


def _day(text: str) -> dt.date:
    """A data date typed on the command line: every command's dates go through parse_date_option."""
    return parse_date_option(text, "数据日期")


COUNT_TITLES = {
    "rows": "人员记录",
    "persons": "人员",
    "persons_kept": "其中沿用原人员编号",
    "persons_new": "其中新编号",
    "households": "户",
    "households_new": "其中新户编码",
    "review_pairs": "待审核配对",
}
EVALUATION_TITLES = {
    "dataset": "数据集",
    "delivery_date": "数据日期",
    "records": "记录数",
    "rows": "人员记录数",
    "true_links": "真实关联数",
    "true_pairs": "真实配对数",
    "candidate_pairs": "候选配对数",
    "predicted_pairs": "判定关联的配对数",
    "threshold": "阈值",
    "upper": "上阈值",
    "lower": "下阈值",
    "prior": "先验匹配概率",
    "em_iterations": "EM 迭代次数",
    "precision": "精确率",
    "recall": "召回率",
    "f1": "F1",
    "true_positives": "正确关联（真阳性）",
    "false_positives": "错误关联（假阳性）",
    "false_negatives": "漏掉的关联（假阴性）",
    "pair_completeness": "候选配对完整率",
    "reduction_ratio": "缩减率",
    "seconds": "耗时（秒）",
    "total_seconds": "总耗时（秒）",
    "load": "读取",
    "blocking": "分块",
    "comparing": "比较",
    "estimating_u": "估计 u",
    "fitting": "EM 拟合",
    "scoring": "打分",
    "clustering": "聚类",
    "evaluating": "评估",
    "exact_id": "身份证号直接匹配（对照）",
    "exact_id_join": "身份证号直接匹配（对照）",
    "baseline": "对照方法",
    "linkage": "本系统关联",
    "blocking_stats": "分块",
    "true_persons": "真实人数",
    "scored_rows": "参与概率打分的记录",
    "spine_rows": "户籍主干记录",
    "linked_rows": "关联到他人的记录",
    "review_pairs": "待审核配对",
    "linking_seconds": "关联各步耗时（秒）",
    "ingest": "载入",
    "person_rows": "整理人员记录",
    "linking": "关联",
    "decisions": "审核结论",
    "deterministic": "身份证号确定性关联",
    "sides": "准备比较两侧",
    "estimating": "估计参数",
    "choosing": "选取候选",
    "output": "输出",
}
METHOD_TITLES = {"id_exact": "身份证号一致", "probabilistic": "概率关联", "review_decision": "人工审核", "singleton": "单独成人"}


def _flatten(values: dict, prefix: str = "") -> list[tuple[str, str]]:
    """Nested result dicts as (Chinese label, text) rows; unknown keys keep their own name."""
    rows = []
    for key, value in values.items():
        label = f"{prefix}{EVALUATION_TITLES.get(key) or METHOD_TITLES.get(key, key)}"
        if isinstance(value, dict):
            rows.extend(_flatten(value, f"{label} · "))
        elif isinstance(value, float):
            rows.append((label, f"{value:.2f}" if "秒" in label else f"{value:.6f}"))
        elif isinstance(value, int) and not isinstance(value, bool):
            rows.append((label, f"{value:,}"))
        else:
            rows.append((label, str(value)))
    return rows


def _print_link(summary: Linked) -> None:
    from pipelines.link import STAGE_TEXT

    table = Table(title=f"关联与底图（数据日期 {summary.delivery_date}）")
    table.add_column("项目")
    table.add_column("数量", justify="right")
    for key, value in summary.counts.items():
        table.add_row(COUNT_TITLES.get(key, key), f"{value:,}")
    for method, value in summary.methods.items():
        table.add_row(f"关联方式：{METHOD_TITLES.get(method, method)}", f"{value:,}")
    for stage, seconds in summary.seconds.items():
        table.add_row(f"耗时：{STAGE_TEXT.get(stage, stage)}（秒）", f"{seconds:.1f}")
    console.print(table)
    if summary.note:
        console.print(f"[yellow]提示：[/yellow]{summary.note}")


def _print_clues(summary: ClueNight) -> None:
    status = {"ran": "已运行", "skipped": "跳过", "held": "熔断暂停", "failed": "失败"}
    table = Table(title=f"问题线索（数据日期 {summary.delivery_date}）")
    for header in ("规则", "状态", "命中", "新增", "数据消除", "重新打开", "说明"):
        table.add_column(header)
    for rule in summary.rules:
        table.add_row(
            rule["rule"],
            status.get(rule["status"], rule["status"]),
            f"{rule['fired'] or 0:,}",
            f"{rule['new']:,}",
            f"{rule['cleared']:,}",
            f"{rule['reopened']:,}",
            rule["message"] or "",
        )
    console.print(table)
    console.print(
        f"新增 {summary.new:,} 条，数据消除 {summary.cleared:,} 条，重新打开 {summary.reopened:,} 条。",
        highlight=False,
    )
    if summary.held:
        console.print(f"[yellow]熔断暂停的规则：{'、'.join(summary.held)}（核查后用 --release 放行）[/yellow]")


def _print_feeds(feeds: list[dict]) -> None:
    from pipelines.validate import STATUS_TEXT

    table = Table(title="各数据项")
    for header in ("数据项", "状态", "文件", "编码", "行数", "使用数据日期", "说明"):
        table.add_column(header)
    for f in feeds:
        table.add_row(
            f["title"],
            STATUS_TEXT.get(f["status"], f["status"]),
            f.get("source_file") or "-",
            f.get("encoding") or "-",
            str(f.get("rows") if f.get("rows") is not None else "-"),
            f.get("effective_date") or "-",
            f.get("message") or "",
        )
    console.print(table)


def _print_report(report: ValidationReport) -> None:
    _print_feeds(report.feeds)
    console.print(f"校验报告（网页，可离线打开）：[bold]{report.html}[/bold]")
    console.print(f"问题明细（Excel 可打开）：{report.csv}")
    console.print(f"机器可读汇总：{report.json}")
