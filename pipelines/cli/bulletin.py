"""`bidui bulletin --month YYYY-MM`: the monthly bulletin (月通报), made by the prefecture's data
officer only (a re-make replaces the stored ranks): HTML + PDF + xlsx and the ranks stored."""

from __future__ import annotations

from pathlib import Path

import typer

from pipelines.cli.common import PASSWORD_FILE, USER, console, friendly_errors, sign_in
from pipelines.settings import load_settings

__all__ = ["bulletin", "register"]


def bulletin(
    month: str = typer.Option(..., "--month", help="通报月份 YYYY-MM，例如 2026-11"),
    out: Path | None = typer.Option(None, "--out", help="输出目录（默认 数据目录/bulletins/月份）"),
    pdf: bool = typer.Option(True, "--pdf/--no-pdf", help="是否同时生成 PDF"),
    user: str = USER,
    password_file: Path | None = PASSWORD_FILE,
) -> None:
    """生成月通报：各县按综合得分排名，标出排名后三、连续排名靠后需约谈的县，与上月比较；输出 HTML、PDF 和 Excel。"""
    from pipelines.documents import make_bulletin, parse_month
    from pipelines.store import connect

    with friendly_errors():
        parse_month(month)
        settings = load_settings()
        who = sign_in(settings, user, password_file, ("prefecture",), "生成月通报")
        result = make_bulletin(settings, month, who.user_name, out_dir=out, pdf=pdf, engine=connect(settings))
    b = result.bulletin
    console.print(f"{b.month.chinese}月通报：数据截至 {b.last_night.isoformat()}，参加排名 {len(b.rows)} 个县。", highlight=False)
    for r in b.rows:
        mark = "（排名后三）" if r["bottom"] else ""
        talk = f"，连续 {r['consecutive']} 次排名靠后，{r['talk']}" if r["talk"] else ""
        console.print(
            f"  第 {r['rank']} 名 {r['county']}（{r['county_code']}）综合得分 {r['score']:.2f}{mark}{talk}", highlight=False
        )
    for path in result.files:
        console.print(f"  {path}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add `bidui bulletin`."""
    app.command("bulletin")(bulletin)
