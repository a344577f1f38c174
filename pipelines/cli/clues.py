"""`bidui clue …`: sign-off without Excel — verify, rectify, sign, send back, approve, file, re-open.

Every command acts for a signed-in user (`--user NAME`, password prompted or `--password-file`);
the role decides which moves are allowed and the region scope which clues exist at all for them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.table import Table

from pipelines.cli.common import PASSWORD_FILE, USER, console, parse_date_option, signed_in_scope
from pipelines.cli.common import friendly_errors as _friendly_errors
from pipelines.clues import ACTION_LABELS, STATE_LABELS
from pipelines.errors import BiduiError
from pipelines.settings import load_settings

__all__ = ["clue_app"]

clue_app = typer.Typer(help="问题线索：核实、整改、签字背书、退回、销号、备案、重新打开", no_args_is_help=True)

NOTE = typer.Option(None, "--note", help="说明")


def _scope(user: str, password_file: Path | None):
    return signed_in_scope(load_settings(), user, password_file)


def _date(text: str | None, label: str) -> dt.date:
    return parse_date_option(text, label, default_today=True)


def _act(clue_id: str, action: str, user: str, password_file: Path | None, fields: dict) -> None:
    from pipelines.clues import act
    from pipelines.store import connect

    with _friendly_errors():
        scope = _scope(user, password_file)
        after = act(connect(load_settings()), scope, clue_id, action, fields)
    console.print(f"线索 {clue_id}：{ACTION_LABELS[action]}完成，当前状态“{STATE_LABELS[after['status']]}”", highlight=False)


@clue_app.command()
def verify(
    clue_id: str = typer.Argument(..., help="线索编号，例如 R05-000123"),
    result: str = typer.Option(..., "--result", help="核实结果：属实 或 不属实"),
    reason: str | None = typer.Option(None, "--reason", help="不属实原因（从本规则的可选原因中选）"),
    verifier: str | None = typer.Option(None, "--verifier", help="核实人（默认：操作人）"),
    on: str | None = typer.Option(None, "--on", help="核实日期 YYYY-MM-DD（默认今天）"),
    note: str | None = NOTE,
    user: str = USER,
    password_file: Path | None = PASSWORD_FILE,
) -> None:
    """核实一条线索：属实 → 待整改；不属实（附原因）→ 待乡镇签字。"""
    with _friendly_errors():
        fields = {
            "verdict": result,
            "dismiss_reason": reason,
            "verified_by": verifier or user,
            "verified_on": _date(on, "核实日期"),
            "note": note,
        }
    _act(clue_id, "verify", user, password_file, fields)


@clue_app.command()
def rectify(
    clue_id: str = typer.Argument(..., help="线索编号"),
    measure: str = typer.Option(..., "--measure", help="整改措施"),
    on: str | None = typer.Option(None, "--on", help="整改完成日期 YYYY-MM-DD（默认今天）"),
    note: str | None = NOTE,
    user: str = USER,
    password_file: Path | None = PASSWORD_FILE,
) -> None:
    """登记整改完成（属实的线索）。"""
    with _friendly_errors():
        fields = {"rectification": measure, "rectified_on": _date(on, "整改完成日期"), "note": note}
    _act(clue_id, "rectify", user, password_file, fields)


@clue_app.command()
def sign(
    clue_id: str = typer.Argument(..., help="线索编号"),
    signer: str | None = typer.Option(None, "--signer", help="签字人（默认：操作人）"),
    on: str | None = typer.Option(None, "--on", help="签字日期 YYYY-MM-DD（默认今天）"),
    note: str | None = NOTE,
    user: str = USER,
    password_file: Path | None = PASSWORD_FILE,
) -> None:
    """乡镇签字背书（谁核实、谁签字、谁负责）。"""
    with _friendly_errors():
        fields = {"signed_by": signer or user, "signed_on": _date(on, "签字日期"), "note": note}
    _act(clue_id, "sign", user, password_file, fields)


@clue_app.command("send-back")
def send_back(
    clue_id: str = typer.Argument(..., help="线索编号"),
    reason: str = typer.Option(..., "--reason", help="退回理由"),
    user: str = USER,
    password_file: Path | None = PASSWORD_FILE,
) -> None:
    """退回重新核实（乡镇退回未签字的核实，县退回已签字的线索）。"""
    _act(clue_id, "send_back", user, password_file, {"note": reason})


@clue_app.command()
def approve(
    clue_id: str = typer.Argument(..., help="线索编号"),
    note: str | None = NOTE,
    user: str = USER,
    password_file: Path | None = PASSWORD_FILE,
) -> None:
    """县级审核销号。"""
    _act(clue_id, "approve", user, password_file, {"note": note})


@clue_app.command("file")
def file_(
    clue_id: str = typer.Argument(..., help="线索编号"),
    note: str | None = NOTE,
    user: str = USER,
    password_file: Path | None = PASSWORD_FILE,
) -> None:
    """市（州）备案已销号的线索。"""
    _act(clue_id, "file", user, password_file, {"note": note})


@clue_app.command()
def reopen(
    clue_id: str = typer.Argument(..., help="线索编号"),
    reason: str = typer.Option(..., "--reason", help="重新打开的理由"),
    user: str = USER,
    password_file: Path | None = PASSWORD_FILE,
) -> None:
    """市（州）重新打开已销号或已备案的线索（计入重开次数）。"""
    _act(clue_id, "reopen", user, password_file, {"note": reason})


@clue_app.command()
def show(
    clue_id: str = typer.Argument(..., help="线索编号"),
    user: str = USER,
    password_file: Path | None = PASSWORD_FILE,
) -> None:
    """查看一条线索：证据、状态、期限和全部流转记录。"""
    from pipelines.clues import is_overdue, load_clue, load_clue_events
    from pipelines.ledgers import evidence_text
    from pipelines.store import connect

    with _friendly_errors():
        scope = _scope(user, password_file)
        engine = connect(load_settings())
        with engine.connect() as conn:
            clue = load_clue(conn, clue_id, scope)
        if clue is None:
            raise BiduiError(f"线索 {clue_id} 不存在，或不在您的管辖范围内")
        events = load_clue_events(engine, clue_id)
    overdue = "（已逾期）" if is_overdue(clue["status"], clue["deadline"], dt.date.today()) else ""
    console.print(f"线索 {clue_id}　规则 {clue['rule']}　状态“{STATE_LABELS[clue['status']]}”{overdue}", highlight=False)
    # Some departments key their records by ID number, and notes are typed freely: everything below
    # is masked for users who may not see full numbers, not only the evidence.
    console.print(
        scope.mask_text(
            f"对象 {clue['subject_feed']} {clue['subject_key']}　人员 {clue['person_id'] or ''}"
            f"　村 {clue['village_code'] or ''}　核实部门 {clue['department']}"
        ),
        highlight=False,
    )
    console.print(
        f"首次发现 {clue['first_seen']}　最近发现 {clue['last_seen']}　整改期限 {clue['deadline'] or '未下发'}"
        f"　重开 {clue['reopen_count']} 次",
        highlight=False,
    )
    console.print("证据：" + evidence_text(clue["evidence"], masked=not scope.full_ids), highlight=False, soft_wrap=True)
    table = Table(title="流转记录")
    for header in ("时间", "操作", "从", "到", "操作人", "角色", "说明"):
        table.add_column(header)
    for e in events.itertuples(index=False):
        table.add_row(
            str(e.at)[:19],
            ACTION_LABELS.get(e.action, e.action),
            STATE_LABELS.get(e.from_status, "") if e.from_status else "",
            STATE_LABELS.get(e.to_status, e.to_status),
            e.user_name,
            e.role,
            scope.mask_text(e.note),
        )
    console.print(table)


@clue_app.command("list")
def list_(
    status: list[str] | None = typer.Option(None, "--status", help="只列出这些状态，例如 issued"),
    rule: str | None = typer.Option(None, "--rule", help="只列出这条规则，例如 R05"),
    overdue: bool = typer.Option(False, "--overdue", help="只列出已逾期的"),
    limit: int = typer.Option(50, "--limit", help="最多列出多少条"),
    user: str = USER,
    password_file: Path | None = PASSWORD_FILE,
) -> None:
    """列出管辖范围内的线索。"""
    from pipelines.clues import is_overdue, load_clues
    from pipelines.rules import load_rules
    from pipelines.store import connect, load_person_names, load_region_reference

    with _friendly_errors():
        scope = _scope(user, password_file)
        engine = connect(load_settings())
        frame = load_clues(engine, scope, statuses=status, rule=rule)
        rule_names = {r.code: r.name for r in load_rules()}
        reference = load_region_reference(engine)
        places = dict(zip(reference["code"], reference["name"]))
    today = dt.date.today()
    late = [is_overdue(s, d, today) for s, d in zip(frame["status"], frame["deadline"])]
    if overdue:
        frame = frame[late]
        late = [True] * len(frame)
    console.print(f"共 {len(frame):,} 条线索" + (f"，列出前 {limit} 条" if len(frame) > limit else ""), highlight=False)
    table = Table()
    for header in ("线索编号", "规则", "村", "人员", "状态", "整改期限", "重开"):
        table.add_column(header)
    shown = list(zip(frame.to_dict("records"), late))[:limit]
    with _friendly_errors():
        people = load_person_names(engine, [row["person_id"] for row, _ in shown])
    for row, is_late in shown:
        deadline = str(row["deadline"])[:10] if row["deadline"] else ""
        table.add_row(
            row["clue_id"],
            f"{row['rule']} {rule_names.get(row['rule'], '')}".strip(),
            _village_name(places, row["village_code"]),
            people.get(row["person_id"] or "", (None, None))[0] or scope.mask_text(row["person_id"]),
            STATE_LABELS[row["status"]],
            deadline + ("（逾期）" if is_late else ""),
            str(row["reopen_count"]),
        )
    console.print(table)


def _village_name(places: dict[str, str], code: str | None) -> str:
    """Township and village name ('猴场镇尚礼村'), the code where the reference has no name."""
    if not code:
        return ""
    township = places.get(code[:9].ljust(12, "0"), "") if len(code) >= 9 else ""
    return (township + places.get(code.ljust(12, "0"), "")) or code
