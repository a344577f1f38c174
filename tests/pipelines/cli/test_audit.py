"""`bidui audit verify`: OK with counts after a real night and moves; every broken link and every
clue that disagrees with its history listed in Chinese, exit code 1; only prefecture and auditor users."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from argon2 import PasswordHasher
from typer.testing import CliRunner

from pipelines import store
from pipelines.access import users
from pipelines.access.users import add_user
from pipelines.cli import audit as cli_audit
from pipelines.cli.main import app
from pipelines.clues.life import FIRED_COLUMNS, SYSTEM, apply_rule_run, load_clue, load_clues
from pipelines.clues.moves import apply_move
from pipelines.night.chain import run_night

PASSWORD = "secret-2026"
SEED = Path(__file__).resolve().parents[3] / "seeds" / "demo" / "2026-11-20"
AT = dt.datetime(2026, 11, 21, 8)


@pytest.fixture
def audit(settings, tmp_path, monkeypatch):
    """`bidui audit verify` for a user (prefecture, auditor or county) on the test store."""
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    monkeypatch.setattr(cli_audit.console, "width", 200)
    engine = store.connect(settings)
    for name, role, region in [
        ("prefecture", "prefecture", "5227"),
        ("auditor", "auditor", "5227"),
        ("county", "county", "522725"),
    ]:
        add_user(engine, name, PASSWORD, role, region)
    password_file = tmp_path / "password.txt"
    password_file.write_text(PASSWORD + "\n", encoding="utf-8")
    env = {"BIDUI_DATA_DIR": str(settings.data_dir), "BIDUI_DATABASE_URL": settings.database_url, "BIDUI_PROGRESS": "0"}

    def invoke(user: str):
        return CliRunner().invoke(app, ["audit", "verify", "--user", user, "--password-file", str(password_file)], env=env)

    invoke.engine, invoke.settings = engine, settings
    return invoke


def _move(engine, clue_id: str, action: str, **fields) -> None:
    with store.write_transaction(engine) as conn:
        apply_move(conn, load_clue(conn, clue_id, for_update=True), action, fields, SYSTEM, AT)


def _three_clues(engine, settings) -> None:
    fired = pd.DataFrame(
        [
            {
                "rule": "R06",
                "subject_feed": "poverty_members",
                "subject_key": key,
                "person_id": None,
                "household_code": None,
                "household_no": "H" + key,
                "village_code": "522725102203",
                "department": "医保",
                "evidence": json.dumps({"feed": "poverty_members", "record_key": key}),
            }
            for key in ("K1", "K2", "K3")
        ],
        columns=FIRED_COLUMNS,
    )
    apply_rule_run(engine, settings, dt.date(2026, 11, 20), fired, [{"rule": "R06", "status": "ran", "fired": 3}], {"R06": 30})
    _move(engine, "R06-000001", "issue")
    _move(engine, "R06-000002", "issue")


@pytest.mark.slow
def test_a_demo_night_and_moves_pass(audit):
    night = run_night(audit.settings, SEED)
    assert night.clue_error is None
    first = load_clues(audit.engine)["clue_id"].tolist()[:2]
    for clue_id in first:
        _move(audit.engine, clue_id, "issue")
    _move(audit.engine, first[0], "verify", verdict="属实", verified_by="王五", verified_on=dt.date(2026, 11, 22))
    result = audit("auditor")
    clues = night.clues.new
    events = clues + 3
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        f"核验通过：线索流转记录 {events:,} 条，哈希链完整；线索 {clues:,} 条，状态与流转记录一致。\n链头哈希 "
    )


def test_tampering_is_listed_and_exits_1(audit):
    _three_clues(audit.engine, audit.settings)
    with audit.engine.begin() as conn:
        conn.exec_driver_sql("update clues set status = 'filed' where clue_id = 'R06-000002'")
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("drop trigger clue_events_no_update")
        else:
            conn.exec_driver_sql("alter table clue_events disable trigger clue_events_no_change")
        conn.exec_driver_sql("update clue_events set user_name = 'someone' where event_id = 4")
    result = audit("prefecture")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "核验未通过：线索流转记录 5 条，哈希链断开 1 处；线索 3 条，与流转记录不符 1 处。",
        "  哈希链 事件 4：内容与其哈希不符：该事件写入后被改动",
        "  线索 R06-000002：线索表中状态为“已备案”，流转记录止于事件 5（“已下发待核实”）",
    ]


def test_an_intact_store_passes_and_a_county_user_may_not_verify(audit):
    _three_clues(audit.engine, audit.settings)
    assert audit("prefecture").output.startswith("核验通过：线索流转记录 5 条，哈希链完整；线索 3 条，状态与流转记录一致。")
    refused = audit("county")
    assert refused.exit_code == 1
    assert "无权核验线索流转记录" in refused.output and "Traceback" not in refused.output


def test_a_county_auditor_replays_only_the_clues_of_their_county(audit):
    _three_clues(audit.engine, audit.settings)
    add_user(audit.engine, "auditor_522701", PASSWORD, "auditor", "522701")
    add_user(audit.engine, "auditor_522725", PASSWORD, "auditor", "522725")
    with audit.engine.begin() as conn:
        conn.exec_driver_sql("update clues set status = 'filed' where clue_id = 'R06-000002'")
    elsewhere = audit("auditor_522701")
    assert elsewhere.exit_code == 0, elsewhere.output
    assert elsewhere.output.startswith("核验通过：线索流转记录 5 条，哈希链完整；线索 0 条，状态与流转记录一致。")
    assert "R06-" not in elsewhere.output
    here = audit("auditor_522725")
    assert here.exit_code == 1
    assert here.output.splitlines() == [
        "核验未通过：线索流转记录 5 条，哈希链断开 0 处；线索 3 条，与流转记录不符 1 处。",
        "  线索 R06-000002：线索表中状态为“已备案”，流转记录止于事件 5（“已下发待核实”）",
    ]
