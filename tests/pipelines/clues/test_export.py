"""`export_clues` and `bidui export clues`: the .xlsx for people (Chinese headers and status words,
clue number, names, keys as text) and the .csv for machines (codes), both in the user's scope, no
cell able to run as a formula."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pandas as pd
import pytest
from argon2 import PasswordHasher
from openpyxl import load_workbook
from sqlalchemy import insert
from typer.testing import CliRunner

from pipelines import store
from pipelines.access import Scope, users
from pipelines.access.users import add_user
from pipelines.cli import clues as cli_clues
from pipelines.cli import main as cli_module
from pipelines.cli.main import app
from pipelines.clues import export_clues
from pipelines.clues.life import FIRED_COLUMNS, apply_rule_run
from pipelines.errors import BiduiError
from pipelines.store.tables import persons

PASSWORD = "secret-2026"
VILLAGE_A, VILLAGE_B = "522725102203", "522701101216"
KEY_18 = "522725102203000120"  # a record key of 18 digits: Excel would show 5.22725E+17


@pytest.fixture
def clues_store(sqlite_settings):
    settings = sqlite_settings
    engine = store.connect(settings)
    fired = pd.DataFrame(
        [
            {
                "rule": "R06",
                "subject_feed": "poverty_members",
                "subject_key": key,
                "person_id": person,
                "household_code": None,
                "household_no": "H" + key[:4],
                "village_code": village,
                "department": "医保",
                "evidence": json.dumps({"feed": "poverty_members", "record_key": key, "fields": {}}),
            }
            for key, person, village in [
                (KEY_18, "P000000001", VILLAGE_A),
                ('=HYPERLINK("http://evil","点我")', "P000000002", VILLAGE_A),
                ("PB1", None, VILLAGE_B),
            ]
        ],
        columns=FIRED_COLUMNS,
    )
    apply_rule_run(engine, settings, dt.date(2026, 11, 20), fired, [{"rule": "R06", "status": "ran", "fired": 3}], {"R06": 30})
    day = dt.date(2026, 11, 20)
    with engine.begin() as conn:
        conn.execute(
            insert(persons),
            [
                {
                    "person_id": "P000000001",
                    "name": "张三",
                    "id_number": "522725199001011234",
                    "first_seen": day,
                    "last_seen": day,
                },
                {"person_id": "P000000002", "name": "李四", "id_number": None, "first_seen": day, "last_seen": day},
            ],
        )
    regions = pd.DataFrame(
        [
            {"code": "522701000000", "name": "都匀市", "level": "county"},
            {"code": "522725000000", "name": "瓮安县", "level": "county"},
            {"code": "522725102000", "name": "猴场镇", "level": "township"},
            {"code": VILLAGE_A, "name": "尚礼村", "level": "village"},
        ]
    )
    store.replace_region_reference(engine, regions, "test")
    return settings


COUNTY_A = Scope("county_a", "county", "522725", full_ids=True)


def test_xlsx_speaks_chinese_and_keeps_keys_as_text(clues_store, tmp_path):
    out = tmp_path / "线索.xlsx"
    assert export_clues(clues_store, out, COUNTY_A) == {"path": str(out.resolve()), "rows": 2}
    sheet = load_workbook(out).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == [
        "线索编号", "规则", "规则名称", "状态", "乡镇", "村", "户编号", "姓名", "身份证号", "人员编号",
        "对象数据项", "对象记录编号", "核实部门", "首次发现", "最近发现", "重开次数", "整改期限",
    ]  # fmt: skip
    assert rows[1] == [
        "R06-000001", "R06", "未参加基本医保", "待下发", "猴场镇", "尚礼村", "H5227", "张三", "522725199001011234",
        "P000000001", "扶贫·家庭成员", KEY_18, "医保", "2026-11-20", "2026-11-20", 0, None,
    ]  # fmt: skip
    assert rows[2][0] == "R06-000002" and rows[2][7] == "李四"
    assert rows[2][11] == '=HYPERLINK("http://evil","点我")' and sheet["L3"].quotePrefix  # stays text
    assert sheet["L2"].data_type == "s" and sheet["I2"].data_type == "s"
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:Q3"


def test_xlsx_masks_id_numbers_below_county_level(clues_store, tmp_path):
    out = tmp_path / "x.xlsx"
    export_clues(clues_store, out, Scope("t", "township", "522725102", full_ids=False))
    rows = [[c.value for c in row] for row in load_workbook(out).active.iter_rows()]
    assert rows[1][8] == "522725********1234"


def test_csv_keeps_the_machine_columns_and_codes(clues_store, tmp_path):
    out = tmp_path / "clues.csv"
    assert export_clues(clues_store, out, COUNTY_A)["rows"] == 2
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == [
        "rule", "subject_feed", "subject_key", "person_id", "household_no", "village_code",
        "status", "first_seen", "last_seen", "reopen_count", "deadline",
    ]  # fmt: skip
    assert rows[1] == [
        "R06",
        "poverty_members",
        KEY_18,
        "P000000001",
        "H5227",
        VILLAGE_A,
        "new",
        "2026-11-20",
        "2026-11-20",
        "0",
        "",
    ]
    assert rows[2][2] == '\'=HYPERLINK("http://evil","点我")'


def test_an_unknown_file_kind_is_a_clear_error(clues_store, tmp_path):
    with pytest.raises(BiduiError, match=r"\.xlsx.*\.csv"):
        export_clues(clues_store, tmp_path / "x.txt", COUNTY_A)


def _cli(settings, tmp_path, monkeypatch):
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    add_user(store.connect(settings), "county_b", PASSWORD, "county", "522701")
    secret = tmp_path / "pw.txt"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    monkeypatch.setattr(cli_module.console, "width", 200)
    env = {"BIDUI_DATA_DIR": str(settings.data_dir), "BIDUI_DATABASE_URL": settings.database_url, "BIDUI_PROGRESS": "0"}
    return lambda *args: CliRunner().invoke(app, list(args), env=env), secret


def test_cli_export_clues_requires_a_user(clues_store, tmp_path, monkeypatch):
    invoke, secret = _cli(clues_store, tmp_path, monkeypatch)
    out = tmp_path / "all.csv"
    refused = invoke("export", "clues", "--out", str(out))
    assert refused.exit_code == 2 and "--user" in refused.output and not out.exists()
    done = invoke("export", "clues", "--out", str(tmp_path / "b.xlsx"), "--user", "county_b", "--password-file", str(secret))
    assert done.exit_code == 0, done.output
    assert [r[0].value for r in load_workbook(tmp_path / "b.xlsx").active.iter_rows()] == ["线索编号", "R06-000003"]


def test_clue_list_shows_names_not_codes(clues_store, tmp_path, monkeypatch):
    invoke, secret = _cli(clues_store, tmp_path, monkeypatch)
    add_user(store.connect(clues_store), "township_a", PASSWORD, "township", "522725102")
    monkeypatch.setattr(cli_clues.console, "width", 200)
    result = invoke("clue", "list", "--user", "township_a", "--password-file", str(secret))
    assert result.exit_code == 0, result.output
    lines = [" ".join(line.replace("│", " ").replace("┃", " ").split()) for line in result.output.splitlines()]
    assert "线索编号 规则 村 人员 状态 整改期限 重开" in lines
    assert "R06-000001 R06 未参加基本医保 猴场镇尚礼村 张三 待下发 0" in lines
