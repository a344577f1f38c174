"""Clue life across nights (pipelines.clues.life) on hand-made rule output."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from sqlalchemy import select

from pipelines import store
from pipelines.clues.life import (
    FIRED_COLUMNS,
    Actor,
    apply_rule_run,
    evidence_hash,
    is_overdue,
    load_clue,
    load_clue_events,
    load_clues,
)
from pipelines.clues.moves import apply_move
from pipelines.errors import BiduiError
from pipelines.store.tables import rule_runs

D1, D2, D3 = dt.date(2026, 11, 20), dt.date(2026, 11, 21), dt.date(2026, 11, 22)
DEADLINES = {"R05": 15, "R06": 30}
VILLAGE = "522725102203"


def fired(*subjects: tuple[str, str], evidence: dict | None = None) -> pd.DataFrame:
    rows = [
        {
            "rule": rule,
            "subject_feed": "poverty_members",
            "subject_key": key,
            "person_id": f"P{key[-9:]:0>9}",
            "household_code": None,
            "household_no": "PH1",
            "village_code": VILLAGE,
            "department": "教育",
            "evidence": json.dumps(
                (evidence or {}).get(key, {"feed": "poverty_members", "record_key": key}), ensure_ascii=False, sort_keys=True
            ),
        }
        for rule, key in subjects
    ]
    return pd.DataFrame(rows, columns=FIRED_COLUMNS)


def runs(frame: pd.DataFrame, rules=("R05", "R06"), status="ran") -> list[dict]:
    return [
        {"rule": r, "status": status, "fired": int((frame["rule"] == r).sum()), "seconds": 0.1, "message": None} for r in rules
    ]


def night(settings, day, frame, rule_status="ran", release=()):
    return apply_rule_run(store.connect(settings), settings, day, frame, runs(frame, status=rule_status), DEADLINES, release)


def by_key(settings) -> dict[str, dict]:
    frame = load_clues(store.connect(settings))
    return {row["subject_key"]: row for row in frame.to_dict("records")}


def move(settings, key, action, **fields):
    engine = store.connect(settings)
    with engine.begin() as conn:
        clue = load_clue(conn, by_key(settings)[key]["clue_id"])
        return apply_move(
            conn,
            clue,
            action,
            fields,
            Actor("张村官", "village"),
            dt.datetime(2026, 11, 21, 9),
            deadline_days=DEADLINES[clue["rule"]],
            dismiss_reasons=["在外省就读", "已死亡"],
        )


def test_first_night_makes_new_clues_with_stable_ids(settings):
    summary = night(settings, D1, fired(("R05", "K1"), ("R05", "K2"), ("R06", "K1")))
    clues = load_clues(store.connect(settings))
    assert summary["new"] == 3
    assert list(clues["clue_id"]) == ["R05-000001", "R05-000002", "R06-000001"]
    assert set(clues["status"]) == {"new"} and set(clues["county_code"]) == {"522725"}
    assert clues["reopen_count"].tolist() == [0, 0, 0]


def test_the_same_night_twice_changes_nothing(settings):
    frame = fired(("R05", "K1"), ("R05", "K2"))
    night(settings, D1, frame)
    before = load_clues(store.connect(settings))
    again = night(settings, D1, frame)
    assert again["new"] == 0 and again["changed"] == 0 and again["cleared"] == 0
    pd.testing.assert_frame_equal(before, load_clues(store.connect(settings)))


def test_found_again_moves_last_seen_and_unseen_unverified_clears_by_data(settings):
    night(settings, D1, fired(("R05", "K1"), ("R05", "K2")))
    summary = night(settings, D2, fired(("R05", "K1")))
    clues = by_key(settings)
    assert str(clues["K1"]["last_seen"])[:10] == "2026-11-21" and clues["K1"]["status"] == "new"
    assert clues["K2"]["status"] == "cleared_by_data" and str(clues["K2"]["cleared_on"])[:10] == "2026-11-21"
    assert summary["cleared"] == 1
    # Found again later: the same clue comes back, never a duplicate.
    night(settings, D3, fired(("R05", "K1"), ("R05", "K2")))
    clues = by_key(settings)
    assert clues["K2"]["status"] == "new" and clues["K2"]["cleared_on"] is None
    assert len(clues) == 2


def test_verified_clues_are_not_cleared_by_data(settings):
    night(settings, D1, fired(("R05", "K1")))
    move(settings, "K1", "issue")
    move(settings, "K1", "verify", verdict="属实", verified_by="张三", verified_on=dt.date(2026, 11, 21))
    night(settings, D2, fired())
    assert by_key(settings)["K1"]["status"] == "confirmed"


def _close(settings, key, verdict="属实", reason=None):
    move(settings, key, "issue")
    move(settings, key, "verify", verdict=verdict, dismiss_reason=reason, verified_by="张三", verified_on=dt.date(2026, 11, 21))
    if verdict == "属实":
        move(settings, key, "rectify", rectification="已补办参保", rectified_on=dt.date(2026, 11, 21))
    move(settings, key, "sign", signed_by="李乡长", signed_on=dt.date(2026, 11, 21))
    move(settings, key, "approve")


def test_a_rectified_clue_firing_again_is_reopened_and_counted(settings):
    night(settings, D1, fired(("R06", "K1")))
    _close(settings, "K1")
    assert by_key(settings)["K1"]["status"] == "closed"
    summary = night(settings, D2, fired(("R06", "K1")))
    clue = by_key(settings)["K1"]
    assert summary["reopened"] == 1
    assert clue["status"] == "issued" and clue["reopen_count"] == 1 and clue["verdict"] is None
    assert str(clue["deadline"])[:10] == "2026-12-21"
    assert night(settings, D2, fired(("R06", "K1")))["reopened"] == 0  # the same night again


def test_a_dismissed_clue_reopens_only_when_its_evidence_changes(settings):
    night(settings, D1, fired(("R05", "K1")))
    _close(settings, "K1", verdict="不属实", reason="在外省就读")
    night(settings, D2, fired(("R05", "K1")))
    assert by_key(settings)["K1"]["status"] == "closed"
    changed = {"K1": {"feed": "poverty_members", "record_key": "K1", "fields": {"age": "12"}}}
    night(settings, D3, fired(("R05", "K1"), evidence=changed))
    clue = by_key(settings)["K1"]
    assert clue["status"] == "issued" and clue["reopen_count"] == 1
    assert clue["evidence_hash"] == evidence_hash(json.dumps(changed["K1"], ensure_ascii=False, sort_keys=True))


def test_every_transition_is_an_event_with_who_and_role(settings):
    night(settings, D1, fired(("R05", "K1")))
    _close(settings, "K1", verdict="不属实", reason="已死亡")
    events = load_clue_events(store.connect(settings), by_key(settings)["K1"]["clue_id"])
    assert events["action"].tolist() == ["found", "issue", "verify", "sign", "approve"]
    assert events["to_status"].tolist() == ["new", "issued", "rectified", "signed", "closed"]
    assert events["user_name"].tolist() == ["system", "张村官", "张村官", "张村官", "张村官"]
    assert "已死亡" in events["note"].iloc[2]


def test_moves_not_allowed_from_the_state_or_missing_fields_are_refused(settings):
    night(settings, D1, fired(("R05", "K1")))
    with pytest.raises(BiduiError, match="不能执行“签字背书”"):
        move(settings, "K1", "sign", signed_by="李", signed_on=D1)
    move(settings, "K1", "issue")
    with pytest.raises(BiduiError, match="缺少核实人"):
        move(settings, "K1", "verify", verdict="属实", verified_on=D1)
    with pytest.raises(BiduiError, match="不在本规则的可选原因"):
        move(settings, "K1", "verify", verdict="不属实", dismiss_reason="不想核实", verified_by="张", verified_on=D1)
    assert by_key(settings)["K1"]["status"] == "issued"


def test_send_back_returns_to_issued_and_clears_the_verification(settings):
    night(settings, D1, fired(("R05", "K1")))
    move(settings, "K1", "issue")
    move(settings, "K1", "verify", verdict="不属实", dismiss_reason="已死亡", verified_by="张", verified_on=D1)
    move(settings, "K1", "send_back", note="缺少死亡证明")
    clue = by_key(settings)["K1"]
    assert clue["status"] == "issued" and clue["verdict"] is None and clue["dismiss_reason"] is None


def test_issue_sets_the_deadline_and_overdue_follows_it(settings):
    night(settings, D1, fired(("R05", "K1")))
    move(settings, "K1", "issue")
    clue = by_key(settings)["K1"]
    deadline = dt.date.fromisoformat(str(clue["deadline"])[:10])
    assert deadline == dt.date(2026, 12, 6)  # R05: 15 days
    assert not is_overdue(clue["status"], deadline, deadline)
    assert is_overdue(clue["status"], deadline, deadline + dt.timedelta(days=1))
    assert not is_overdue("closed", deadline, deadline + dt.timedelta(days=1))


def test_a_rule_firing_far_beyond_its_last_count_is_held(settings):
    settings = type(settings)(**{**settings.__dict__, "clue_breaker_ratio": 3.0, "clue_breaker_min": 5})
    night(settings, D1, fired(("R05", "K1"), ("R05", "K2")))
    flood = fired(*[("R05", f"K{i}") for i in range(1, 11)])
    summary = night(settings, D2, flood)
    assert summary["held"] == ["R05"] and summary["new"] == 0
    assert len(by_key(settings)) == 2
    with store.connect(settings).connect() as conn:
        held = conn.execute(
            select(rule_runs.c.status, rule_runs.c.message)
            .where(rule_runs.c.delivery_date == D2)
            .where(rule_runs.c.rule == "R05")
        ).first()
    assert held.status == "held" and "暂停下发" in held.message
    released = night(settings, D2, flood, release=["R05"])
    assert released["new"] == 8 and released["held"] == []


def test_skipped_rules_leave_their_clues_alone(settings):
    night(settings, D1, fired(("R05", "K1")))
    night(settings, D2, fired(), rule_status="skipped")
    assert by_key(settings)["K1"]["status"] == "new"


def test_an_older_night_cannot_rewrite_clues(settings):
    night(settings, D2, fired(("R05", "K1")))
    with pytest.raises(BiduiError, match="更晚的数据日期"):
        night(settings, D1, fired(("R05", "K1")))


def test_the_event_record_cannot_be_changed_or_deleted(settings):
    from sqlalchemy import delete, update
    from sqlalchemy.exc import DatabaseError

    from pipelines.store.tables import clue_events

    night(settings, D1, fired(("R05", "K1")))
    engine = store.connect(settings)
    for statement in (update(clue_events).values(user_name="someone else"), delete(clue_events)):
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(statement)
    assert load_clue_events(engine, by_key(settings)["K1"]["clue_id"])["user_name"].tolist() == ["system"]
