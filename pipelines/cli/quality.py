"""`bidui quality-report --as-of DATE [--since DATE]`: the pre-audit data-quality report (数据质量报告),
made by the prefecture's data officer for the whole prefecture."""

from __future__ import annotations

from pathlib import Path

import typer

from pipelines.cli.common import ADMIN_USER, PASSWORD_FILE, console, friendly_errors, parse_date_option, sign_in

__all__ = ["quality_report", "register"]


def quality_report(
    as_of: str = typer.Option(..., "--as-of", help="报告截至日期 YYYY-MM-DD（取该日及以前最近一晚的数据）"),
    since: str | None = typer.Option(None, "--since", help="与该日及以前最近一期报告比较（默认：本期之前最近一期）"),
    out_dir: Path | None = typer.Option(None, "--out", help="报告存放目录（默认 数据目录/reports/quality/数据日期）"),
    pdf: bool = typer.Option(True, "--pdf/--no-pdf", help="同时生成 PDF（默认生成）"),
    user: str | None = ADMIN_USER,
    password_file: Path | None = PASSWORD_FILE,
) -> None:
    """生成数据质量报告（国家系统数据核查前自查）：各县数据质量问题、与上期比较、各数据项校验结果、关联覆盖和数据准确率。"""
    from pipelines.access import ADMIN_ROLE
    from pipelines.documents import make_quality_report
    from pipelines.settings import load_settings

    with friendly_errors():
        day = parse_date_option(as_of, "截至日期")
        since_day = parse_date_option(since, "比较日期") if since else None
        settings = load_settings()
        who = sign_in(settings, user, password_file, (ADMIN_ROLE,), "生成数据质量报告")
        result = make_quality_report(settings, day, who.user_name, since=since_day, out_dir=out_dir, pdf=pdf)
    accuracy = result["accuracy"]
    compared = result["compared_with"]
    console.print(
        f"数据质量报告（数据日期 {result['night']}）已生成："
        f"全市（州）数据准确率 {'—' if accuracy is None else f'{accuracy:.2%}'}；"
        + (f"与 {compared} 的报告比较。" if compared else "没有更早的报告可比较。"),
        highlight=False,
    )
    for key in ("html", "pdf", "xlsx"):
        if result[key]:
            console.print(f"  {result[key]}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add `bidui quality-report`."""
    app.command("quality-report")(quality_report)
