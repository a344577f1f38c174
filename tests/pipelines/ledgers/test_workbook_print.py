"""The ledger as people print and sign it (pipelines.ledgers.workbook): A4 landscape, one page wide,
the header repeated on every page, 序号, a title and a 填报单位/签字/盖章 block; and evidence that
reads in Chinese for every rule (pipelines.ledgers.values.evidence_text)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import re
import sys
from pathlib import Path

import openpyxl
import pytest

from pipelines import store
from pipelines.clues.life import load_clues
from pipelines.ledgers.values import evidence_text
from pipelines.ledgers.workbook import LEDGER_COLUMNS, write_ledger_workbook
from pipelines.night import run_night
from pipelines.rules.run import load_rules, run_rules
from pipelines.standardise.ids import STATUSES

RULES = {r.code: r for r in load_rules()}
ISSUED = dt.date(2026, 11, 20)
SEED = Path(__file__).resolve().parents[3] / "seeds" / "demo" / "2026-11-20"
LONG_EVIDENCE = "教育·学籍（记录 S1）：" + "；".join(["姓名 张三", "学籍状态 辍学", "学校 清水镇中心学校"] * 4)


def _row(n: int, rule: str, township: str, **values) -> dict:
    row = dict.fromkeys(LEDGER_COLUMNS, "")
    row.update(
        {
            "线索编号": f"{rule}-{n:06d}",
            "规则": f"{rule} {RULES[rule].name}",
            "问题描述": RULES[rule].description,
            "乡镇": "清水镇" if township == "522725101" else "河口乡",
            "村": "松林村",
            "户编号": f"PH{n}",
            "姓名": f"学生{n}",
            "身份证号": "522725********0001",
            "证据": "教育·学籍（记录 S1）：姓名 张三；学籍状态 辍学",
            "核实部门": RULES[rule].department,
            "下发日期": ISSUED,
            "整改期限": ISSUED + dt.timedelta(days=15),
        }
    )
    row.update(values, _township=township, _village=township + "201", _rule=rule)
    for column in ("整改完成日期", "核实日期", "签字日期"):
        row[column] = None
    return row


@pytest.fixture
def book(tmp_path) -> openpyxl.Workbook:
    rows = [
        _row(1, "R05", "522725101", 证据=LONG_EVIDENCE),
        _row(2, "R05", "522725101", 姓名="=HYPERLINK(1)"),
        _row(3, "R06", "522725101"),
        _row(4, "R06", "522725102"),
    ]
    path = tmp_path / "台账.xlsx"
    sheets = write_ledger_workbook(path, "甲县", ISSUED, rows, {"522725101": "清水镇", "522725102": "河口乡"}, RULES, True)
    assert sheets == ["清水镇", "河口乡"]
    return openpyxl.load_workbook(path)


def _prints_a4_landscape_one_page_wide(sheet) -> None:
    setup = sheet.page_setup
    # fitToWidth left out means 1 (OOXML default); fitToHeight 0 means as many pages tall as needed.
    assert (setup.orientation, int(setup.paperSize), int(setup.fitToWidth or 1), int(setup.fitToHeight)) == ("landscape", 9, 1, 0)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage is True


def test_township_sheets_print_a4_landscape_one_page_wide_with_the_header_on_every_page(book):
    for name, count in (("清水镇", 3), ("河口乡", 1)):
        sheet = book[name]
        _prints_a4_landscape_one_page_wide(sheet)
        assert sheet.print_title_rows == "$3:$3"
        assert sheet.print_area == f"'{name}'!$A$1:$U${3 + count + 3}"
        assert sheet.freeze_panes == "A4" and sheet.auto_filter.ref == f"A3:U{3 + count}"
        assert sheet.oddFooter.center.text == "第 &P 页，共 &N 页"


def test_township_sheet_has_a_title_serial_numbers_and_the_contract_header(book):
    sheet = book["清水镇"]
    assert sheet["A1"].value == "甲县 清水镇 问题线索核实台账（下发日期 2026-11-20）"
    assert "A1:U1" in {str(m) for m in sheet.merged_cells.ranges}
    assert [c.value for c in sheet[3]] == ["序号", *LEDGER_COLUMNS]
    assert [sheet.cell(row=r, column=1).value for r in (4, 5, 6)] == [1, 2, 3]
    assert [sheet.cell(row=r, column=2).value for r in (4, 5, 6)] == ["R05-000001", "R05-000002", "R06-000003"]
    # Formula-looking text stays text; the fill-in columns stay open, the rest locked.
    assert sheet["H5"].value == "=HYPERLINK(1)" and sheet["H5"].data_type == "s"
    assert sheet["B4"].protection.locked and not sheet["N4"].protection.locked and not sheet["U4"].protection.locked
    assert sheet.protection.sheet and sheet.protection.autoFilter is False


def test_signature_block_below_the_data_has_no_clue_id(book):
    sheet = book["河口乡"]
    assert sheet["A4"].value == 1 and sheet["B4"].value == "R06-000004"
    assert [sheet.cell(row=r, column=2).value for r in range(5, 8)] == [None, None, None]
    assert [sheet.cell(row=6, column=c).value for c in (1, 12)] == ["填报单位（盖章）：", "核实人签字："]
    assert [sheet.cell(row=7, column=c).value for c in (1, 12)] == ["乡镇负责人签字：", "日期：        年    月    日"]
    assert {"A6:K6", "L6:U6", "A7:K7", "L7:U7"} <= {str(m) for m in sheet.merged_cells.ranges}
    assert (sheet.row_dimensions[6].height, sheet.row_dimensions[7].height) == (48, 48)
    assert sheet["N5"].border.left.style is None  # the gap row is not a table row


def test_evidence_and_description_wrap_in_rows_tall_enough_to_print(book):
    sheet = book["清水镇"]
    header = [c.value for c in sheet[3]]
    evidence, description = header.index("证据") + 1, header.index("问题描述") + 1
    assert sheet.cell(row=4, column=evidence).alignment.wrap_text
    assert sheet.cell(row=4, column=description).alignment.wrap_text
    assert sheet.column_dimensions["J"].width == pytest.approx(34.71, abs=0.01)  # xlsxwriter adds padding to 34
    # LONG_EVIDENCE: 200 width units (a CJK character is 2) at 32 a line → 7 lines of 14 points.
    assert sheet.row_dimensions[4].height == 7 * 14 + 4
    # R06's description: 74 units at 20 a line (width 22) → 4 lines, more than its evidence needs.
    assert sheet.row_dimensions[6].height == 4 * 14 + 4


def test_validations_cover_the_data_rows_under_the_title(book):
    sheet = book["清水镇"]
    validations = {str(v.sqref): (v.type, v.formula1) for v in sheet.data_validations.dataValidation}
    assert validations["N4:N6"] == ("list", '"属实,不属实"')
    assert validations["O4:O5"] == ("list", "'可选原因'!$A$2:$A$6")  # R05's reasons
    assert validations["O6"] == ("list", "'可选原因'!$B$2:$B$6")  # R06's reasons
    assert validations["Q4:Q6"][0] == validations["S4:S6"][0] == validations["U4:U6"][0] == "date"


def test_instructions_sheet_prints_on_one_page_width(book):
    sheet = book["填写说明"]
    _prints_a4_landscape_one_page_wide(sheet)
    assert sheet["A1"].value == "甲县问题线索核实台账（下发日期 2026-11-20）"
    assert sheet["A1"].alignment.wrap_text and sheet["A3"].alignment.wrap_text


# --- evidence in Chinese ----------------------------------------------------------------------

# A word of two or more letters only is an English code. Letters mixed with digits are record
# formats (WF5227012023000034, 贵JK4Z3M), an Excel-mangled ID keeps its E (5.2272**********E+17),
# and a single letter is a grade as departments write it (危房等级 C).
_TOKENS = re.compile(r"[A-Za-z0-9_.*+-]+")


def english_words(text: str) -> set[str]:
    return {t for t in _TOKENS.findall(text) if len(re.findall(r"[A-Za-z]", t)) > 1 and not re.search(r"[0-9]", t)}


def test_every_id_problem_reads_in_chinese():
    for status in STATUSES:
        evidence = {"feed": "poverty_members", "record_key": "M1", "fields": {"name": "张三", "id_status": status}}
        text = evidence_text(json.dumps(evidence, ensure_ascii=False))
        assert text.startswith("扶贫·家庭成员（记录 M1）：姓名 张三；身份证号问题 ") and english_words(text) == set(), text


def test_every_shipped_evidence_field_has_a_chinese_label():
    for rule in RULES.values():
        evidence = {"feed": "poverty_members", "record_key": "M1", "fields": dict.fromkeys(rule.evidence, "1")}
        assert english_words(evidence_text(json.dumps(evidence))) == set(), rule.code


def _rule_tests():
    # The hand-made night of test_rules.py (importlib mode: no test folder on sys.path).
    name = "bidui_tests_rules"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).parents[1] / "rules" / "test_rules.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def test_r06_evidence_names_the_insurance_year_it_checked(sqlite_settings):
    night = _rule_tests().base_night()
    night.member("P3", "PM3", insured=False)
    night.insurance("P3", "2025")
    run = run_rules(night.write(sqlite_settings), sqlite_settings, dt.date(2026, 11, 20), [RULES["R06"]])
    [evidence] = run.fired["evidence"]
    assert evidence_text(evidence).split("：", 1)[1].split("；")[2:] == [
        "建档立卡登记参保 是",
        "未见正常参保记录的年度 2026",
        "医保参保记录数 1",
        "最近参保年度 2025",
        "最近参保状态 正常参保",
    ]


@pytest.mark.slow
def test_the_evidence_of_every_rules_demo_clues_reads_in_chinese(sqlite_settings):
    night = run_night(sqlite_settings, SEED)
    clues = load_clues(store.connect(sqlite_settings))
    assert night.clue_error is None and sorted(set(clues["rule"])) == sorted(RULES)
    found = {
        (rule, word)
        for rule, evidence in zip(clues["rule"], clues["evidence"])
        for word in english_words(evidence_text(evidence))
    }
    assert found == set()
