"""Two moves on one clue at the same moment (pipelines.clues.moves.act): exactly one wins, the other
gets a Chinese error, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from pipelines import store
from pipelines.access.scope import Scope
from pipelines.clues import moves
from pipelines.clues.life import FIRED_COLUMNS, SYSTEM, apply_rule_run, load_clue, load_clue_events
from pipelines.clues.moves import act, apply_move
from pipelines.errors import BiduiError

VILLAGE = "522725102203"
NIGHT = dt.date(2026, 11, 20)


def _one_issued_clue(engine, settings) -> str:
    frame = pd.DataFrame(
        [
            {
                "rule": "R06",
                "subject_feed": "poverty_members",
                "subject_key": "K1",
                "person_id": "P000000001",
                "household_code": None,
                "household_no": "PH1",
                "village_code": VILLAGE,
                "department": "教育",
                "evidence": json.dumps({"feed": "poverty_members", "record_key": "K1"}),
            }
        ],
        columns=FIRED_COLUMNS,
    )
    runs = [{"rule": "R06", "status": "ran", "fired": 1, "seconds": 0.1, "message": None}]
    apply_rule_run(engine, settings, NIGHT, frame, runs, {"R06": 30})
    with engine.begin() as conn:
        apply_move(conn, load_clue(conn, "R06-000001"), "issue", {}, SYSTEM, dt.datetime(2026, 11, 21, 8))
    return "R06-000001"


def test_two_verifies_at_once_one_wins_the_other_is_told(settings, race):
    engine = store.connect(settings)
    clue_id = _one_issued_clue(engine, settings)
    village = Scope("cunguan", "village", VILLAGE)
    verdicts = [
        {"verdict": "属实", "verified_by": "张村官", "verified_on": dt.date(2026, 11, 25)},
        {"verdict": "不属实", "dismiss_reason": "已死亡", "verified_by": "李村官", "verified_on": dt.date(2026, 11, 25)},
    ]
    calls = [lambda f=f: act(engine, village, clue_id, "verify", f, at=dt.datetime(2026, 11, 25, 9)) for f in verdicts]
    outcomes = race(moves, "load_clue", calls)
    won = [i for i, o in enumerate(outcomes) if isinstance(o, dict)]
    lost = [o for o in outcomes if isinstance(o, BiduiError)]
    assert len(won) == 1 and len(lost) == 1
    assert str(lost[0]) in (
        f"线索 {clue_id} 当前状态为“核实属实待整改”，不能执行“核实”",
        f"线索 {clue_id} 当前状态为“待乡镇签字”，不能执行“核实”",
    )
    with engine.connect() as conn:
        stored = load_clue(conn, clue_id)
    assert (stored["verdict"], stored["verified_by"]) == (verdicts[won[0]]["verdict"], verdicts[won[0]]["verified_by"])
    events = load_clue_events(engine, clue_id)
    assert list(events["action"]) == ["found", "issue", "verify"]


def test_a_move_planned_from_a_state_the_clue_left_is_not_written(settings):
    engine = store.connect(settings)
    clue_id = _one_issued_clue(engine, settings)
    with engine.begin() as conn:
        stale = load_clue(conn, clue_id)
    act(
        engine,
        Scope("cunguan", "village", VILLAGE),
        clue_id,
        "verify",
        {"verdict": "属实", "verified_by": "张", "verified_on": dt.date(2026, 11, 25)},
    )
    with pytest.raises(BiduiError, match=f"^线索 {clue_id} 在操作期间已被他人改动，本次操作未保存；请刷新后重试$"):
        with store.write_transaction(engine) as conn:
            apply_move(
                conn,
                stale,
                "verify",
                {"verdict": "不属实", "dismiss_reason": "已死亡", "verified_by": "李", "verified_on": dt.date(2026, 11, 26)},
                SYSTEM,
                dt.datetime(2026, 11, 26),
            )
    with engine.connect() as conn:
        assert load_clue(conn, clue_id)["verified_by"] == "张"
    assert list(load_clue_events(engine, clue_id)["action"]) == ["found", "issue", "verify"]
