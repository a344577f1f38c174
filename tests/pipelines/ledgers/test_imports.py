"""Returned ledgers (pipelines.ledgers.imports) against what was issued: concurrent imports, a
workbook re-imported after a send-back, data changed overnight, locked columns, who the import
acts for, and workbooks with title rows, a 序号 column and a signature block."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select, update

from pipelines.clues.life import load_clue_events
from pipelines.clues.moves import act
from pipelines.ledgers import imports
from pipelines.ledgers.imports import import_ledger
from pipelines.ledgers.issue import issue_ledgers
from pipelines.store.tables import clue_events, persons


def _ledger_tests():
    # The hand-made clues and helpers of test_ledgers.py, shared (importlib mode: no test folder on sys.path).
    name = "bidui_tests_ledgers"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("test_ledgers.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


L = _ledger_tests()
engine = L.engine  # the fixture: nine hand-made clues in two counties, on SQLite and PostgreSQL
COUNTY_A, ISSUED, VERIFIED = L.COUNTY_A, L.ISSUED, L.VERIFIED
SIGNED = {
    **VERIFIED,
    "整改措施": "已劝返入学",
    "整改完成日期": dt.date(2026, 11, 28),
    "签字人": "李乡长",
    "签字日期": dt.date(2026, 11, 30),
}


def _row_of(path: Path, sheet: str, clue_id: str) -> int:
    """The Excel row number of a clue's row in a ledger sheet, whatever rows sit above the header."""
    for cells in openpyxl.load_workbook(path)[sheet].iter_rows():
        if any(c.value == clue_id for c in cells):
            return cells[0].row
    raise AssertionError(f"{clue_id} not in {sheet}")


def _relaid(path: Path, title_rows: int) -> None:
    """Rewrite each township sheet of a ledger as printed: title rows above the header, a 序号
    column first, a signature block below the data (whatever layout the ledger was issued in)."""
    source = openpyxl.load_workbook(path)
    book = openpyxl.Workbook()
    book.remove(book.active)
    for old in source.worksheets:
        rows = [list(r) for r in old.iter_rows(values_only=True)]
        top = next((i for i, r in enumerate(rows[:10]) if "线索编号" in r), None)
        sheet = book.create_sheet(old.title)
        if top is None:
            continue
        header = [c for c in rows[top] if c != "序号"]
        data = [[v for c, v in zip(rows[top], r) if c != "序号"] for r in rows[top + 1 :] if r[rows[top].index("线索编号")]]
        for n in range(title_rows):
            sheet.append([f"甲县问题台账（{old.title}）第 {n + 1} 行标题"])
        sheet.append(["序号", *header])
        for n, values in enumerate(data, start=1):
            sheet.append([n, *values])
        sheet.append([])
        sheet.append([None, "乡镇签字：", None, None, None, None, None, "李乡长"])
        sheet.append([None, "县级审核：", "2026-12-01"])
    book.save(path)


def test_two_copies_of_a_ledger_imported_at_once_apply_once(settings, engine, tmp_path, race):
    [issued] = issue_ledgers(engine, settings, COUNTY_A, ISSUED)
    k1 = L.clue_id(engine, "K1")
    copies = [
        L.fill(issued["file"], tmp_path / "甲.xlsx", {k1: VERIFIED}),
        L.fill(issued["file"], tmp_path / "乙.xlsx", {k1: {**VERIFIED, "核实结果": "不属实", "不属实原因": L.R05_REASON}}),
    ]
    outcomes = race(imports, "_load_file_clues", [lambda p=p: import_ledger(engine, settings, COUNTY_A, p) for p in copies])
    assert sorted((o["applied"], o["rejected"]) for o in outcomes) == [(0, 1), (1, 0)]
    [won] = [i for i, o in enumerate(outcomes) if o["applied"]]
    recorded = ("属实，核实人 王核实，2026-11-25", f"不属实，核实人 王核实，2026-11-25，原因“{L.R05_REASON}”")[won]
    state = ("核实属实待整改", "待乡镇签字")[won]
    assert outcomes[1 - won]["rejections"][0]["reason"] == (
        f"系统中已登记核实（{recorded}），与台账不一致；当前状态“{state}”，如需更改请先退回"
    )
    assert L.by_key(engine)["K1"]["verdict"] == ("属实", "不属实")[won]
    assert list(load_clue_events(engine, k1)["action"]) == ["found", "issue", "verify"]


