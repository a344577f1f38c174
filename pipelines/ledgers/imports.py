"""Returned ledgers: a filled workbook applied as clue moves (ledgers contract, "Returning a filled
ledger"), in one write transaction per file.

Each row moves its clue from where it stands as far as the row's filled columns go: verify
(核实结果, 核实人, 核实日期, and 不属实原因 for 不属实), then rectify (整改措施, 整改完成日期; 属实 only),
then sign (签字人, 签字日期). A step the clue has already taken with the same values is skipped, so
a row matching the clue as stored is "unchanged" and importing a file twice changes nothing the
second time. A row whose fill-in columns are all empty is "blank" (not filled in yet): nothing to
apply, nothing to reject. Any other row is applied whole or rejected whole with a Chinese reason:
unknown clue or outside the importer's scope (one message for both, so a ledger reveals nothing
about other counties), a locked column edited, the clue sent back or re-opened since the ledger was
issued, 核实结果 missing or invalid, 核实人 or 核实日期 missing, a date that is not a date, a 不属实原因
that is not one of the rule's, the importer named as 核实人 or 签字人 for a move their role may not
make, a step recorded differently already, or a move not allowed from the clue's state.

Locked columns are compared with what the ledger was issued with (pipelines.ledgers.issued), not
with tonight's data: a name the police corrected overnight does not bounce the verifier's work; the
verdict applies and its event notes what changed since. Ledgers issued before that record existed
are compared with the clue as stored.

Who may import: whoever may issue ledgers (county and prefecture users), on behalf of the people the
row names: the verification and rectification are recorded as the 核实人's (role village), the
signature as the 签字人's (role township), source 'ledger'; the note names the importer and the row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from sqlalchemy import Engine, insert, select

from pipelines import store
from pipelines.access.scope import ROLE_ACTIONS, Scope, mask_id, mask_ids_in_text
from pipelines.clues.life import CLUE_COLUMNS, DEFAULT_DEADLINE_DAYS, Actor
from pipelines.clues.moves import plan_move, write_moves
from pipelines.clues.states import ACTION_LABELS, STATE_LABELS, VERDICTS
from pipelines.errors import BiduiError
from pipelines.ledgers.import_report import report_path, write_report
from pipelines.ledgers.issued import ISSUED_COLUMNS, IssuedRow, load_issued_rows, load_went_back
from pipelines.ledgers.reading import IssueMark, LedgerRow, cell_date, cell_text, read_ledger
from pipelines.ledgers.values import build_region_names, ledger_values, load_people
from pipelines.ledgers.workbook import DATE_COLUMNS, FILL_IN_COLUMNS, FILL_IN_FIELDS
from pipelines.settings import Settings
from pipelines.store.tables import clues, ledger_imports

__all__ = ["import_ledger"]

# Locked columns compared with the clue as stored, for a ledger issued before ledger_rows recorded
# what it carried (证据 is refreshed nightly, 乡镇 and 核实部门 follow from 村 and 规则).
_COMPARED = ("规则", "问题描述", "村", "户编号", "姓名", "身份证号", "下发日期", "整改期限")
_NEEDED = ("线索编号", *ISSUED_COLUMNS, *FILL_IN_COLUMNS)
# What the verifier may want to know changed in the data since the ledger went down.
_NOTED = ("乡镇", "村", "户编号", "姓名", "身份证号", "核实部门", "证据")
_OUTSIDE = "线索编号不存在，或不在您的管辖范围内"
# Whom an import acts for: the row's 核实人 verifies and rectifies on the ground, its 签字人 signs.
_ACTING_ROLE = {"verify": "village", "rectify": "village", "sign": "township"}
_ACTING_NAME = {"verify": "verified_by", "rectify": "verified_by", "sign": "signed_by"}
_DONE_BY = {"verify": "verdict", "rectify": "rectified_on", "sign": "signed_by"}


# --- locked columns ---------------------------------------------------------------------------


def _plain(value) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _squeeze(text: str) -> str:
    return " ".join(text.split())


def _masked_text(text: str) -> str:
    return mask_ids_in_text(text)


def _same(column: str, got, want: str, rule_code: str) -> bool:
    """Whether a locked cell still holds `want` (its value as issued, or as stored)."""
    if column in DATE_COLUMNS:
        try:
            return _plain(cell_date(got, column)) == want
        except BiduiError:
            return False
    if column == "规则":
        # The code is the rule; the name after it is decoration a later rule edit may reword.
        return (cell_text(got).split() or [""])[0] == rule_code
    text, want = _squeeze(cell_text(got)), _squeeze(want)
    if text == want:  # the common case, and masking every cell of a large ledger is what costs
        return True
    # A workbook issued with full ID numbers and one issued masked on the same day hold the same row.
    masker = mask_id if column == "身份证号" else _masked_text
    return text in (want, masker(want)) or ("*" in want and masker(text) == want)


def _shown(column: str, value: str) -> str:
    value = mask_id(value) if column == "身份证号" else _masked_text(_squeeze(value))
    return value if len(value) <= 40 else value[:40] + "…"


def _locked_problem(row: LedgerRow, rule_code: str, want: dict[str, str], against: str) -> str | None:
    for column, value in want.items():
        got = row.cells[column]
        if not _same(column, got, value, rule_code):
            return (
                f"锁定列“{column}”被改动：台账中为“{_shown(column, cell_text(got))}”，{against}为“{_shown(column, value)}”"
                "（如线索已重新下发，请使用新台账）"
            )
    return None


def _changed_since(issued: dict[str, str], now: dict) -> str | None:
    """What the data says differently now than when the ledger was issued, for the event note."""
    parts = []
    for column in _NOTED:
        before, after = issued.get(column, ""), _plain(now[column])
        if _same(column, after, before, "") or _same(column, before, after, ""):
            continue
        parts.append("证据已更新" if column == "证据" else f"{column}“{_shown(column, before)}”→“{_shown(column, after)}”")
    return f"台账下发后数据已更新：{'，'.join(parts)}" if parts else None


# --- the moves a row asks for -----------------------------------------------------------------


def _fill_in(row: LedgerRow) -> dict:
    """The fill-in cells as clue fields (dates parsed); BiduiError for a date that is not one."""
    fields = {}
    for column, name in FILL_IN_FIELDS.items():
        value = row.cells[column]
        fields[name] = cell_date(value, column) if column in DATE_COLUMNS else (cell_text(value) or None)
    return fields


def _steps(fields: dict, reasons: tuple[str, ...] | None, rule_code: str) -> list[tuple[str, dict]]:
    """The moves a filled row asks for, in order; BiduiError with the reason it cannot."""
    verdict = fields["verdict"]
    if not verdict:
        raise BiduiError("核实结果未填写")
    if verdict not in VERDICTS:
        raise BiduiError(f"核实结果“{verdict}”无效，只能是“属实”或“不属实”")
    if not fields["verified_by"]:
        raise BiduiError("核实人未填写")
    if not fields["verified_on"]:
        raise BiduiError("核实日期未填写")
    verify = {k: fields[k] for k in ("verdict", "verified_by", "verified_on")}
    if verdict == "不属实":
        if not fields["dismiss_reason"]:
            raise BiduiError("核实不属实须从下拉框选择不属实原因")
        if reasons and fields["dismiss_reason"] not in reasons:
            raise BiduiError(
                f"不属实原因“{fields['dismiss_reason']}”不是规则 {rule_code} 的可选原因（可选：{'、'.join(reasons)}）"
            )
        verify["dismiss_reason"] = fields["dismiss_reason"]
    steps = [("verify", verify)]
    # A 不属实 clue needs no rectification; whatever was written there is not a move.
    if verdict == "属实" and (fields["rectification"] or fields["rectified_on"]):
        if not (fields["rectification"] and fields["rectified_on"]):
            raise BiduiError("整改措施与整改完成日期须同时填写")
        steps.append(("rectify", {k: fields[k] for k in ("rectification", "rectified_on")}))
    if fields["signed_by"] or fields["signed_on"]:
        if not (fields["signed_by"] and fields["signed_on"]):
            raise BiduiError("签字人与签字日期须同时填写")
        steps.append(("sign", {k: fields[k] for k in ("signed_by", "signed_on")}))
    return steps


def _actor(action: str, fields: dict, scope: Scope) -> Actor:
    """Whom a ledger row's move is recorded for: the person the row names, in the role the contract
    gives that move; BiduiError when the row names the importer for a move their own role may not make."""
    name, role = fields[_ACTING_NAME[action]], _ACTING_ROLE[action]
    assert action in ROLE_ACTIONS[role]
    if name == scope.user_name and not scope.can(action):
        column = "签字人" if action == "sign" else "核实人"
        raise BiduiError(
            f"{column}“{name}”是导入台账的用户本人，{scope.role_label}用户无权{ACTION_LABELS[action]}；"
            f"请填写实际{'签字的乡镇' if action == 'sign' else '核实的村级或行业部门'}人员"
        )
    return Actor(name, role)


def _without_id(message: str, clue_id: str) -> str:
    # The report names the clue in its own column.
    return message.removeprefix(f"线索 {clue_id}：").removeprefix(f"线索 {clue_id} ")


def _as_stored(value):
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-" and value[7] == "-":
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    return value


def _recorded(clue: dict, action: str) -> str:
    if action == "verify":
        text = f"{clue['verdict']}，核实人 {clue['verified_by']}，{cell_text(_as_stored(clue['verified_on']))}"
        return text + (f"，原因“{clue['dismiss_reason']}”" if clue["verdict"] == "不属实" else "")
    if action == "rectify":
        return f"“{clue['rectification']}”，{cell_text(_as_stored(clue['rectified_on']))}"
    return f"签字人 {clue['signed_by']}，{cell_text(_as_stored(clue['signed_on']))}"


def _went_back_reason(event: dict) -> str:
    what = "被退回" if event["action"] == "send_back" else "重新打开"
    why = f"（{event['note']}）" if event.get("note") else ""
    return (
        f"线索在本台账下发后已于 {cell_text(_as_stored(event['at']))[:10]} {what}{why}，本台账中的核实、签字已作废；"
        "请在之后下发的台账中重新核实，或用 bidui clue 命令登记"
    )


# --- judging one row --------------------------------------------------------------------------


def _judge(row: LedgerRow, clue: dict, rule, context: dict, scope: Scope, at: dt.datetime, where: str) -> dict:
    """Apply a row to its clue in memory: sets row.outcome/reason/events; returns the clue after.
    `context`: the row's IssuedRow or None, a function giving the clue's values now, and its
    send-back/re-open since."""
    issued: IssuedRow | None = context["issued"]
    if issued is not None:
        problem = _locked_problem(row, clue["rule"], issued.locked, "下发时")
    else:
        problem = _locked_problem(row, clue["rule"], {c: _plain(context["now"]()[c]) for c in _COMPARED}, "系统中")
    if problem:
        row.outcome, row.reason = "rejected", problem
        return clue
    try:
        fields = _fill_in(row)
        if not any(fields.values()):
            row.outcome = "blank"
            return clue
        if context["went_back"]:
            raise BiduiError(_went_back_reason(context["went_back"]))
        steps = _steps(fields, rule.dismiss_reasons if rule else None, clue["rule"])
        note = None  # only a row that moves its clue needs it (a re-imported ledger moves none)
        current = clue
        for action, wanted in steps:
            if current[_DONE_BY[action]] not in (None, ""):
                if all(_as_stored(current[k]) == v for k, v in wanted.items()):
                    continue
                raise BiduiError(
                    f"系统中已登记{ACTION_LABELS[action]}（{_recorded(current, action)}），与台账不一致；"
                    f"当前状态“{STATE_LABELS.get(current['status'], current['status'])}”，如需更改请先退回"
                )
            if note is None:
                changed = _changed_since(issued.locked, context["now"]()) if issued is not None else None
                note = "；".join(filter(None, [f"{where}，由 {scope.user_name}（{scope.role_label}）导入", changed]))
            current, event = plan_move(
                current,
                action,
                {**wanted, "note": note},
                _actor(action, fields, scope),
                at,
                deadline_days=rule.deadline_days if rule else DEFAULT_DEADLINE_DAYS,
                dismiss_reasons=list(rule.dismiss_reasons) if rule else None,
                source="ledger",
            )
            row.events.append(event)
    except BiduiError as exc:
        row.outcome, row.reason, row.events = "rejected", _without_id(str(exc), clue["clue_id"]), []
        return clue
    row.outcome = "applied" if row.events else "unchanged"
    return current


# --- importing --------------------------------------------------------------------------------


def _load_file_clues(conn, clue_ids: list[str], scope: Scope) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for start in range(0, len(clue_ids), 2000):  # SQLite caps the number of bound parameters
        statement = select(*(clues.c[c] for c in CLUE_COLUMNS)).where(
            clues.c.clue_id.in_(clue_ids[start : start + 2000]) & scope.build_clue_filter(clues)
        )
        found.update({row["clue_id"]: dict(row) for row in conn.execute(store.lock_rows(conn, statement, clues)).mappings()})
    return found


def _judge_rows(
    conn, rows: list[LedgerRow], mark: IssueMark | None, scope: Scope, rules_by_code: dict, regions: dict, at, file_name: str
):
    """Judge every row against the clues as they stand in this transaction and against the issue the
    file came from (`mark`); returns the moved clues as (status read, clue after) pairs."""
    ids = sorted({cell_text(r.cells["线索编号"]) for r in rows} - {""})
    stored = _load_file_clues(conn, ids, scope)
    people = load_people(conn, (c["person_id"] for c in stored.values()))
    if mark is None:  # a workbook issued before marks were written: its clues' newest ledgers
        issued = load_issued_rows(conn, stored)
        went_back = load_went_back(conn, issued)
    else:
        issued = load_issued_rows(conn, stored, (mark.county_code, mark.issue_date))
        # A clue the marked ledger has no row of (a mark edited to name another ledger, or none):
        # judged against its newest ledger, as if the file had no mark.
        issued |= load_issued_rows(conn, set(stored) - set(issued))
        went_back = load_went_back(conn, issued, mark)
    current: dict[str, dict] = {}
    first_seen: dict[str, LedgerRow] = {}
    for row in rows:
        clue_id = cell_text(row.cells["线索编号"])
        if not clue_id:
            row.outcome, row.reason = "rejected", "线索编号为空"
        elif clue_id not in stored:
            row.outcome, row.reason = "rejected", _OUTSIDE
        elif clue_id in first_seen:
            seen = first_seen[clue_id]
            row.outcome, row.reason = "rejected", f"线索编号在本台账中重复出现（首次见于“{seen.sheet}”第 {seen.row_no} 行）"
        else:
            first_seen[clue_id] = row
            clue = stored[clue_id]
            rule = rules_by_code.get(clue["rule"])
            context = {
                "issued": issued.get(clue_id),
                # the clue's values now, as a ledger would show them: built only when a row needs them
                "now": lambda clue=clue, rule=rule: ledger_values(clue, rule, regions, people, masked=False),
                "went_back": went_back.get(clue_id),
            }
            after = _judge(row, clue, rule, context, scope, at, f"台账 {file_name}「{row.sheet}」第 {row.row_no} 行")
            if row.events:
                current[clue_id] = after
    return [(stored[clue_id]["status"], after) for clue_id, after in current.items()]


def import_ledger(engine: Engine, settings: Settings, scope: Scope, path: Path | str, rules: list | None = None) -> dict:
    """Apply a returned ledger in one write transaction; write the import report (xlsx) under
    settings.data_dir/ledgers/imports and record the import in ledger_imports. Returns {file,
    import_id, rows, applied, unchanged, blank, rejected, report, rejections: [{sheet, row, clue_id,
    reason}], outcomes: every row's {sheet, row, clue_id, outcome, reason}} (`unchanged` in
    ledger_imports counts blank rows too)."""
    if not scope.can("issue"):
        raise BiduiError(
            f"用户 {scope.user_name}（{scope.role_label}）无权导入台账：台账由县级或市（州）用户统一导入；"
            "村、乡镇可用 bidui clue 命令逐条核实、签字"
        )
    path = Path(path)
    returned = read_ledger(path, _NEEDED)
    rows = returned.rows
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    if rules is None:
        from pipelines.rules.run import load_rules

        rules = load_rules()
    rules_by_code = {r.code: r for r in rules}
    at = dt.datetime.now().replace(microsecond=0)
    report = report_path(settings, path, at)
    regions = build_region_names(store.load_region_reference(engine))
    with store.staged_files() as stage:  # the report appears once the import committed
        with store.write_transaction(engine) as conn:
            moved = _judge_rows(conn, rows, returned.mark, scope, rules_by_code, regions, at, path.name)
            write_moves(conn, moved, [e for row in rows for e in row.events])
            counts = {k: sum(r.outcome == k for r in rows) for k in ("applied", "unchanged", "blank", "rejected")}
            summary = {
                "file_name": path.name,
                "user": f"{scope.user_name}（{scope.role_label}）",
                "imported_at": at.isoformat(sep=" "),
                "rows": len(rows),
                **counts,
            }
            import_id = conn.execute(
                insert(ledger_imports)
                .values(
                    file_sha256=sha,
                    file_name=path.name,
                    user_name=scope.user_name,
                    imported_at=at,
                    rows=len(rows),
                    applied=counts["applied"],
                    unchanged=counts["unchanged"] + counts["blank"],
                    rejected=counts["rejected"],
                    report=str(report),
                )
                .returning(ledger_imports.c.import_id)
            ).scalar_one()
            write_report(stage(report), summary, rows)
    outcomes = [
        {"sheet": r.sheet, "row": r.row_no, "clue_id": cell_text(r.cells["线索编号"]), "outcome": r.outcome, "reason": r.reason}
        for r in rows
    ]
    return {
        "file": str(path),
        "import_id": import_id,
        "rows": len(rows),
        **counts,
        "report": report,
        "rejections": [{k: o[k] for k in ("sheet", "row", "clue_id", "reason")} for o in outcomes if o["outcome"] == "rejected"],
        "outcomes": outcomes,
    }
