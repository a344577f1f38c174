"""`bidui clue …` and `bidui export clues` for signed-in users: the whole sign-off chain without Excel,
and region scope on every read, export and move."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re

import pandas as pd
import pytest
from argon2 import PasswordHasher
from sqlalchemy import update
from typer.testing import CliRunner

from pipelines import store
from pipelines.access import users
from pipelines.access.users import add_user
from pipelines.cli import clues as cli_clues
from pipelines.cli import main as cli_module
from pipelines.cli.main import app
from pipelines.clues.life import FIRED_COLUMNS, SYSTEM, apply_rule_run, load_clue, load_clue_events
from pipelines.clues.moves import apply_move
from pipelines.store.tables import clues

PASSWORD = "secret-2026"
VILLAGE_A, VILLAGE_B = "522725102203", "522701101216"


def _fired() -> pd.DataFrame:
    rows = [
        ("R06", "PA1", VILLAGE_A, "医保"),
        ("R06", "PA2", VILLAGE_A, "医保"),
        ("R06", "PB1", VILLAGE_B, "医保"),
    ]
    return pd.DataFrame(
        [
            {
                "rule": rule,
                "subject_feed": "poverty_members",
                "subject_key": key,
                "person_id": None,
                "household_code": None,
                "household_no": "H" + key,
                "village_code": village,
                "department": dept,
                "evidence": json.dumps(
                    {"feed": "poverty_members", "record_key": key, "fields": {"name": "张三", "id_number": "522725199001011234"}},
                    ensure_ascii=False,
                ),
            }
            for rule, key, village, dept in rows
        ],
        columns=FIRED_COLUMNS,
    )


@pytest.fixture
def chain(sqlite_settings, tmp_path, monkeypatch):
    """Three issued clues (two in county 522725, one in 522701) and a user per level."""
    # Cheap hashing parameters: six users and a sign-in per command would otherwise cost seconds.
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    settings = sqlite_settings
    engine = store.connect(settings)
    day = dt.date(2026, 11, 20)
    apply_rule_run(engine, settings, day, _fired(), [{"rule": "R06", "status": "ran", "fired": 3}], {"R06": 30})
    with engine.begin() as conn:
        for clue_id in ("R06-000001", "R06-000002", "R06-000003"):
            apply_move(conn, load_clue(conn, clue_id), "issue", {}, SYSTEM, dt.datetime(2026, 11, 21, 8))
    for name, role, region in [
        ("village_a", "village", VILLAGE_A),
        ("township_a", "township", VILLAGE_A[:9]),
        ("county_a", "county", "522725"),
        ("county_b", "county", "522701"),
        ("prefecture", "prefecture", "5227"),
        ("auditor", "auditor", "5227"),
    ]:
        add_user(engine, name, PASSWORD, role, region)
    password_file = tmp_path / "password.txt"
    password_file.write_text(PASSWORD + "\n", encoding="utf-8")
    for module in (cli_module, cli_clues):
        monkeypatch.setattr(module.console, "width", 200)
    runner = CliRunner()
    env = {"BIDUI_DATA_DIR": str(settings.data_dir), "BIDUI_DATABASE_URL": settings.database_url, "BIDUI_PROGRESS": "0"}

    def invoke(user: str, *args: str):
        return runner.invoke(app, [*args, "--user", user, "--password-file", str(password_file)], env=env)

    invoke.engine = engine
    invoke.tmp = tmp_path
    return invoke


def _status(chain, clue_id: str) -> str:
    with chain.engine.connect() as conn:
        return load_clue(conn, clue_id)["status"]


def test_the_sign_off_chain_runs_level_by_level(chain):
    steps = [
        ("village_a", "clue", "verify", "R06-000001", "--result", "属实", "--on", "2026-11-22"),
        ("village_a", "clue", "rectify", "R06-000001", "--measure", "已代缴参保费", "--on", "2026-11-25"),
        ("township_a", "clue", "sign", "R06-000001", "--signer", "王乡长"),
        ("county_a", "clue", "approve", "R06-000001"),
        ("prefecture", "clue", "file", "R06-000001"),
        ("prefecture", "clue", "reopen", "R06-000001", "--reason", "抽查发现仍未参保"),
    ]
    for user, *args in steps:
        result = chain(user, *args)
        assert result.exit_code == 0, result.output
    events = load_clue_events(chain.engine, "R06-000001")
    assert events["action"].tolist() == ["found", "issue", "verify", "rectify", "sign", "approve", "file", "reopen"]
    assert events["user_name"].tolist()[2:] == ["village_a", "village_a", "township_a", "county_a", "prefecture", "prefecture"]
    assert events["role"].tolist()[2:] == ["village", "village", "township", "county", "prefecture", "prefecture"]
    with chain.engine.connect() as conn:
        clue = load_clue(conn, "R06-000001")
    assert clue["status"] == "issued" and clue["reopen_count"] == 1


def test_a_role_cannot_make_another_roles_move(chain):
    result = chain("township_a", "clue", "verify", "R06-000001", "--result", "属实")
    assert result.exit_code == 1 and "无权核实线索" in result.output
    assert chain("auditor", "clue", "approve", "R06-000001").exit_code == 1
    assert _status(chain, "R06-000001") == "issued"


def test_a_county_user_can_neither_read_nor_move_another_countys_clue(chain):
    shown = chain("county_b", "clue", "show", "R06-000001")
    assert shown.exit_code == 1 and "不在您的管辖范围内" in shown.output
    listed = chain("county_b", "clue", "list")
    assert "R06-000003" in listed.output and "R06-000001" not in listed.output
    moved = chain("county_b", "clue", "send-back", "R06-000001", "--reason", "x")
    assert moved.exit_code == 1 and "不在您的管辖范围内" in moved.output


def test_export_keeps_to_the_users_scope(chain):
    out = chain.tmp / "clues_b.csv"
    result = chain("county_b", "export", "clues", "--out", str(out))
    assert result.exit_code == 0, result.output
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["subject_key"] for r in rows] == ["PB1"]
    assert list(rows[0]) == [
        "rule",
        "subject_feed",
        "subject_key",
        "person_id",
        "household_no",
        "village_code",
        "status",
        "first_seen",
        "last_seen",
        "reopen_count",
        "deadline",
    ]
    assert rows[0]["status"] == "issued" and rows[0]["deadline"] == "2026-12-21"


def test_a_wrong_password_is_refused(chain, tmp_path):
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("not-the-password", encoding="utf-8")
    result = CliRunner().invoke(
        app,
        ["clue", "list", "--user", "county_a", "--password-file", str(wrong)],
        env={"BIDUI_DATA_DIR": str(chain.tmp / "data"), "BIDUI_PROGRESS": "0"},
    )
    assert result.exit_code == 1 and "密码" in result.output


def test_show_masks_id_numbers_in_the_evidence_below_county_level(chain):
    village = chain("village_a", "clue", "show", "R06-000001")
    county = chain("county_a", "clue", "show", "R06-000001")
    assert village.exit_code == 0 and county.exit_code == 0, village.output + county.output
    assert "522725********1234" in village.output and "522725199001011234" not in village.output
    assert "522725199001011234" in county.output


def test_show_masks_spaced_and_full_width_id_numbers_for_a_township_user(chain):
    evidence = {
        "feed": "poverty_members",
        "record_key": "PA1",
        "fields": {"name": "张三", "id_number": "522701 20120316 6879", "head_id": "５２２７２５１９９００１０１１２３４"},
    }
    with chain.engine.begin() as conn:
        conn.execute(
            update(clues)
            .where(clues.c.clue_id == "R06-000001")
            .values(evidence=json.dumps(evidence, ensure_ascii=False), subject_key="522725199001011234")
        )
    township = chain("township_a", "clue", "show", "R06-000001")
    assert township.exit_code == 0, township.output
    shown = "".join(township.output.split())
    assert "证据：扶贫·家庭成员（记录PA1）：姓名张三；身份证号522701********6879；户主身份证号522725********1234" in shown
    assert "对象poverty_members522725********1234" in shown
    assert not {"20120316", "２０１２０３１６", "19900101", "１９９００１０１"} & set(_digit_runs(township.output))
    county = chain("county_a", "clue", "show", "R06-000001")
    assert "522701 20120316 6879" in county.output and "５２２７２５１９９００１０１１２３４" in county.output


def _digit_runs(text: str) -> list[str]:
    return re.findall(r"[0-9０-９]{8}", text)


def test_export_masks_id_numbers_for_a_user_who_may_not_see_them(chain):
    # Some departments key their records by ID number: the clue's subject key is then one.
    with chain.engine.begin() as conn:
        conn.execute(update(clues).where(clues.c.clue_id == "R06-000001").values(subject_key="522701 20120316 6879"))
    for user, expected in [("township_a", "522701********6879"), ("county_a", "522701 20120316 6879")]:
        out = chain.tmp / f"clues_{user}.csv"
        result = chain(user, "export", "clues", "--out", str(out))
        assert result.exit_code == 0, result.output
        with open(out, encoding="utf-8-sig", newline="") as fh:
            assert [r["subject_key"] for r in csv.DictReader(fh)] == [expected, "PA2"]
