"""Overdue reminders (`bidui remind`, the weekly DAG's function) and the ledger workbook's overdue
highlighting, on the site sample (tests/pipelines/web/site_sample.py): 瓮安县's four clues issued on
2026-11-20 (R05 due 2026-12-05, R06 and R13 due 2026-12-20), 都匀市's two still 'new'."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from pipelines import store
from pipelines.access import Scope
from pipelines.cli import main as cli_module
from pipelines.cli.main import app
from pipelines.clues.life import SYSTEM, load_clue
from pipelines.clues.moves import apply_move
from pipelines.documents import remind_overdue, run_weekly_reminders
from pipelines.errors import BiduiError
from pipelines.ledgers import import_ledger, issue_ledgers
from pipelines.ledgers.workbook import LEDGER_COLUMNS
from pipelines.rules import load_rules
from pipelines.store.tables import clues

SAMPLE_MODULE = "bidui_tests_site_sample"  # shared with tests/pipelines/web/conftest.py
RULES = {r.code: r.name for r in load_rules()}
QIAOTOU = "522725102203"  # 桥头村, 牛联镇, 瓮安县
ZHANG, LI, WANG, ZHAO, QIAN = (
    "522725201003031211",
    "522725200805051233",
    "522725195503031214",
    "522725196012121236",
    "522701200901011219",
)


def _site_sample():
    if SAMPLE_MODULE not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "web" / "site_sample.py"
        spec = importlib.util.spec_from_file_location(SAMPLE_MODULE, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[SAMPLE_MODULE] = module
        spec.loader.exec_module(module)
    return sys.modules[SAMPLE_MODULE]


@pytest.fixture
def sample(settings, cheap_passwords):
    """The site sample (SQLite and PostgreSQL), with 都匀市's clues issued on 2026-11-25 (R05-000003 due 2026-12-10,
    R06-000002 due 2026-12-25) and 瓮安县's R13-000001 moved to 桥头村 in 牛联镇, a second township."""
    _site_sample().build_site_store(settings)
    engine = store.connect(settings)
    issue_ledgers(engine, settings, Scope.system(), dt.date(2026, 11, 25), counties=["522701"])
    with engine.begin() as conn:
        conn.execute(update(clues).where(clues.c.clue_id == "R13-000001").values(village_code=QIAOTOU))
    return settings


def _masked(id_number: str) -> str:
    return id_number[:6] + "*" * 8 + id_number[-4:]


