"""Returned ledgers: a filled workbook applied as clue moves (ledgers contract, "Returning a filled
ledger"), in one transaction per file.

Each row moves its clue from where it stands as far as the row's filled columns go: verify
(核实结果, 核实人, 核实日期, and 不属实原因 for 不属实), then rectify (整改措施, 整改完成日期; 属实 only),
then sign (签字人, 签字日期). A step the clue has already taken with the same values is skipped, so
a row matching the clue as stored is "unchanged" and importing a file twice changes nothing the
second time. A row whose fill-in columns are all empty is "blank" (not filled in yet): nothing to
apply, nothing to reject. Any other row is applied whole or rejected whole with a Chinese reason:
unknown clue or outside the importer's scope (one message for both, so a ledger reveals nothing
about other counties), a locked column edited, 核实结果 missing or invalid, 核实人 or 核实日期
missing, a date that is not a date, a 不属实原因 that is not one of the rule's, a step recorded
differently already, or a move not allowed from the clue's state.

Who may import: whoever may issue ledgers (county and prefecture users). The importer is recorded
on every event (source 'ledger'); the event note names the 核实人 or 签字人 of the row and the row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import xlsxwriter
from sqlalchemy import Engine, insert, select

from pipelines import store
from pipelines.access.scope import Scope, mask_id
from pipelines.clues.life import CLUE_COLUMNS, DEFAULT_DEADLINE_DAYS
from pipelines.clues.moves import plan_move, write_moves
from pipelines.clues.states import ACTION_LABELS, STATE_LABELS, VERDICTS
from pipelines.errors import BiduiError
from pipelines.ledgers.issue import build_region_names, ledger_values, load_people
from pipelines.ledgers.workbook import DATE_COLUMNS, FILL_IN_COLUMNS, FILL_IN_FIELDS
from pipelines.settings import Settings
from pipelines.store.tables import clues, ledger_imports

__all__ = ["import_ledger"]

# Locked columns compared with the clue as stored (证据 is refreshed nightly, 乡镇 and 核实部门
# follow from 村 and 规则, so they are not).
_COMPARED = ("规则", "问题描述", "村", "户编号", "姓名", "身份证号", "下发日期", "整改期限")
_NEEDED = ("线索编号", *_COMPARED, *FILL_IN_COLUMNS)
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")
_OUTSIDE = "线索编号不存在，或不在您的管辖范围内"


@dataclass
class LedgerRow:
    """One data row of a returned ledger: where it is and its cells by column name."""

    sheet: str
    row_no: int  # as Excel numbers it (the header is row 1)
    cells: dict[str, object]
    outcome: str = ""  # applied | unchanged | blank | rejected
    reason: str = ""
    events: list[dict] = field(default_factory=list)


# --- reading ----------------------------------------------------------------------------------


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _date(value, column: str) -> dt.date | None:
    """A date cell as a date; BiduiError with the column's name when it is not one."""
    if value is None or _text(value) == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and 1 < value < 100000:  # an Excel serial day number
        return _EXCEL_EPOCH + dt.timedelta(days=int(value))
    text = _text(value)
    for form in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, form).date()
        except ValueError:
            continue
    raise BiduiError(f"{column}“{text}”不是有效日期（应为 2026-11-20 的格式）")


def read_ledger(path: Path) -> list[LedgerRow]:
    """The data rows of every ledger sheet (a sheet whose first row holds 线索编号); rows with no
    cell filled at all are left out. BiduiError when the file is not a ledger."""
    from python_calamine import CalamineWorkbook

    path = Path(path)
    if not path.is_file():
        raise BiduiError(f"台账文件 {path} 不存在")
    if path.suffix.lower() != ".xlsx":
        raise BiduiError(f"台账文件 {path.name} 不是 .xlsx 文件，请交回下发的 Excel 台账（.xlsx）")
    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:
        raise BiduiError(f"读不了台账文件 {path.name}：{exc}") from exc
    rows: list[LedgerRow] = []
    found = False
    for name in book.sheet_names:
        table = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        if not table:
            continue
        header = [_text(h).replace(" ", "").replace("\u3000", "") for h in table[0]]
        if "线索编号" not in header:
            continue
        found = True
        missing = [c for c in _NEEDED if c not in header]
        if missing:
            raise BiduiError(f"台账“{path.name}”的工作表“{name}”缺少列：{'、'.join(missing)}；请使用下发的台账，勿删改表头")
        where = {c: header.index(c) for c in _NEEDED}
        for offset, values in enumerate(table[1:], start=2):
            cells: dict[str, object] = {c: (values[i] if i < len(values) else None) for c, i in where.items()}
            if any(_text(v) for v in cells.values()):
                rows.append(LedgerRow(name, offset, cells))
    if not found:
        raise BiduiError(f"文件 {path.name} 不是问题台账：没有找到表头含“线索编号”的工作表")
    return rows


