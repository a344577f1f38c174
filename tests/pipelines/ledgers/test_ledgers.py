"""Ledger workbooks: issuing (pipelines.ledgers.issue) and importing the filled ones (pipelines.ledgers.imports),
on hand-made clues in two counties."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import func, insert, select

from pipelines import store
from pipelines.access.scope import Scope
from pipelines.clues.life import FIRED_COLUMNS, apply_rule_run, load_clue, load_clues
from pipelines.clues.moves import apply_move
from pipelines.errors import BiduiError
from pipelines.ledgers.imports import import_ledger
from pipelines.ledgers.issue import LEDGER_COLUMNS, issue_ledgers
from pipelines.ledgers.values import evidence_text, ledger_values
from pipelines.rules.run import load_rules
from pipelines.store.tables import clue_events, ledger_imports, ledger_issues, persons

NIGHT, ISSUED = dt.date(2026, 11, 20), dt.date(2026, 11, 23)
RULES = {r.code: r for r in load_rules()}
R05_REASON = RULES["R05"].dismiss_reasons[0]
COUNTY_A = Scope("county_a", "county", "522725", None, True)
COUNTY_A_MASKED = Scope("county_m", "county", "522725", None, False)
COUNTY_B = Scope("county_b", "county", "522726", None, True)
REGIONS = pd.DataFrame(
    [
        ("522725000000", "甲县", "county"),
        ("522725101000", "清水镇", "township"),
        ("522725101201", "松林村", "village"),
        ("522725101202", "茶头村", "village"),
        ("522725102000", "河口乡", "township"),
        ("522725102203", "河口村", "village"),
        ("522726000000", "乙县", "county"),
        ("522726101000", "乙镇", "township"),
        ("522726101201", "乙村", "village"),
    ],
    columns=["code", "name", "level"],
)
# subject key → (rule, village); the person of K<n> is P00000000<n>.
SUBJECTS = {
    "K1": ("R05", "522725101201"),
    "K2": ("R05", "522725101202"),
    "K3": ("R06", "522725102203"),
    "K4": ("R05", "522725101201"),
    "K5": ("R05", "522725101201"),
    "K6": ("R05", "522725101202"),
    "K7": ("R06", "522725102203"),
    "K8": ("R06", "522725102203"),
    "K9": ("R05", "522726101201"),
}


def _id(key: str) -> str:
    return f"52272520100101{int(key[1:]):04d}"


def _fired(keys) -> pd.DataFrame:
    rows = [
        {
            "rule": SUBJECTS[k][0],
            "subject_feed": "poverty_members",
            "subject_key": k,
            "person_id": f"P{int(k[1:]):09d}",
            "household_code": None,
            "household_no": f"PH{k}",
            "village_code": SUBJECTS[k][1],
            "department": RULES[SUBJECTS[k][0]].department,
            "evidence": json.dumps(
                {
                    "feed": "school_enrolment",
                    "record_key": f"S{k}",
                    "fields": {"name": f"学生{k}", "id_number": _id(k), "school_state": "辍学"},
                },
                ensure_ascii=False,
                sort_keys=True,
            ),
        }
        for k in keys
    ]
    return pd.DataFrame(rows, columns=FIRED_COLUMNS)


@pytest.fixture
def engine(settings):
    engine = store.connect(settings)
    store.replace_region_reference(engine, REGIONS, source="测试")
    with engine.begin() as conn:
        conn.execute(
            insert(persons),
            [
                {
                    "person_id": f"P{int(k[1:]):09d}",
                    "name": f"学生{k}",
                    "id_number": _id(k),
                    "first_seen": NIGHT,
                    "last_seen": NIGHT,
                }
                for k in SUBJECTS
            ],
        )
    frame = _fired(SUBJECTS)
    runs = [
        {"rule": r, "status": "ran", "fired": int((frame["rule"] == r).sum()), "seconds": 0.1, "message": None}
        for r in ("R05", "R06")
    ]
    apply_rule_run(engine, settings, NIGHT, frame, runs, {"R05": 15, "R06": 30})
    return engine


def by_key(engine) -> dict[str, dict]:
    return {row["subject_key"]: row for row in load_clues(engine).to_dict("records")}


def clue_id(engine, key: str) -> str:
    return by_key(engine)[key]["clue_id"]


def sheet_rows(path: Path, sheet: str) -> list[dict]:
    """The data rows of a township sheet: below the header (under the title rows), above the
    signature block (rows without a 线索编号), without 序号."""
    rows = list(openpyxl.load_workbook(path)[sheet].iter_rows(values_only=True))
    top = next(i for i, row in enumerate(rows) if "线索编号" in row)
    data = [dict(zip(rows[top], row)) for row in rows[top + 1 :]]
    return [{k: v for k, v in row.items() if k != "序号"} for row in data if row["线索编号"]]


def fill(source: Path, target: Path, rows: dict[str, dict]) -> Path:
    """A copy of a ledger with some rows filled in: clue ID → {column: value}."""
    book = openpyxl.load_workbook(source)
    for sheet in book.worksheets:
        # The header is the first row holding 线索编号 (title rows may sit above it).
        top = next((r for r in range(1, 11) if "线索编号" in [c.value for c in sheet[r]]), None)
        if top is None:
            continue
        header = [c.value for c in sheet[top]]
        for cells in sheet.iter_rows(min_row=top + 1):
            wanted = rows.get(cells[header.index("线索编号")].value)
            for column, value in (wanted or {}).items():
                cells[header.index(column)].value = value
    book.save(target)
    return target


def event_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(clue_events)).scalar()


VERIFIED = {"核实结果": "属实", "核实人": "王核实", "核实日期": dt.date(2026, 11, 25)}


# --- issuing ----------------------------------------------------------------------------------


def test_issue_moves_the_countys_new_clues_to_issued_with_rule_deadlines(settings, engine):
    [result] = issue_ledgers(engine, settings, COUNTY_A, ISSUED)
    clues = by_key(engine)
    assert result["county_code"] == "522725" and result["clues"] == 8 and result["issued_now"] == 8
    assert result["file"] == settings.data_dir / "ledgers" / "2026-11-23" / "问题台账_甲县_522725_2026-11-23.xlsx"
    assert result["file"].exists() and not list(result["file"].parent.glob(".*.tmp"))
    assert {k: c["status"] for k, c in clues.items()} == {**{f"K{n}": "issued" for n in range(1, 9)}, "K9": "new"}
    assert str(clues["K1"]["deadline"])[:10] == "2026-12-08" and str(clues["K3"]["deadline"])[:10] == "2026-12-23"
    assert str(clues["K1"]["issued_on"])[:10] == "2026-11-23"
    with engine.connect() as conn:
        issues = conn.execute(select(ledger_issues)).mappings().all()
        events = conn.execute(select(clue_events).where(clue_events.c.action == "issue")).mappings().all()
    assert [(i["county_code"], i["clues"], i["issued_by"]) for i in issues] == [("522725", 8, "county_a")]
    assert {(e["user_name"], e["role"], e["source"], e["from_status"], e["to_status"]) for e in events} == {
        ("county_a", "county", "ledger", "new", "issued")
    }
    assert len(events) == 8


def test_workbook_has_a_sheet_per_township_with_the_contract_columns(settings, engine):
    [result] = issue_ledgers(engine, settings, COUNTY_A, ISSUED, mask_ids=False)
    book = openpyxl.load_workbook(result["file"])
    assert book.sheetnames == ["填写说明", "清水镇", "河口乡", "可选原因"]
    assert book["可选原因"].sheet_state == "hidden"
    sheet = book["清水镇"]
    # Two title rows, then 序号 and the contract's columns (print layout: test_workbook_print.py).
    assert [c.value for c in sheet[3]] == ["序号", *LEDGER_COLUMNS]
    assert sheet.freeze_panes == "A4" and sheet.auto_filter.ref == "A3:U8"
    assert sheet.protection.sheet and sheet.protection.autoFilter is False  # False = filtering allowed
    assert sheet["B4"].protection.locked and not sheet["N4"].protection.locked and not sheet["U4"].protection.locked
    assert sheet["B4"].fill.fgColor.rgb != sheet["N4"].fill.fgColor.rgb
    rows = sheet_rows(result["file"], "清水镇")
    assert [r["线索编号"] for r in rows] == [clue_id(engine, k) for k in ("K1", "K4", "K5", "K2", "K6")]
    first = rows[0]
    assert first["规则"] == f"R05 {RULES['R05'].name}" and first["问题描述"] == RULES["R05"].description
    assert (first["乡镇"], first["村"], first["户编号"], first["姓名"]) == ("清水镇", "松林村", "PHK1", "学生K1")
    assert first["身份证号"] == "522725201001010001"  # a county user may ask for full numbers
    assert first["证据"] == "教育·学籍（记录 SK1）：姓名 学生K1；身份证号 522725201001010001；学籍状态 辍学"
    assert first["下发日期"] == dt.datetime(2026, 11, 23) and first["整改期限"] == dt.datetime(2026, 12, 8)
    assert all(first[c] is None for c in LEDGER_COLUMNS[12:])
    validations = {str(v.sqref): (v.type, v.formula1) for v in sheet.data_validations.dataValidation}
    assert validations["N4:N8"] == ("list", '"属实,不属实"')
    assert validations["O4:O8"] == ("list", "'可选原因'!$A$2:$A$6")  # R05's five reasons
    assert validations["Q4:Q8"][0] == validations["S4:S8"][0] == validations["U4:U8"][0] == "date"
    assert [book["可选原因"].cell(row=r, column=1).value for r in range(1, 7)] == ["R05", *RULES["R05"].dismiss_reasons]


def test_ids_are_masked_for_an_issuer_without_full_ids_or_on_request(settings, engine):
    [result] = issue_ledgers(engine, settings, COUNTY_A_MASKED, ISSUED)
    first = sheet_rows(result["file"], "清水镇")[0]
    assert result["masked"] and first["身份证号"] == "522725********0001"
    assert "身份证号 522725********0001" in first["证据"]
    with pytest.raises(BiduiError, match="无权查看完整身份证号"):
        issue_ledgers(engine, settings, COUNTY_A_MASKED, ISSUED, mask_ids=False)
    [again] = issue_ledgers(engine, settings, COUNTY_A, ISSUED)  # masked by default, even for a county
    assert again["masked"] and sheet_rows(again["file"], "清水镇")[0]["身份证号"] == "522725********0001"


def test_reissuing_the_same_county_and_date_rewrites_the_same_clues(settings, engine):
    [first] = issue_ledgers(engine, settings, COUNTY_A, ISSUED)
    before_rows, before_events = sheet_rows(first["file"], "河口乡"), event_count(engine)
    [second] = issue_ledgers(engine, settings, COUNTY_A, ISSUED)
    assert second["file"] == first["file"] and second["clues"] == 8 and second["issued_now"] == 0
    assert sheet_rows(second["file"], "河口乡") == before_rows
    assert event_count(engine) == before_events
    with engine.connect() as conn:
        issues = conn.execute(select(ledger_issues)).mappings().all()
    assert [(i["county_code"], i["issue_date"], i["clues"], i["file"]) for i in issues] == [
        ("522725", ISSUED, 8, str(first["file"]))
    ]
    assert issue_ledgers(engine, settings, COUNTY_A, ISSUED + dt.timedelta(days=1)) == []


def test_a_county_user_cannot_issue_another_countys_ledger(settings, engine):
    with pytest.raises(BiduiError, match="不在用户 county_a 的管辖范围内"):
        issue_ledgers(engine, settings, COUNTY_A, ISSUED, counties=["522726"])
    with pytest.raises(BiduiError, match="无权下发台账"):
        issue_ledgers(engine, settings, Scope("v", "village", "522725101201"), ISSUED)
    issue_ledgers(engine, settings, COUNTY_A, ISSUED)
    assert by_key(engine)["K9"]["status"] == "new"
    [b] = issue_ledgers(engine, settings, Scope.system(), ISSUED, counties=["522726"])
    assert b["county_name"] == "乙县" and b["clues"] == 1 and by_key(engine)["K9"]["status"] == "issued"


def test_a_reopened_clue_goes_down_in_the_next_ledger_once(settings, engine, tmp_path):
    [issued] = issue_ledgers(engine, settings, COUNTY_A, ISSUED)
    k1 = clue_id(engine, "K1")
    import_ledger(
        engine,
        settings,
        COUNTY_A,
        fill(
            issued["file"],
            tmp_path / "交回.xlsx",
            {
                k1: {
                    **VERIFIED,
                    "整改措施": "已劝返入学",
                    "整改完成日期": dt.date(2026, 11, 28),
                    "签字人": "李乡长",
                    "签字日期": dt.date(2026, 11, 30),
                }
            },
        ),
    )
    with engine.begin() as conn:
        apply_move(conn, load_clue(conn, k1), "approve", {}, COUNTY_A, dt.datetime(2026, 12, 1, 9))
    frame = _fired(SUBJECTS)  # fires again: the rectified clue is re-opened (issued, not new)
    runs = [
        {"rule": r, "status": "ran", "fired": int((frame["rule"] == r).sum()), "seconds": 0.1, "message": None}
        for r in ("R05", "R06")
    ]
    apply_rule_run(engine, settings, dt.date(2026, 12, 2), frame, runs, {"R05": 15, "R06": 30})
    assert by_key(engine)["K1"]["status"] == "issued"
    [later] = issue_ledgers(engine, settings, COUNTY_A, dt.date(2026, 12, 3))
    assert (later["clues"], later["issued_now"], later["carried_reopened"]) == (1, 0, 1)
    assert [r["线索编号"] for r in sheet_rows(later["file"], "清水镇")] == [k1]
    [again] = issue_ledgers(engine, settings, COUNTY_A, dt.date(2026, 12, 3))
    assert (again["clues"], again["carried_reopened"]) == (1, 0)
    assert issue_ledgers(engine, settings, COUNTY_A, dt.date(2026, 12, 4)) == []


def test_evidence_text_reads_a_list_of_sources_and_masks_id_fields():
    # The ID as some departments deliver it, with Excel's leading text marker.
    evidence = json.dumps(
        [
            {
                "feed": "hukou",
                "record_key": "HK1",
                "fields": {"hukou_state": "死亡", "name": "张三", "id_number": "'52272519900101123X"},
            },
            {"feed": "vehicles", "record_key": "贵A1", "fields": {"vehicle_type": "小型轿车", "new_field": "x", "empty": None}},
        ],
        ensure_ascii=False,
    )
    assert evidence_text(evidence) == (
        "公安·户籍人口（记录 HK1）：姓名 张三；身份证号 522725********123X；户籍人口状态 死亡\n"
        "公安交管·机动车（记录 贵A1）：车辆类型 小型轿车；new_field x"
    )


def test_masked_evidence_hides_id_numbers_in_any_form_and_any_field():
    # Spaced and full-width numbers, in a field not named like an ID field and in a record key.
    evidence = json.dumps(
        [
            {
                "feed": "hukou",
                "record_key": "522701201203166879",
                "fields": {"id_number": "522701 20120316 6879", "moved_to": "随 ５２２７２５１９９００１０１１２３４ 迁出"},
            },
        ],
        ensure_ascii=False,
    )
    assert evidence_text(evidence) == (
        "公安·户籍人口（记录 522701********6879）：身份证号 522701********6879；迁往地 随 522725********1234 迁出"
    )
    assert "522701 20120316 6879" in evidence_text(evidence, masked=False)


def test_masked_ledger_row_shows_a_spaced_id_number_masked():
    evidence = json.dumps({"feed": "hukou", "fields": {"name": "张三", "id_number": "５２２７０１ 20120316 6879"}})
    clue = {"clue_id": "R06-000001", "rule": "R06", "village_code": "522725102203", "evidence": evidence}
    values = ledger_values(clue, None, {}, {}, masked=True)
    assert (values["身份证号"], values["证据"]) == ("522701********6879", "公安·户籍人口：姓名 张三；身份证号 522701********6879")


# --- importing --------------------------------------------------------------------------------


def test_import_applies_filled_rows_and_records_the_importer(settings, engine, tmp_path):
    [issued] = issue_ledgers(engine, settings, COUNTY_A, ISSUED)
    ids = {k: clue_id(engine, k) for k in SUBJECTS}
    filled = fill(
        issued["file"],
        tmp_path / "交回.xlsx",
        {
            ids["K1"]: {
                **VERIFIED,
                "整改措施": "已劝返入学",
                "整改完成日期": dt.date(2026, 11, 28),
                "签字人": "李乡长",
                "签字日期": "2026/11/30",
            },
            ids["K2"]: {**VERIFIED, "核实结果": "不属实", "不属实原因": R05_REASON},
            ids["K3"]: VERIFIED,
        },
    )
    result = import_ledger(engine, settings, COUNTY_A, filled)
    counts = tuple(result[k] for k in ("rows", "applied", "unchanged", "blank", "rejected"))
    assert counts == (8, 3, 0, 5, 0)
    clues = by_key(engine)
    assert clues["K1"]["status"] == "signed" and clues["K1"]["signed_by"] == "李乡长"
    assert str(clues["K1"]["signed_on"])[:10] == "2026-11-30" and clues["K1"]["rectification"] == "已劝返入学"
    assert [clues["K2"][c] for c in ("status", "verdict", "dismiss_reason")] == ["rectified", "不属实", R05_REASON]
    assert (clues["K3"]["status"], clues["K3"]["verified_by"]) == ("confirmed", "王核实")
    assert clues["K4"]["status"] == "issued"
    with engine.connect() as conn:
        events = (
            conn.execute(select(clue_events).where(clue_events.c.clue_id == ids["K1"]).order_by(clue_events.c.event_id))
            .mappings()
            .all()
        )
        recorded = conn.execute(select(ledger_imports)).mappings().one()
    assert [e["action"] for e in events] == ["found", "issue", "verify", "rectify", "sign"]
    # Recorded as the people the row names, for the moves their level makes; the importer in the note.
    assert [(e["user_name"], e["role"], e["source"]) for e in events[2:]] == [
        ("王核实", "village", "ledger"),
        ("王核实", "village", "ledger"),
        ("李乡长", "township", "ledger"),
    ]
    assert {e["note"] for e in events[2:]} == {"台账 交回.xlsx「清水镇」第 4 行，由 county_a（县）导入"}
    assert (recorded["rows"], recorded["applied"], recorded["unchanged"], recorded["rejected"]) == (8, 3, 5, 0)
    assert Path(recorded["report"]) == result["report"] and result["report"].exists()
    assert result["report"].parent == settings.data_dir / "ledgers" / "imports"


def test_importing_the_same_file_twice_changes_nothing_the_second_time(settings, engine, tmp_path):
    [issued] = issue_ledgers(engine, settings, COUNTY_A, ISSUED)
    ids = {k: clue_id(engine, k) for k in SUBJECTS}
    filled = fill(
        issued["file"],
        tmp_path / "交回.xlsx",
        {
            ids["K1"]: {**VERIFIED, "整改措施": "已劝返入学", "整改完成日期": dt.date(2026, 11, 28)},
            ids["K2"]: {
                **VERIFIED,
                "核实结果": "不属实",
                "不属实原因": R05_REASON,
                "签字人": "李乡长",
                "签字日期": dt.date(2026, 11, 30),
            },
        },
    )
    import_ledger(engine, settings, COUNTY_A, filled)
    before, events = load_clues(engine), event_count(engine)
    again = import_ledger(engine, settings, COUNTY_A, filled)
    assert (again["applied"], again["unchanged"], again["blank"], again["rejected"]) == (0, 2, 6, 0)
    pd.testing.assert_frame_equal(before, load_clues(engine))
    assert event_count(engine) == events
    assert again["report"] != import_ledger(engine, settings, COUNTY_A, filled)["report"]


def test_each_bad_row_is_rejected_with_its_reason_and_changes_nothing(settings, engine, tmp_path):
    [issued] = issue_ledgers(engine, settings, COUNTY_A, ISSUED)
    ids = {k: clue_id(engine, k) for k in SUBJECTS}
    filled = fill(
        issued["file"],
        tmp_path / "交回.xlsx",
        {
            ids["K1"]: {**VERIFIED, "姓名": "别人"},
            ids["K2"]: {"核实人": "王核实", "核实日期": dt.date(2026, 11, 25)},
            ids["K3"]: {**VERIFIED, "核实结果": "是"},
            ids["K4"]: {**VERIFIED, "核实人": None},
            ids["K5"]: {**VERIFIED, "核实日期": None},
            ids["K6"]: {**VERIFIED, "核实结果": "不属实", "不属实原因": "随便写的原因"},
            ids["K7"]: {**VERIFIED, "签字人": "李乡长", "签字日期": dt.date(2026, 11, 30)},
            ids["K8"]: {**VERIFIED, "核实日期": "下周"},
        },
    )
    book = openpyxl.load_workbook(filled)  # a row of a clue that does not exist, and one of county B
    book["河口乡"].append([None, ids["K8"][:4] + "999999"] + [None] * 19)  # below the signature block
    book["河口乡"].append([None, ids["K9"]] + [None] * 19)
    book["河口乡"].append([None, ids["K3"]] + [None] * 19)
    book.save(filled)
    before, events = load_clues(engine), event_count(engine)
    result = import_ledger(engine, settings, COUNTY_A, filled)
    reasons = {r["clue_id"]: r["reason"] for r in result["rejections"][:8]}
    assert result["rejected"] == 11 and result["applied"] == 0
    assert reasons == {
        ids["K1"]: "锁定列“姓名”被改动：台账中为“别人”，下发时为“学生K1”（如线索已重新下发，请使用新台账）",
        ids["K2"]: "核实结果未填写",
        ids["K4"]: "核实人未填写",
        ids["K5"]: "核实日期未填写",
        ids["K6"]: f"不属实原因“随便写的原因”不是规则 R05 的可选原因（可选：{'、'.join(RULES['R05'].dismiss_reasons)}）",
        ids["K3"]: "核实结果“是”无效，只能是“属实”或“不属实”",
        ids["K7"]: "当前状态为“核实属实待整改”，不能执行“签字背书”",
        ids["K8"]: "核实日期“下周”不是有效日期（应为 2026-11-20 的格式）",
    }
    assert [(r["row"], r["reason"]) for r in result["rejections"][8:]] == [
        (10, "线索编号不存在，或不在您的管辖范围内"),
        (11, "线索编号不存在，或不在您的管辖范围内"),
        (12, "线索编号在本台账中重复出现（首次见于“河口乡”第 4 行）"),
    ]
    pd.testing.assert_frame_equal(before, load_clues(engine))
    assert event_count(engine) == events
    report = openpyxl.load_workbook(result["report"])["导入结果"]
    assert [report.cell(row=r, column=1).value for r in (1, 8)] == ["台账文件", "退回（未导入）"]
    assert report.cell(row=8, column=2).value == "11" and report.cell(row=11, column=4).value


def test_rejected_rows_do_not_stop_accepted_rows_and_conflicts_are_rejected(settings, engine, tmp_path):
    [issued] = issue_ledgers(engine, settings, COUNTY_A, ISSUED)
    ids = {k: clue_id(engine, k) for k in SUBJECTS}
    first = fill(issued["file"], tmp_path / "一.xlsx", {ids["K1"]: VERIFIED, ids["K2"]: {**VERIFIED, "核实结果": "是"}})
    result = import_ledger(engine, settings, COUNTY_A, first)
    assert (result["applied"], result["rejected"]) == (1, 1) and by_key(engine)["K1"]["status"] == "confirmed"
    # The same clue verified differently in a later file: the recorded verification stands.
    second = fill(issued["file"], tmp_path / "二.xlsx", {ids["K1"]: {**VERIFIED, "核实结果": "不属实", "不属实原因": R05_REASON}})
    [reason] = [r["reason"] for r in import_ledger(engine, settings, COUNTY_A, second)["rejections"]]
    assert reason == (
        "系统中已登记核实（属实，核实人 王核实，2026-11-25），与台账不一致；当前状态“核实属实待整改”，如需更改请先退回"
    )
    assert by_key(engine)["K1"]["verdict"] == "属实"


def test_a_county_user_cannot_import_another_countys_clues(settings, engine, tmp_path):
    [b] = issue_ledgers(engine, settings, Scope.system(), ISSUED, counties=["522726"])
    filled = fill(b["file"], tmp_path / "乙县.xlsx", {clue_id(engine, "K9"): VERIFIED})
    result = import_ledger(engine, settings, COUNTY_A, filled)
    assert [r["reason"] for r in result["rejections"]] == ["线索编号不存在，或不在您的管辖范围内"]
    assert by_key(engine)["K9"]["status"] == "issued"
    with pytest.raises(BiduiError, match="无权导入台账"):
        import_ledger(engine, settings, Scope("v", "village", "522726101201"), filled)
    assert import_ledger(engine, settings, COUNTY_B, filled)["applied"] == 1


def test_a_file_that_is_not_a_ledger_is_refused(settings, engine, tmp_path):
    other = tmp_path / "别的表.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["姓名", "身份证号"])
    book.save(other)
    with pytest.raises(BiduiError, match="不是问题台账"):
        import_ledger(engine, settings, COUNTY_A, other)
    with pytest.raises(BiduiError, match="不存在"):
        import_ledger(engine, settings, COUNTY_A, tmp_path / "没有.xlsx")


# --- the command line -------------------------------------------------------------------------


def test_cli_issues_and_imports_for_a_signed_in_county_user(settings, engine, tmp_path, monkeypatch):
    import typer
    from argon2 import PasswordHasher
    from typer.testing import CliRunner

    from pipelines.access import users
    from pipelines.cli import ledgers as cli_ledgers
    from pipelines.cli.ledgers import ledgers_app

    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    monkeypatch.setattr(cli_ledgers.console, "width", 300)
    users.add_user(engine, "jiaxian", "password123", "county", "522725")
    (tmp_path / "pw.txt").write_text("password123\n", encoding="utf-8")
    env = {"BIDUI_DATA_DIR": str(settings.data_dir), "BIDUI_DATABASE_URL": settings.database_url, "BIDUI_PROGRESS": "0"}
    app = typer.Typer()
    app.add_typer(ledgers_app, name="ledgers")
    sign_in = ["--user", "jiaxian", "--password-file", str(tmp_path / "pw.txt")]

    issued = CliRunner().invoke(app, ["ledgers", "issue", "--date", "2026-11-23", *sign_in], env=env)
    assert issued.exit_code == 0, issued.output
    assert "甲县（522725）：台账 8 条线索，2 个乡镇，身份证号已脱敏" in issued.output
    ledger = settings.data_dir / "ledgers" / "2026-11-23" / "问题台账_甲县_522725_2026-11-23.xlsx"
    filled = fill(ledger, tmp_path / "交回.xlsx", {clue_id(engine, "K1"): VERIFIED, clue_id(engine, "K2"): {"核实结果": "是"}})
    imported = CliRunner().invoke(app, ["ledgers", "import", str(filled), *sign_in], env=env)
    assert imported.exit_code == 0, imported.output
    assert "共 8 行，已导入 1 行，无变化 0 行，未填写 6 行，退回 1 行" in imported.output
    assert f"退回：“清水镇”第 7 行 {clue_id(engine, 'K2')}：核实结果“是”无效" in imported.output
    assert "导入报告：" in imported.output
    refused = CliRunner().invoke(app, ["ledgers", "issue", "--county", "522726", *sign_in], env=env)
    assert refused.exit_code == 1 and "不在用户 jiaxian 的管辖范围内" in refused.output