def _sheets(path: Path) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(path)
    return {sheet.title: [tuple(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets}


def _move(engine, clue_id: str, action: str, fields: dict, day: dt.date) -> None:
    with engine.begin() as conn:
        apply_move(conn, load_clue(conn, clue_id), action, fields, SYSTEM, dt.datetime.combine(day, dt.time(9)))


def test_every_county_gets_its_overdue_list_longest_overdue_first(sample):
    reminders = remind_overdue(store.connect(sample), sample, Scope.system(), dt.date(2026, 12, 21))

    folder = sample.data_dir / "reminders" / "2026-12-21"
    assert [(r.county_code, r.clues, r.most_days, r.townships, r.file) for r in reminders] == [
        ("522701", 1, 11, {"清湾镇": 1}, folder / "逾期线索_都匀市_522701_2026-12-21.xlsx"),
        ("522725", 4, 16, {"新井镇": 3, "牛联镇": 1}, folder / "逾期线索_瓮安县_522725_2026-12-21.xlsx"),
    ]
    sheets = _sheets(reminders[1].file)
    assert list(sheets) == ["逾期线索", "按乡镇统计"]
    heading = "瓮安县（522725）逾期问题线索提醒清单"
    counted = "统计日期：2026-12-21　逾期线索 4 条（已过整改期限、尚未销号），涉及 2 个乡镇，最长逾期 16 天"
    assert [row[0] for row in sheets["逾期线索"][:2]] == [heading, counted]
    assert sheets["逾期线索"][3:] == [
        (
            "线索编号",
            "规则",
            "乡镇",
            "村",
            "姓名",
            "身份证号",
            "核实部门",
            "状态",
            "下发日期",
            "整改期限",
            "逾期天数",
            "重开次数",
        ),
        (
            "R05-000001",
            f"R05 {RULES['R05']}",
            "新井镇",
            "太沟村",
            "张三",
            _masked(ZHANG),
            "教育",
            "已下发待核实",
            "2026-11-20",
            "2026-12-05",
            16,
            0,
        ),
        (
            "R05-000002",
            f"R05 {RULES['R05']}",
            "新井镇",
            "太沟村",
            "李四",
            _masked(LI),
            "教育",
            "已下发待核实",
            "2026-11-20",
            "2026-12-05",
            16,
            0,
        ),
        (
            "R06-000001",
            f"R06 {RULES['R06']}",
            "新井镇",
            "者板村",
            "王五",
            _masked(WANG),
            "医保",
            "已下发待核实",
            "2026-11-20",
            "2026-12-20",
            1,
            0,
        ),
        (
            "R13-000001",
            f"R13 {RULES['R13']}",
            "牛联镇",
            "桥头村",
            "赵六",
            _masked(ZHAO),
            "公安 + 乡镇",
            "已下发待核实",
            "2026-11-20",
            "2026-12-20",
            1,
            0,
        ),
    ]
    assert sheets["按乡镇统计"][2:] == [
        ("乡镇", "乡镇代码", "逾期线索数", "最长逾期天数"),
        ("新井镇", "522725101", 3, 16),
        ("牛联镇", "522725102", 1, 1),
    ]
    duyun = _sheets(reminders[0].file)["逾期线索"]
    assert duyun[4:] == [
        (
            "R05-000003",
            f"R05 {RULES['R05']}",
            "清湾镇",
            "松林村",
            "钱七",
            _masked(QIAN),
            "教育",
            "已下发待核实",
            "2026-11-25",
            "2026-12-10",
            11,
            0,
        )
    ]


def test_only_open_clues_past_their_deadline_count(sample):
    engine = store.connect(sample)
    # Verified 不属实, awaiting the township's signature: still open.
    _move(
        engine,
        "R05-000002",
        "verify",
        {"verdict": "不属实", "dismiss_reason": "其他", "verified_by": "甲", "verified_on": dt.date(2026, 12, 1)},
        dt.date(2026, 12, 1),
    )
    # Closed: no longer anybody's to act on.
    _move(
        engine,
        "R05-000001",
        "verify",
        {"verdict": "不属实", "dismiss_reason": "其他", "verified_by": "甲", "verified_on": dt.date(2026, 12, 1)},
        dt.date(2026, 12, 1),
    )
    _move(engine, "R05-000001", "sign", {"signed_by": "乙", "signed_on": dt.date(2026, 12, 2)}, dt.date(2026, 12, 2))
    _move(engine, "R05-000001", "approve", {}, dt.date(2026, 12, 3))

    reminders = remind_overdue(engine, sample, Scope.system(), "2026-12-07")

    # 都匀市's R05 is due 2026-12-10 and 瓮安县's R06, R13 2026-12-20: not yet overdue; 2026-12-05 is.
    assert [(r.county_code, r.clues) for r in reminders] == [("522725", 1)]
    rows = _sheets(reminders[0].file)["逾期线索"][4:]
    assert [(row[0], row[7], row[10]) for row in rows] == [("R05-000002", "待乡镇签字", 2)]
    assert sorted(p.name for p in (sample.data_dir / "reminders" / "2026-12-07").iterdir()) == [
        "逾期线索_瓮安县_522725_2026-12-07.xlsx"
    ]


def test_a_clue_is_overdue_from_the_day_after_its_deadline(sample):
    engine = store.connect(sample)

    on_the_day = remind_overdue(engine, sample, Scope.system(), dt.date(2026, 12, 5))
    day_after = remind_overdue(engine, sample, Scope.system(), dt.date(2026, 12, 6))

    assert on_the_day == []
    assert [(r.county_code, r.clues, r.most_days) for r in day_after] == [("522725", 2, 1)]


def test_a_county_that_caught_up_gets_no_file_and_loses_the_days_old_one(sample):
    engine = store.connect(sample)
    first = remind_overdue(engine, sample, Scope.system(), dt.date(2026, 12, 7))
    assert [r.file.name for r in first] == ["逾期线索_瓮安县_522725_2026-12-07.xlsx"]
    for clue_id in ("R05-000001", "R05-000002"):
        _move(
            engine,
            clue_id,
            "verify",
            {"verdict": "不属实", "dismiss_reason": "其他", "verified_by": "甲", "verified_on": dt.date(2026, 12, 6)},
            dt.date(2026, 12, 6),
        )
        _move(engine, clue_id, "sign", {"signed_by": "乙", "signed_on": dt.date(2026, 12, 6)}, dt.date(2026, 12, 6))
        _move(engine, clue_id, "approve", {}, dt.date(2026, 12, 6))

    assert remind_overdue(engine, sample, Scope.system(), dt.date(2026, 12, 7)) == []
    assert list((sample.data_dir / "reminders" / "2026-12-07").iterdir()) == []


def test_a_county_user_gets_its_own_county_and_full_ids_only_when_asked(sample):
    engine = store.connect(sample)
    wengan = Scope("wengan", "county", "522725", full_ids=True)

    masked = remind_overdue(engine, sample, wengan, dt.date(2026, 12, 21), out_dir=sample.data_dir / "masked")
    full = remind_overdue(engine, sample, wengan, dt.date(2026, 12, 21), out_dir=sample.data_dir / "full", mask_ids=False)

    assert [(r.county_code, r.masked) for r in masked + full] == [("522725", True), ("522725", False)]
    assert [row[5] for row in _sheets(masked[0].file)["逾期线索"][4:]] == [_masked(i) for i in (ZHANG, LI, WANG, ZHAO)]
    assert [row[5] for row in _sheets(full[0].file)["逾期线索"][4:]] == [ZHANG, LI, WANG, ZHAO]
    assert (
        _sheets(full[0].file)["逾期线索"][2][0]
        == "按逾期天数从多到少排列；请督促各乡镇、核实部门尽快核实整改。本清单含完整身份证号，请妥善保管，不得外传。"
    )


@pytest.mark.parametrize(
    ("scope", "message"),
    [
        (Scope("wengan", "county", "522725", full_ids=False), "无权查看完整身份证号"),
        (Scope("xinjing", "township", "522725101"), "无权生成逾期提醒"),
        (Scope("auditor", "auditor", "5227"), "无权生成逾期提醒"),
    ],
)
def test_who_may_not_make_the_lists(sample, scope, message):
    with pytest.raises(BiduiError, match=message):
        remind_overdue(store.connect(sample), sample, scope, dt.date(2026, 12, 21), mask_ids=False)
    assert not (sample.data_dir / "reminders").exists()


def test_the_weekly_task_writes_every_county_as_the_system(sample):
    result = run_weekly_reminders(sample, "2026-12-21")

    assert {k: result[k] for k in ("date", "counties", "clues")} == {"date": "2026-12-21", "counties": 2, "clues": 5}
    assert [(f["county_code"], f["clues"], f["masked"], Path(f["file"]).is_file()) for f in result["files"]] == [
        ("522701", 1, True, True),
        ("522725", 4, True, True),
    ]


def _cli(settings, monkeypatch, tmp_path):
    monkeypatch.setattr(cli_module.console, "width", 300)
    password_file = tmp_path / "password.txt"
    password_file.write_text(_site_sample().SITE_PASSWORD + "\n", encoding="utf-8")
    env = {"BIDUI_DATA_DIR": str(settings.data_dir), "BIDUI_DATABASE_URL": settings.database_url, "BIDUI_PROGRESS": "0"}

    def invoke(*args: str):
        return CliRunner().invoke(app, ["remind", *args, "--password-file", str(password_file)], env=env)

    return invoke


def test_the_cli_writes_the_signed_in_users_counties(sample, monkeypatch, tmp_path):
    invoke = _cli(sample, monkeypatch, tmp_path)

    officer = invoke("--date", "2026-12-21", "--user", "officer")
    county = invoke("--date", "2026-12-21", "--user", "duyun", "--out", str(tmp_path / "duyun"))

    assert officer.exit_code == 0, officer.output
    assert "瓮安县（522725）：逾期线索 4 条，最长逾期 16 天；新井镇 3 条、牛联镇 1 条；身份证号已脱敏" in officer.output
    assert "都匀市（522701）：逾期线索 1 条，最长逾期 11 天；清湾镇 1 条；身份证号已脱敏" in officer.output
    assert "共 2 个县有逾期线索，合计 5 条" in officer.output
    assert sorted(p.name for p in (sample.data_dir / "reminders" / "2026-12-21").iterdir()) == [
        "逾期线索_瓮安县_522725_2026-12-21.xlsx",
        "逾期线索_都匀市_522701_2026-12-21.xlsx",
    ]
    assert county.exit_code == 0, county.output
    assert [p.name for p in (tmp_path / "duyun").iterdir()] == ["逾期线索_都匀市_522701_2026-12-21.xlsx"]


def test_the_cli_says_so_when_nothing_is_overdue_and_refuses_in_chinese(sample, monkeypatch, tmp_path):
    invoke = _cli(sample, monkeypatch, tmp_path)

    nothing = invoke("--date", "2026-12-01", "--user", "wengan")
    township = invoke("--date", "2026-12-21", "--user", "xinjing")
    no_user = invoke("--date", "2026-12-21")
    bad_date = invoke("--date", "20261221", "--user", "wengan")

    assert (nothing.exit_code, nothing.output.strip()) == (0, "2026-12-01：管辖范围内没有逾期线索，未生成清单。")
    assert township.exit_code == 1 and "无权生成逾期提醒" in township.output
    assert no_user.exit_code == 1 and "生成逾期提醒须先登录" in no_user.output
    assert bad_date.exit_code == 1 and "统计日期“20261221”格式不对" in bad_date.output
    assert not (sample.data_dir / "reminders").exists()


# --- the ledger workbook ----------------------------------------------------------------------


def test_an_overdue_ledger_row_is_red_and_its_deadline_says_so(sample):
    engine = store.connect(sample)
    # Sent back after a 不属实 verification, a clue goes out again with its old deadline.
    for clue_id in ("R05-000001", "R06-000001"):
        _move(
            engine,
            clue_id,
            "verify",
            {"verdict": "不属实", "dismiss_reason": "其他", "verified_by": "甲", "verified_on": dt.date(2026, 12, 1)},
            dt.date(2026, 12, 1),
        )
        _move(engine, clue_id, "send_back", {"note": "核实依据不足"}, dt.date(2026, 12, 2))

    [issued] = issue_ledgers(engine, sample, Scope.system(), dt.date(2026, 12, 7), counties=["522725"])

    book = openpyxl.load_workbook(issued["file"])
    sheet = book["新井镇"]
    header = [c.value for c in sheet[3]]
    deadline, rule, verdict = header.index("整改期限") + 1, header.index("规则") + 1, header.index("核实结果") + 1
    assert [sheet.cell(r, 2).value for r in (4, 5)] == ["R05-000001", "R06-000001"]
    late, on_time = 4, 5
    assert sheet.cell(late, deadline).value == dt.datetime(2026, 12, 5)  # the date itself, as the import reads it
    assert sheet.cell(late, deadline).number_format == 'yyyy-mm-dd" 已逾期"'
    assert sheet.cell(on_time, deadline).number_format == "yyyy-mm-dd"
    assert [sheet.cell(late, c).fill.fgColor.rgb for c in (1, rule, deadline)] == ["FFF8CBAD"] * 3
    assert [sheet.cell(on_time, c).fill.fgColor.rgb for c in (1, rule, deadline)] == ["FFEDEDED"] * 3
    # The columns the township fills in stay yellow on both rows.
    assert [sheet.cell(r, verdict).fill.fgColor.rgb for r in (late, on_time)] == ["FFFFF2CC"] * 2
    assert "其中已逾期 1 条（红色行）" in sheet.cell(2, 1).value
    assert header[1:] == LEDGER_COLUMNS  # the contract's columns, unchanged
    guide = [row[0] for row in book["填写说明"].iter_rows(values_only=True)]
    assert "其中 1 条已超过整改期限仍未销号（已逾期）：整行标红，整改期限后注明“已逾期”，请优先核实整改。" in guide
    # The highlighting is format only: the returned file is read as before, nothing rejected.
    result = import_ledger(engine, sample, Scope.system(), issued["file"])
    assert (result["rows"], result["rejected"], result["blank"]) == (2, 0, 2)
