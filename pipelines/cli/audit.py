"""`bidui audit …`: checks for auditors that the clue history can be trusted."""

from __future__ import annotations

from pathlib import Path

import typer

from pipelines.cli.common import PASSWORD_FILE, USER, console, resolve_user
from pipelines.cli.common import friendly_errors as _friendly_errors
from pipelines.settings import load_settings

__all__ = ["audit_app"]

audit_app = typer.Typer(help="审计：核验线索流转记录未被篡改", no_args_is_help=True)

AUDIT_ROLES = ("prefecture", "auditor")
SHOWN = 200  # problems listed per kind; the counts say how many there are in all


@audit_app.command("verify")
def verify(user: str = USER, password_file: Path | None = PASSWORD_FILE) -> None:
    """核验线索流转记录的哈希链（每条记录写入后未被改动或删除），并逐条线索重放流转记录，核对线索表中的状态和核实字段
    （仅限市级和审计用户）。发现问题时逐条列出，退出码为 1。"""
    from pipelines.access import Scope, require_role
    from pipelines.clues import audit_clues
    from pipelines.store import connect

    with _friendly_errors():
        settings = load_settings()
        account = resolve_user(settings, user, password_file)
        require_role(account, AUDIT_ROLES, "核验线索流转记录")
        audit = audit_clues(connect(settings), Scope.from_user(account))
    if audit.ok:
        console.print(
            f"核验通过：线索流转记录 {audit.events:,} 条，哈希链完整；线索 {audit.clues:,} 条，状态与流转记录一致。"
            f"\n链头哈希 {audit.head_hash}（可记下，日后核对）",
            highlight=False,
        )
        return
    console.print(
        f"[red]核验未通过[/red]：线索流转记录 {audit.events:,} 条，哈希链断开 {len(audit.broken):,} 处；"
        f"线索 {audit.clues:,} 条，与流转记录不符 {len(audit.mismatches):,} 处。",
        highlight=False,
    )
    for link in audit.broken[:SHOWN]:
        where = "链头" if link.event_id is None else f"事件 {link.event_id}"
        console.print(f"  哈希链 {where}：{link.problem}", highlight=False)
    for mismatch in audit.mismatches[:SHOWN]:
        console.print(f"  线索 {mismatch.clue_id}：{mismatch.problem}", highlight=False)
    if audit.unplaced:
        console.print(
            f"  另有 {audit.unplaced:,} 条线索在线索表中已无记录、无法确定所属地区，其流转记录与线索表不符（不列编号）",
            highlight=False,
        )
    if max(len(audit.broken), len(audit.mismatches)) > SHOWN:
        console.print(f"  （每类只列出前 {SHOWN} 处）", highlight=False)
    raise typer.Exit(code=1)