# --- judging one row --------------------------------------------------------------------------


def _locked_problem(row: LedgerRow, clue: dict, expected: dict) -> str | None:
    for column in _COMPARED:
        got = row.cells[column]
        if column in DATE_COLUMNS:
            try:
                same = _date(got, column) == expected[column]
            except BiduiError:
                same = False
            want = expected[column].isoformat() if expected[column] else ""
        elif column == "规则":
            # The code is the rule; the name after it is decoration a later rule edit may reword.
            same = (_text(got).split() or [""])[0] == clue["rule"]
            want = expected[column]
        elif column == "身份证号":
            same = _text(got) in (expected["身份证号"], mask_id(expected["身份证号"]))
            want = mask_id(expected["身份证号"])
        else:
            same = " ".join(_text(got).split()) == " ".join(str(expected[column]).split())
            want = expected[column]
        if not same:
            shown = mask_id(_text(got)) if column == "身份证号" else _text(got)
            return f"锁定列“{column}”被改动：台账中为“{shown}”，系统中为“{want}”（如线索已重新下发，请使用新台账）"
    return None


def _fill_in(row: LedgerRow) -> dict:
    """The fill-in cells as clue fields (dates parsed); BiduiError for a date that is not one."""
    fields = {}
    for column, name in FILL_IN_FIELDS.items():
        value = row.cells[column]
        fields[name] = _date(value, column) if column in DATE_COLUMNS else (_text(value) or None)
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


def _without_id(message: str, clue_id: str) -> str:
    # The report names the clue in its own column.
    return message.removeprefix(f"线索 {clue_id}：").removeprefix(f"线索 {clue_id} ")


_DONE_BY = {"verify": "verdict", "rectify": "rectified_on", "sign": "signed_by"}


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
        text = f"{clue['verdict']}，核实人 {clue['verified_by']}，{_text(_as_stored(clue['verified_on']))}"
        return text + (f"，原因“{clue['dismiss_reason']}”" if clue["verdict"] == "不属实" else "")
    if action == "rectify":
        return f"“{clue['rectification']}”，{_text(_as_stored(clue['rectified_on']))}"
    return f"签字人 {clue['signed_by']}，{_text(_as_stored(clue['signed_on']))}"


def _judge(row: LedgerRow, clue: dict, rule, expected: dict, scope: Scope, at: dt.datetime, where: str) -> dict:
    """Apply a row to its clue in memory: sets row.outcome/reason/events; returns the clue after."""
    problem = _locked_problem(row, clue, expected)
    if problem:
        row.outcome, row.reason = "rejected", problem
        return clue
    try:
        fields = _fill_in(row)
        if not any(fields.values()):
            row.outcome = "blank"
            return clue
        steps = _steps(fields, rule.dismiss_reasons if rule else None, clue["rule"])
        current = clue
        for action, wanted in steps:
            if current[_DONE_BY[action]] not in (None, ""):
                if all(_as_stored(current[k]) == v for k, v in wanted.items()):
                    continue
                raise BiduiError(
                    f"系统中已登记{ACTION_LABELS[action]}（{_recorded(current, action)}），与台账不一致；"
                    f"当前状态“{STATE_LABELS.get(current['status'], current['status'])}”，如需更改请先退回"
                )
            who = f"签字人：{wanted['signed_by']}" if action == "sign" else f"核实人：{fields['verified_by']}"
            current, event = plan_move(
                current,
                action,
                {**wanted, "note": f"{who}；{where}"},
                scope,
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
        if conn.dialect.name == "postgresql":
            statement = statement.with_for_update(of=clues)
        found.update({row["clue_id"]: dict(row) for row in conn.execute(statement).mappings()})
    return found


def _report_path(settings: Settings, source: Path, at: dt.datetime) -> Path:
    folder = settings.data_dir / "ledgers" / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"导入报告_{source.stem}_{at:%Y%m%d-%H%M%S}"
    path, n = folder / f"{stem}.xlsx", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}_{n}.xlsx"
    return path