def test_a_ledger_reimported_after_a_send_back_is_rejected_row_by_row(settings, engine, tmp_path):
    [issued] = issue_ledgers(engine, settings, COUNTY_A, ISSUED)
    k1, k2 = L.clue_id(engine, "K1"), L.clue_id(engine, "K2")
    filled = L.fill(issued["file"], tmp_path / "交回.xlsx", {k1: SIGNED, k2: VERIFIED})
    assert import_ledger(engine, settings, COUNTY_A, filled)["applied"] == 2
    act(engine, COUNTY_A, k1, "send_back", {"note": "整改不到位"}, at=dt.datetime(2026, 12, 1, 9))
    again = import_ledger(engine, settings, COUNTY_A, filled)
    assert (again["applied"], again["unchanged"], again["rejected"]) == (0, 1, 1)
    assert [(r["clue_id"], r["reason"]) for r in again["rejections"]] == [
        (
            k1,
            "线索在本台账下发后已于 2026-12-01 被退回（整改不到位），本台账中的核实、签字已作废；请在之后下发的台账中重新核实，或用 bidui clue 命令登记",
        )
    ]
    clue = L.by_key(engine)["K1"]
    assert (clue["status"], clue["verdict"], clue["signed_by"]) == ("issued", None, None)


def test_a_sent_back_clue_goes_down_in_the_next_ledger_and_its_new_verdict_applies(settings, engine, tmp_path):
    [issued] = issue_ledgers(engine, settings, COUNTY_A, ISSUED)
    k1 = L.clue_id(engine, "K1")
    import_ledger(engine, settings, COUNTY_A, L.fill(issued["file"], tmp_path / "交回.xlsx", {k1: SIGNED}))
    act(engine, COUNTY_A, k1, "send_back", {"note": "整改不到位"}, at=dt.datetime(2026, 12, 1, 9))
    [later] = issue_ledgers(engine, settings, COUNTY_A, dt.date(2026, 12, 2))
    assert (later["clues"], later["issued_now"], later["carried_reopened"]) == (1, 0, 1)
    assert [r["线索编号"] for r in L.sheet_rows(later["file"], "清水镇")] == [k1]
    again = {**SIGNED, "整改措施": "已复学并建立台账", "核实日期": dt.date(2026, 12, 3)}
    result = import_ledger(engine, settings, COUNTY_A, L.fill(later["file"], tmp_path / "再交回.xlsx", {k1: again}))
    assert (result["applied"], result["rejected"]) == (1, 0)
    clue = L.by_key(engine)["K1"]
    assert (clue["status"], clue["rectification"]) == ("signed", "已复学并建立台账")
    assert issue_ledgers(engine, settings, COUNTY_A, dt.date(2026, 12, 4)) == []


@pytest.mark.parametrize("reissued_on", [dt.date(2026, 12, 2), ISSUED], ids=["next-ledger", "same-day"])
def test_an_old_workbook_is_void_for_a_clue_sent_back_and_issued_again(settings, engine, tmp_path, reissued_on):
    [first] = issue_ledgers(engine, settings, COUNTY_A, ISSUED)
    k1 = L.clue_id(engine, "K1")
    old = L.fill(first["file"], tmp_path / "交回.xlsx", {k1: SIGNED})
    assert import_ledger(engine, settings, COUNTY_A, old)["applied"] == 1
    act(engine, COUNTY_A, k1, "send_back", {"note": "整改不到位"}, at=dt.datetime(2026, 12, 1, 9))
    [again] = issue_ledgers(engine, settings, COUNTY_A, reissued_on)  # the clue goes down again
    assert k1 in [r["线索编号"] for s in again["sheets"] for r in L.sheet_rows(again["file"], s)]
    result = import_ledger(engine, settings, COUNTY_A, old)
    assert (result["applied"], result["rejected"]) == (0, 1)
    assert result["rejections"][0]["reason"].startswith("线索在本台账下发后已于 2026-12-01 被退回（整改不到位）")
    clue = L.by_key(engine)["K1"]
    assert (clue["status"], clue["verdict"], clue["signed_by"]) == ("issued", None, None)


