"""`bidui night …`: a night as a whole; for now, undoing the newest night when its delivery was wrong."""

from __future__ import annotations

from pathlib import Path

import typer

from pipelines.cli.common import PASSWORD_FILE, USER, console, parse_date_option, resolve_user
from pipelines.cli.common import friendly_errors as _friendly_errors
from pipelines.settings import load_settings

__all__ = ["night_app"]

night_app = typer.Typer(help="按晚管理：撤销错误交付的一晚", no_args_is_help=True)

TABLE_TITLES = {
    "deliveries": "交付记录",
    "feed_loads": "数据项载入记录",
    "findings": "校验问题",
    "links": "关联结果",
    "linkage_models": "关联模型",
    "review_queue": "待审核配对",
    "rule_runs": "规则运行记录",
}


@night_app.command("undo")
def undo(
    date: str = typer.Argument(..., help="要撤销的数据日期 YYYY-MM-DD（只能是最近一晚）"),
    reason: str = typer.Option(..., "--reason", help="撤销原因（记入撤销记录和线索流转记录）"),
    user: str = USER,
    password_file: Path | None = PASSWORD_FILE,
) -> None:
    """撤销最近一晚的比对（交付有误时，仅限市级用户）：删除当晚载入的数据、校验问题、关联结果、待审核配对和规则运行记录；
    人员、户和区划恢复到当晚之前（当晚新编的户编码作废；当晚新编的人员编号作废，之后可能重新使用）；当晚新发现且无人处理的
    线索撤回（流转记录“撤回”，其线索编号不再使用），当晚改变状态的线索（数据已消除、再次发现、重新打开）恢复原状态（流转记录“撤销”）；
    当晚开始后已有人处理过的线索保持不动并列出。审核结论保留。之后可载入该日或更晚的正确交付。"""
    from pipelines.night import undo_night

    with _friendly_errors():
        day = parse_date_option(date, "数据日期")
        settings = load_settings()
        done = undo_night(settings, day, resolve_user(settings, user, password_file), reason)
    console.print(f"已撤销 {done.delivery_date} 的比对（操作人 {user}，原因：{reason}）。", highlight=False)
    for table, rows in done.removed.items():
        title = TABLE_TITLES.get(table, f"数据快照 {table.removeprefix('feed_')}")
        console.print(f"  删除{title} {rows:,} 行", highlight=False)
    console.print(
        f"  人员恢复为 {done.persons_before:,} 人（作废当晚新编号 {done.persons_removed:,} 个）；"
        f"线索恢复原状态 {done.clues_restored:,} 条，撤回 {done.clues_withdrawn:,} 条。",
        highlight=False,
    )
    if done.clues_kept:
        console.print(
            f"[yellow]以下 {len(done.clues_kept)} 条线索在当晚开始后已有人处理，保持不动，请人工核对：[/yellow]"
            + "、".join(done.clues_kept[:50]),
            highlight=False,
        )
