"""The hash chain over clue events (pipelines.store.audit) and the replay of each clue against its
row (pipelines.clues.audit): intact after nights and moves, and every kind of tampering found at the
place it happened, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from pipelines import store
from pipelines.access import Scope
from pipelines.clues.audit import ClueMismatch, audit_clues
from pipelines.clues.life import FIRED_COLUMNS, SYSTEM, apply_rule_run, load_clue
from pipelines.clues.moves import apply_move, plan_move, write_moves
from pipelines.store import BrokenLink
from pipelines.store.snapshots import MIGRATIONS_DIR

VILLAGE = "522725102203"
NIGHT = dt.date(2026, 11, 20)
AT = dt.datetime(2026, 11, 21, 8, 30, 15, 123456)  # microseconds: they must survive both databases


def _fired(keys: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "rule": "R06",
                "subject_feed": "poverty_members",
                "subject_key": key,
                "person_id": None,
                "household_code": None,
                "household_no": "H" + key,
                "village_code": VILLAGE,
                "department": "医保",
                "evidence": json.dumps({"feed": "poverty_members", "record_key": key}, ensure_ascii=False),
            }
            for key in keys
        ],
        columns=FIRED_COLUMNS,
    )


def _night(engine, settings, day: dt.date, keys: list[str]) -> None:
    runs = [{"rule": "R06", "status": "ran", "fired": len(keys)}]
    apply_rule_run(engine, settings, day, _fired(keys), runs, {"R06": 30})


def _move(engine, clue_id: str, action: str, **fields) -> None:
    with store.write_transaction(engine) as conn:
        apply_move(conn, load_clue(conn, clue_id, for_update=True), action, fields, SYSTEM, AT)


@pytest.fixture
def moved(settings):
    """Events 1-3: three clues found; 4-5: two issued; 6: R06-000001 verified 属实; 7: rectified;
    8: signed; 9: the next night clears R06-000003 (R06-000002 is found again, no event)."""
    engine = store.connect(settings)
    _night(engine, settings, NIGHT, ["K1", "K2", "K3"])
    _move(engine, "R06-000001", "issue")
    _move(engine, "R06-000002", "issue")
    _move(engine, "R06-000001", "verify", verdict="属实", verified_by="王五", verified_on=dt.date(2026, 11, 22))
    _move(engine, "R06-000001", "rectify", rectification="已补录", rectified_on=dt.date(2026, 11, 23))
    _move(engine, "R06-000001", "sign", signed_by="李四", signed_on=dt.date(2026, 11, 24))
    _night(engine, settings, NIGHT + dt.timedelta(days=1), ["K1", "K2"])
    return engine


def _tamper(engine, sql: str) -> None:
    """What someone with database access could do: lift the append-only trigger, then edit."""
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("drop trigger clue_events_no_update")
            conn.exec_driver_sql("drop trigger clue_events_no_delete")
        else:
            conn.exec_driver_sql("alter table clue_events disable trigger clue_events_no_change")
        conn.exec_driver_sql(sql)


def _head(engine) -> str:
    with engine.connect() as conn:
        return conn.exec_driver_sql("select chain_hash from clue_events order by event_id desc limit 1").scalar()


def test_nights_and_moves_leave_the_chain_intact(moved):
    audit = audit_clues(moved, Scope.system())
    assert (audit.ok, audit.events, audit.clues, audit.head_hash) == (True, 9, 3, _head(moved))
    with moved.connect() as conn:
        head = conn.exec_driver_sql("select head_event_id, events from clue_chain").one()
        state = conn.exec_driver_sql("select state from clue_events where event_id = 8").scalar()
    assert tuple(head) == (9, 9)
    assert json.loads(state) == {
        "status": "signed",
        "verdict": "属实",
        "dismiss_reason": None,
        "rectification": "已补录",
        "rectified_on": "2026-11-23",
        "verified_by": "王五",
        "verified_on": "2026-11-22",
        "signed_by": "李四",
        "signed_on": "2026-11-24",
    }


def test_an_edited_event_is_found_at_that_event(moved):
    _tamper(moved, "update clue_events set note = '改过的说明' where event_id = 6")
    audit = audit_clues(moved, Scope.system())
    assert audit.broken == [BrokenLink(6, "内容与其哈希不符：该事件写入后被改动")]
    assert audit.mismatches == []


def test_a_deleted_event_is_found_at_the_event_after_it(moved):
    _tamper(moved, "delete from clue_events where event_id = 7")
    audit = audit_clues(moved, Scope.system())
    assert audit.broken == [
        BrokenLink(8, "与事件 6不衔接：两者之间的事件被删除，或前一事件被改动"),
        BrokenLink(None, "链头记录为 9 条事件、最后一条为事件 9，实有 8 条、最后一条为事件 9：链尾的事件被删除或链头被改动"),
    ]
    assert audit.mismatches == [
        ClueMismatch(
            "R06-000001",
            "事件 8（签字背书）记录的原状态为“待乡镇签字”，但上一事件 6 之后应为“核实属实待整改”：其间线索状态被直接改动",
        ),
        ClueMismatch("R06-000001", "事件 8（签字背书）之前，线索的整改措施、整改完成日期已被改动，流转记录中没有相应操作"),
    ]


def test_the_last_event_deleted_is_found_against_the_chain_head(moved):
    _tamper(moved, "delete from clue_events where event_id = 9")
    audit = audit_clues(moved, Scope.system())
    assert audit.broken == [
        BrokenLink(None, "链头记录为 9 条事件、最后一条为事件 9，实有 8 条、最后一条为事件 8：链尾的事件被删除或链头被改动")
    ]
    assert audit.mismatches == [ClueMismatch("R06-000003", "线索表中状态为“数据已消除”，流转记录止于事件 3（“待下发”）")]


def test_a_clue_row_edited_directly_disagrees_with_its_history(moved):
    with moved.begin() as conn:
        conn.exec_driver_sql("update clues set status = 'filed' where clue_id = 'R06-000002'")
        conn.exec_driver_sql("update clues set signed_by = '赵六' where clue_id = 'R06-000001'")
    audit = audit_clues(moved, Scope.system())
    assert audit.broken == []
    assert audit.mismatches == [
        ClueMismatch("R06-000001", "线索表中签字人为“赵六”，流转记录中为“李四”"),
        ClueMismatch("R06-000002", "线索表中状态为“已备案”，流转记录止于事件 5（“已下发待核实”）"),
    ]


def test_a_verdict_edited_before_the_next_move_is_found_at_that_move(settings):
    engine = store.connect(settings)
    _night(engine, settings, NIGHT, ["K1"])
    _move(engine, "R06-000001", "issue")
    _move(engine, "R06-000001", "verify", verdict="属实", verified_by="王五", verified_on=dt.date(2026, 11, 22))
    with engine.begin() as conn:
        conn.exec_driver_sql("update clues set verified_by = '赵六' where clue_id = 'R06-000001'")
    # The next move records the edited row: the edit shows as a change the move could not make.
    _move(engine, "R06-000001", "rectify", rectification="已补录", rectified_on=dt.date(2026, 11, 23))
    audit = audit_clues(engine, Scope.system())
    assert (audit.broken, audit.mismatches) == (
        [],
        [ClueMismatch("R06-000001", "事件 4（整改）之前，线索的核实人已被改动，流转记录中没有相应操作")],
    )


def test_several_moves_of_one_clue_in_one_batch_replay_cleanly(settings):
    # A returned ledger row brings verify, rectify and sign of one clue in one write: only the
    # last event can record the clue's state, the others' is unknown.
    engine = store.connect(settings)
    _night(engine, settings, NIGHT, ["K1"])
    _move(engine, "R06-000001", "issue")
    with store.write_transaction(engine) as conn:
        clue = load_clue(conn, "R06-000001", for_update=True)
        verified, first = plan_move(clue, "verify", {"verdict": "属实", "verified_by": "王五", "verified_on": NIGHT}, SYSTEM, AT)
        rectified, second = plan_move(verified, "rectify", {"rectification": "已补录", "rectified_on": NIGHT}, SYSTEM, AT)
        write_moves(conn, [(clue["status"], rectified)], [first, second])
    audit = audit_clues(engine, Scope.system())
    with engine.connect() as conn:
        unknown = conn.exec_driver_sql("select event_id from clue_events where state is null").scalars().all()
    assert (audit.ok, audit.events, unknown) == (True, 4, [3])


def test_writers_at_the_same_moment_do_not_fork_the_chain(settings):
    engine = store.connect(settings)
    keys = [f"K{n}" for n in range(1, 7)]
    _night(engine, settings, NIGHT, keys)
    start = threading.Barrier(len(keys))
    failures = []

    def issue(clue_id: str) -> None:
        try:
            start.wait(timeout=10)
            _move(engine, clue_id, "issue")
        except Exception as exc:  # the test reports whatever a writer hit
            failures.append(f"{clue_id}: {exc}")

    threads = [threading.Thread(target=issue, args=(f"R06-{n:06d}",)) for n in range(1, 7)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    audit = audit_clues(engine, Scope.system())
    assert (failures, audit.broken, audit.mismatches, audit.events) == ([], [], [], 12)


def test_the_migration_chains_the_events_already_in_the_store(settings):
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(settings.database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0005")
    old = [("R06-000001", "found", None, "new", dt.datetime(2026, 11, 20)), ("R06-000001", "issue", "new", "issued", AT)]
    with engine.begin() as conn:
        for clue_id, action, before, after, at in old:
            conn.execute(
                sa.text(
                    "insert into clue_events (clue_id, action, from_status, to_status, at, user_name, role, source) "
                    "values (:c, :a, :b, :t, :at, 'system', 'system', 'cli')"
                ),
                {"c": clue_id, "a": action, "b": before, "t": after, "at": at},
            )
    engine.dispose()
    engine = store.connect(settings)  # on to head: 0006 chains the two events
    with engine.connect() as conn:
        assert store.verify_chain(conn).broken == []
    _night(engine, settings, NIGHT, ["K1", "K2"])  # the chain goes on from them
    with engine.connect() as conn:
        check = store.verify_chain(conn)
        states = conn.exec_driver_sql("select event_id, state is null from clue_events order by event_id").all()
    assert (check.broken, check.events) == ([], 4)
    assert [tuple(s) for s in states] == [(1, True), (2, True), (3, False), (4, False)]


def test_a_regional_scope_replays_its_own_clues_and_only_counts_a_deleted_row(moved):
    with moved.begin() as conn:
        conn.exec_driver_sql("delete from clues where clue_id = 'R06-000002'")
    county = Scope("auditor", "auditor", "522725")
    elsewhere = Scope("auditor", "auditor", "522701")
    assert (audit_clues(moved, county).clues, audit_clues(moved, county).mismatches) == (2, [])
    assert audit_clues(moved, county).unplaced == 1
    assert (audit_clues(moved, elsewhere).clues, audit_clues(moved, elsewhere).unplaced) == (0, 1)
    assert audit_clues(moved, Scope.system()).mismatches == [
        ClueMismatch("R06-000002", "流转记录止于事件 5（“已下发待核实”），但线索表中已没有该线索")
    ]
