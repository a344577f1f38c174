"""`bidui`: the one entry point for people."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from pathlib import Path
from typing import Iterator, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .errors import BiduiError
from .settings import Settings, load_settings

__all__ = ["app"]

app = typer.Typer(help="比对 bidui：农村人口与防返贫监测跨部门数据比对", no_args_is_help=True, add_completion=False)
console = Console()
STATE: dict[str, Settings] = {}


@app.callback()
def _main(verbose: bool = typer.Option(False, "--verbose", "-v", help="显示详细日志")) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
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


@contextlib.contextmanager
def _friendly_errors() -> Iterator[None]:
    try:
        yield
    except BiduiError as exc:
        console.print(f"[red]错误：[/red]{exc}")
        raise typer.Exit(code=1) from exc


@app.command("demo-data")
def demo_data(
    persons: int = typer.Option(2000, help="模拟人口数"),
    seed: int = typer.Option(20261120, help="随机种子（相同种子生成相同数据）"),
    out: Path = typer.Option(..., help="输出目录（在其下生成以数据日期命名的交付目录）"),
    as_of: str = typer.Option(dt.date.today().isoformat(), "--as-of", help="数据日期 YYYY-MM-DD"),
) -> None:
    """生成一份带真值的模拟交付数据（全部为虚构数据）。"""
    from .demo import generate_delivery

    with _friendly_errors():
        try:
            day = dt.date.fromisoformat(as_of)
        except ValueError as exc:
            raise BiduiError(f"数据日期“{as_of}”格式不对，应为 YYYY-MM-DD") from exc
        with _progress("生成模拟数据") as progress:
            path = generate_delivery(persons, seed, out, day, progress=progress)
    console.print(f"模拟交付已生成：[bold]{path}[/bold]（真值在 {path / '_truth'}）")


@app.command()
def ingest(delivery_dir: Path = typer.Argument(..., help="交付目录，以数据日期命名，例如 drop/2026-11-20")) -> None:
    """载入一晚的交付数据（每个数据项保存为当日快照）。"""
    from .ingest import ingest_delivery

    with _friendly_errors(), _progress("载入") as progress:
        summary = ingest_delivery(_settings(), delivery_dir, progress=progress)
    _print_feeds(summary["feeds"])
    for note in summary["notes"]:
        console.print(f"[yellow]提示：[/yellow]{note}")


@app.command()
def validate(
    delivery_date: str = typer.Argument(..., help="数据日期 YYYY-MM-DD"),
    feed: Optional[list[str]] = typer.Option(None, "--feed", help="只检查这些数据项"),
) -> None:
    """用 Great Expectations 检查已载入的数据，并生成校验报告。"""
    from .feeds import load_feeds
    from .validate import finish_validation, validate_feed

    settings = _settings()
    with _friendly_errors(), _progress("校验") as progress:
        names = feed or list(load_feeds(settings.feeds_config))
        for index, name in enumerate(names):
            if progress:
                progress(name, index / len(names))
            validate_feed(settings, delivery_date, name)
        report = finish_validation(settings, delivery_date)
    _print_report(report)


@app.command()
def run(delivery_dir: Path = typer.Argument(..., help="交付目录，以数据日期命名")) -> None:
    """运行一整晚的比对：载入 → 校验 → 报告。"""
    from .night import run_night

    settings = _settings()
    with _friendly_errors(), _progress("夜间比对") as progress:
        result = run_night(settings, delivery_dir, progress=progress)
    _print_report(result["report"])
    console.print(f"数据库：{settings.database_url}")


@app.command("db-upgrade")
def db_upgrade() -> None:
    """把数据库结构升级到最新版本。"""
    from .storage import connect

    connect(_settings())
    console.print("数据库结构已是最新版本。")


def _print_feeds(feeds: list[dict]) -> None:
    from .validate import STATUS_TEXT

    table = Table(title="各数据项")
    for header in ("数据项", "状态", "文件", "编码", "行数", "使用数据日期", "说明"):
        table.add_column(header)
    for f in feeds:
        table.add_row(
            f["title"], STATUS_TEXT.get(f["status"], f["status"]), f.get("source_file") or "-",
            f.get("encoding") or "-", str(f.get("rows") if f.get("rows") is not None else "-"),
            f.get("effective_date") or "-", f.get("message") or "",
        )
    console.print(table)


def _print_report(report: dict) -> None:
    _print_feeds(report["feeds"])
    console.print(f"校验报告（网页，可离线打开）：[bold]{report['html']}[/bold]")
    console.print(f"问题明细（Excel 可打开）：{report['csv']}")
    console.print(f"机器可读汇总：{report['json']}")