def test_data_changed_overnight_keeps_the_verdict_with_a_note(settings, engine, tmp_path):
    [issued] = issue_ledgers(engine, settings, COUNTY_A, ISSUED)
    k1 = L.clue_id(engine, "K1")
    with engine.begin() as conn:  # the police correct the name after the ledger went down
        conn.execute(update(persons).where(persons.c.person_id == "P000000001").values(name="学生甲"))
    result = import_ledger(engine, settings, COUNTY_A, L.fill(issued["file"], tmp_path / "交回.xlsx", {k1: VERIFIED}))
    assert (result["applied"], result["blank"], result["rejected"]) == (1, 7, 0)
    with engine.connect() as conn:
        [note] = conn.execute(
            select(clue_events.c.note).where((clue_events.c.clue_id == k1) & (clue_events.c.action == "verify"))
        )
    row = _row_of(issued["file"], "清水镇", k1)
    assert note[0] == f"台账 交回.xlsx「清水镇」第 {row} 行，由 county_a（县）导入；台账下发后数据已更新：姓名“学生K1”→“学生甲”"


def test_every_locked_column_edited_is_rejected(settings, engine, tmp_path):
    [issued] = issue_ledgers(engine, settings, COUNTY_A, ISSUED)
    ids = {k: L.clue_id(engine, k) for k in ("K1", "K2", "K3", "K4")}
    filled = L.fill(
        issued["file"],
        tmp_path / "交回.xlsx",
        {
            ids["K1"]: {**VERIFIED, "证据": "没有问题"},
            ids["K2"]: {"乡镇": "别的镇"},
            ids["K3"]: {**VERIFIED, "核实部门": "民政"},
            ids["K4"]: {**VERIFIED, "身份证号": "522725********9999"},
        },
    )
    result = import_ledger(engine, settings, COUNTY_A, filled)
    assert sorted((r["clue_id"], r["reason"]) for r in result["rejections"]) == sorted(
        [
            (
                ids["K1"],
                "锁定列“证据”被改动：台账中为“没有问题”，下发时为“教育·学籍（记录 SK1）：姓名 学生K1；身份证号 522725*******…”（如线索已重新下发，请使用新台账）",
            ),
            (ids["K2"], "锁定列“乡镇”被改动：台账中为“别的镇”，下发时为“清水镇”（如线索已重新下发，请使用新台账）"),
            (ids["K3"], "锁定列“核实部门”被改动：台账中为“民政”，下发时为“医保”（如线索已重新下发，请使用新台账）"),
            (
                ids["K4"],
                "锁定列“身份证号”被改动：台账中为“522725********9999”，下发时为“522725********0004”（如线索已重新下发，请使用新台账）",
            ),
        ]
    )
    assert result["applied"] == 0


def test_an_import_acts_for_the_people_the_row_names_never_as_the_county_itself(settings, engine, tmp_path):
    [issued] = issue_ledgers(engine, settings, COUNTY_A, ISSUED)
    k1, k2 = L.clue_id(engine, "K1"), L.clue_id(engine, "K2")
    filled = L.fill(
        issued["file"], tmp_path / "交回.xlsx", {k1: {**VERIFIED, "核实人": "county_a"}, k2: {**SIGNED, "签字人": "county_a"}}
    )
    result = import_ledger(engine, settings, COUNTY_A, filled)
    assert [(r["clue_id"], r["reason"]) for r in result["rejections"]] == [
        (k1, "核实人“county_a”是导入台账的用户本人，县用户无权核实；请填写实际核实的村级或行业部门人员"),
        (k2, "签字人“county_a”是导入台账的用户本人，县用户无权签字背书；请填写实际签字的乡镇人员"),
    ]
    assert {c["status"] for c in L.by_key(engine).values() if c["county_code"] == "522725"} == {"issued"}


