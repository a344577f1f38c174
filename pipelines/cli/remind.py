"""`bidui remind`: each county's overdue clues (逾期线索) as a workbook, for a signed-in data officer
(every county of the prefecture) or county user (its own county)."""

from __future__ import annotations

from pathlib import Path

import typer

from pipelines.cli.common import PASSWORD_FILE, console, friendly_errors, parse_date_option, sign_in
from pipelines.settings import load_settings

__all__ = ["register", "remind"]

USER = typer.Option(None, "--user", help="操作人用户名：市（州）数据管理员或县级用户")


def remind(
    date: str | None = typer.Option(
        None, "--date", help="统计日期 YYYY-MM-DD（默认今天）：整改期限早于这一天且未销号的线索为逾期"
    ),
    out: Path | None = typer.Option(None, "--out", help="清单存放目录（默认 数据目录/reminders/统计日期）"),
    mask_ids: bool | None = typer.Option(
        None, "--mask-ids/--full-ids", help="身份证号脱敏或完整显示（默认脱敏；--full-ids 仅限可查看完整号码的用户）"
    ),
    user: str | None = USER,
    password_file: Path | None = PASSWORD_FILE,
) -> None:
    """按县生成逾期线索提醒清单（每县一个 Excel：逾期线索按逾期天数排列，另附按乡镇统计）。"""
    from pipelines.access import Scope
    from pipelines.documents import remind_overdue
    from pipelines.store import connect

    with friendly_errors():
        day = parse_date_option(date, "统计日期", default_today=True)
        settings = load_settings()
        signed_in = sign_in(settings, user, password_file, ("prefecture", "county"), "生成逾期提醒")
        reminders = remind_overdue(connect(settings), settings, Scope.from_user(signed_in), day, out_dir=out, mask_ids=mask_ids)
    if not reminders:
        console.print(f"{day}：管辖范围内没有逾期线索，未生成清单。", highlight=False)
        return
    for r in reminders:
        townships = "、".join(f"{name} {count} 条" for name, count in r.townships.items())
        console.print(
            f"{r.county_name}（{r.county_code}）：逾期线索 {r.clues} 条，最长逾期 {r.most_days} 天；{townships}；"
            f"身份证号{'已脱敏' if r.masked else '完整显示'}\n  {r.file}",
            highlight=False,
        )
    total = sum(r.clues for r in reminders)
    console.print(f"共 {len(reminders)} 个县有逾期线索，合计 {total} 条；没有逾期线索的县不生成清单。", highlight=False)


def register(app: typer.Typer) -> None:
    """`bidui remind`."""
    app.command("remind")(remind)