def _write_report(path: Path, summary: dict, rows: list[LedgerRow]) -> None:
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False})
    try:
        bold = book.add_format({"bold": True})
        sheet = book.add_worksheet("导入结果")
        sheet.set_column(0, 0, 16)
        sheet.set_column(1, 2, 12)
        sheet.set_column(3, 3, 90)
        lines = [
            ("台账文件", summary["file_name"]),
            ("导入人", summary["user"]),
            ("导入时间", summary["imported_at"]),
            ("数据行", summary["rows"]),
            ("已导入", summary["applied"]),
            ("无变化", summary["unchanged"]),
            ("未填写", summary["blank"]),
            ("退回（未导入）", summary["rejected"]),
        ]
        for r, (label, value) in enumerate(lines):
            sheet.write_string(r, 0, label, bold)
            sheet.write_string(r, 1, str(value))
        top = len(lines) + 1
        for c, header in enumerate(("工作表", "行号", "线索编号", "退回原因")):
            sheet.write_string(top, c, header, bold)
        rejected = [row for row in rows if row.outcome == "rejected"]
        for r, row in enumerate(rejected, start=top + 1):
            sheet.write_string(r, 0, row.sheet)
            sheet.write_number(r, 1, row.row_no)
            sheet.write_string(r, 2, _text(row.cells["线索编号"]))
            sheet.write_string(r, 3, row.reason)
        if not rejected:
            sheet.write_string(top + 1, 0, "没有退回的行。")
    finally:
        book.close()


def import_ledger(engine: Engine, settings: Settings, scope: Scope, path: Path | str, rules: list | None = None) -> dict:
    """Apply a returned ledger in one transaction; write the import report (xlsx) under
    settings.data_dir/ledgers/imports and record the import in ledger_imports. Returns {file,
    rows, applied, unchanged, blank, rejected, report, rejections: [{sheet, row, clue_id, reason}]}
    (`unchanged` in ledger_imports counts blank rows too)."""
    if not scope.can("issue"):
        raise BiduiError(
            f"用户 {scope.user_name}（{scope.role_label}）无权导入台账：台账由县级或市（州）用户统一导入；"
            "村、乡镇可用 bidui clue 命令逐条核实、签字"
        )
    path = Path(path)
    rows = read_ledger(path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    if rules is None:
        from pipelines.rules.run import load_rules

        rules = load_rules()
    rules_by_code = {r.code: r for r in rules}
    at = dt.datetime.now().replace(microsecond=0)
    report = _report_path(settings, path, at)
    regions = build_region_names(store.load_region_reference(engine))
    with store.staged_files() as stage:  # the report appears once the import committed
        with engine.begin() as conn:
            ids = sorted({_text(r.cells["线索编号"]) for r in rows} - {""})
            stored = _load_file_clues(conn, ids, scope)
            people = load_people(conn, (c["person_id"] for c in stored.values()))
            current: dict[str, dict] = {}
            first_seen: dict[str, LedgerRow] = {}
            for row in rows:
                clue_id = _text(row.cells["线索编号"])
                if not clue_id:
                    row.outcome, row.reason = "rejected", "线索编号为空"
                elif clue_id not in stored:
                    row.outcome, row.reason = "rejected", _OUTSIDE
                elif clue_id in first_seen:
                    seen = first_seen[clue_id]
                    row.outcome, row.reason = (
                        "rejected",
                        f"线索编号在本台账中重复出现（首次见于“{seen.sheet}”第 {seen.row_no} 行）",
                    )
                else:
                    first_seen[clue_id] = row
                    clue = stored[clue_id]
                    rule = rules_by_code.get(clue["rule"])
                    expected = ledger_values(clue, rule, regions, people, masked=False)
                    where = f"台账 {path.name}「{row.sheet}」第 {row.row_no} 行"
                    after = _judge(row, clue, rule, expected, scope, at, where)
                    if row.events:
                        current[clue_id] = after
            write_moves(conn, list(current.values()), [e for row in rows for e in row.events])
            counts = {k: sum(r.outcome == k for r in rows) for k in ("applied", "unchanged", "blank", "rejected")}
            summary = {
                "file_name": path.name,
                "user": f"{scope.user_name}（{scope.role_label}）",
                "imported_at": at.isoformat(sep=" "),
                "rows": len(rows),
                **counts,
            }
            conn.execute(
                insert(ledger_imports).values(
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
            )
            _write_report(stage(report), summary, rows)
    return {
        "file": str(path),
        "rows": len(rows),
        **counts,
        "report": report,
        "rejections": [
            {"sheet": r.sheet, "row": r.row_no, "clue_id": _text(r.cells["线索编号"]), "reason": r.reason}
            for r in rows
            if r.outcome == "rejected"
        ],
    }