def test_a_sheet_with_title_rows_a_serial_column_and_a_signature_block_is_read(settings, engine, tmp_path):
    [issued] = issue_ledgers(engine, settings, COUNTY_A, ISSUED)
    k1, k3 = L.clue_id(engine, "K1"), L.clue_id(engine, "K3")
    filled = L.fill(issued["file"], tmp_path / "交回.xlsx", {k1: VERIFIED, k3: SIGNED})
    _relaid(filled, title_rows=2)
    result = import_ledger(engine, settings, COUNTY_A, filled)
    assert (result["rows"], result["applied"], result["blank"], result["rejected"]) == (8, 2, 6, 0)
    clues = L.by_key(engine)
    assert (clues["K1"]["status"], clues["K3"]["status"]) == ("confirmed", "signed")
    with engine.connect() as conn:
        [note] = conn.execute(select(clue_events.c.note).where((clue_events.c.clue_id == k3) & (clue_events.c.action == "sign")))
    assert note[0] == "台账 交回.xlsx「河口乡」第 4 行，由 county_a（县）导入"  # 2 title rows, the header, then K3


def test_a_ledger_with_a_stray_cell_at_the_bottom_of_the_sheet_imports_normally(settings, engine, tmp_path):
    [issued] = issue_ledgers(engine, settings, COUNTY_A, ISSUED)
    k1 = L.clue_id(engine, "K1")
    filled = L.fill(issued["file"], tmp_path / "交回.xlsx", {k1: VERIFIED})
    book = openpyxl.load_workbook(filled)
    book["清水镇"]["A1048576"] = "x"
    book.save(filled)
    result = import_ledger(engine, settings, COUNTY_A, filled)
    assert (result["rows"], result["applied"], result["blank"], result["rejected"]) == (8, 1, 7, 0)
    assert L.by_key(engine)["K1"]["status"] == "confirmed"


def test_a_filled_row_whose_clue_id_was_cleared_is_rejected_not_dropped(settings, engine, tmp_path):
    [issued] = issue_ledgers(engine, settings, COUNTY_A, ISSUED)
    k1, k3 = L.clue_id(engine, "K1"), L.clue_id(engine, "K3")
    row = _row_of(issued["file"], "清水镇", k1)
    filled = L.fill(issued["file"], tmp_path / "交回.xlsx", {k1: {**VERIFIED, "线索编号": None}, k3: SIGNED})
    result = import_ledger(engine, settings, COUNTY_A, filled)
    assert (result["rows"], result["applied"], result["blank"], result["rejected"]) == (8, 1, 6, 1)
    assert result["rejections"] == [{"sheet": "清水镇", "row": row, "clue_id": "", "reason": "线索编号为空"}]
    clues = L.by_key(engine)
    assert (clues["K1"]["status"], clues["K3"]["status"]) == ("issued", "signed")


def _forge_mark(path: Path, mark: str) -> None:
    """Edit the issue mark in the hidden list sheet, as anyone can: the sheet has no password."""
    book = openpyxl.load_workbook(path)
    sheet = book["可选原因"]
    column = [c.value for c in sheet[1]].index("台账标识") + 1
    sheet.cell(row=2, column=column).value = mark
    book.save(path)


@pytest.mark.parametrize("forged", ["{county}/{issued}/999999", "{county}/2026-11-01/1"], ids=["large-event", "no-such-ledger"])
def test_a_forged_issue_mark_does_not_let_a_voided_verification_apply(settings, engine, tmp_path, forged):
    [first] = issue_ledgers(engine, settings, COUNTY_A, ISSUED)
    k1 = L.clue_id(engine, "K1")
    old = L.fill(first["file"], tmp_path / "交回.xlsx", {k1: SIGNED})
    assert import_ledger(engine, settings, COUNTY_A, old)["applied"] == 1
    act(engine, COUNTY_A, k1, "send_back", {"note": "整改不到位"}, at=dt.datetime(2026, 12, 1, 9))
    _forge_mark(old, forged.format(county=L.by_key(engine)["K1"]["county_code"], issued=ISSUED.isoformat()))
    result = import_ledger(engine, settings, COUNTY_A, old)
    assert (result["applied"], result["rejected"]) == (0, 1)
    assert result["rejections"][0]["reason"].startswith("线索在本台账下发后已于 2026-12-01 被退回（整改不到位）")
    clue = L.by_key(engine)["K1"]
    assert (clue["status"], clue["verdict"], clue["signed_by"]) == ("issued", None, None)
