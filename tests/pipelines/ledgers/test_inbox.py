"""The ledger inbox (pipelines.ledgers.inbox): each settled file imported as the system and moved to
done/ with its import report or to rejected/ with the reason; a file still being written is left; a
file dropped twice applies nothing the second time; only the file's own faults reject it, and a try
that stopped half-way leaves nothing written over."""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import sqlite3
import sys
from pathlib import Path

import pytest
from sqlalchemy import event

from pipelines import store
from pipelines.errors import BiduiError
from pipelines.ledgers import inbox as inbox_module
from pipelines.ledgers.inbox import import_inbox_ledger, ledger_inbox, list_inbox_ledgers
from pipelines.ledgers.issue import issue_ledgers


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
# The inbox's clock in these tests: later than any file's change time on this machine, which the
# inbox reads too and no test can set.
NOW = dt.datetime(2096, 12, 1, 10, 0).timestamp()


def _drop(path: Path, data: bytes, seconds_ago: float) -> Path:
    """`data` written to `path`, last changed `seconds_ago` before NOW."""
    path.write_bytes(data)
    os.utime(path, (NOW - seconds_ago, NOW - seconds_ago))
    return path


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_a_good_and_a_bad_workbook_go_to_done_and_rejected_with_their_reports(settings, engine, tmp_path):
    [issued] = issue_ledgers(engine, settings, L.COUNTY_A, L.ISSUED)
    inbox = ledger_inbox(settings)
    k1 = L.clue_id(engine, "K1")
    filled = L.fill(issued["file"], tmp_path / "filled.xlsx", {k1: L.VERIFIED}).read_bytes()
    good = _drop(inbox / "甲县交回.xlsx", filled, 600)
    bad = _drop(inbox / "说明.xlsx", b"not a workbook", 600)
    copying = _drop(inbox / "乙县交回.xlsx", filled, 30)  # still being copied in
    _drop(inbox / "~$甲县交回.xlsx", b"excel lock file", 600)

    waiting = list_inbox_ledgers(settings, settle_seconds=120, now=NOW)
    assert waiting == [str(good), str(bad)]
    done = import_inbox_ledger(settings, good, settle_seconds=120, now=NOW)
    rejected = import_inbox_ledger(settings, bad, settle_seconds=120, now=NOW)

    assert {k: done[k] for k in ("outcome", "rows", "applied", "rejected_rows")} == {
        "outcome": "done",
        "rows": 8,
        "applied": 1,
        "rejected_rows": 0,
    }
    assert rejected["outcome"] == "rejected"
    assert _tree(inbox) == [
        "done/甲县交回.xlsx",
        "done/甲县交回_导入报告.xlsx",
        "rejected/说明.xlsx",
        "rejected/说明_未导入原因.txt",
        "~$甲县交回.xlsx",
        "乙县交回.xlsx",
    ]
    assert (inbox / "rejected" / "说明_未导入原因.txt").read_text(encoding="utf-8").startswith("台账“说明.xlsx”未导入：")
    assert (inbox / "rejected" / "说明.xlsx").read_bytes() == b"not a workbook"  # moved whole, never lost
    assert L.by_key(engine)["K1"]["verdict"] == "属实"
    # The file still being copied in is left for the next run, even when asked for by name.
    assert import_inbox_ledger(settings, copying, settle_seconds=120, now=NOW)["outcome"] == "left"
    assert copying.is_file()


def test_the_same_file_dropped_twice_applies_nothing_the_second_time(settings, engine, tmp_path):
    [issued] = issue_ledgers(engine, settings, L.COUNTY_A, L.ISSUED)
    inbox = ledger_inbox(settings)
    k1 = L.clue_id(engine, "K1")
    filled = L.fill(issued["file"], tmp_path / "甲县交回.xlsx", {k1: L.VERIFIED})
    events = []
    for _ in range(2):
        dropped = _drop(inbox / filled.name, filled.read_bytes(), 600)
        result = import_inbox_ledger(settings, dropped, settle_seconds=120, now=NOW)
        events.append(L.event_count(engine))
        assert result["outcome"] == "done"
    assert result["applied"] == 0 and result["unchanged"] == 1
    assert events[0] == events[1]  # the second import moved no clue
    # The second copy sits beside the first under a name of its own, each with its report.
    assert _tree(inbox / "done") == ["甲县交回.xlsx", "甲县交回_2.xlsx", "甲县交回_2_导入报告.xlsx", "甲县交回_导入报告.xlsx"]
    # A task retried after it moved its file finds nothing left to do.
    assert import_inbox_ledger(settings, inbox / filled.name, now=NOW)["outcome"] == "gone"


# SQLite's write lock: on PostgreSQL a second writer waits for the rows it locks instead.
@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_a_busy_store_leaves_the_file_in_the_inbox_for_the_retry(settings, engine, tmp_path):
    """The store being written by the night (SQLite's write lock held past its wait) is no fault of
    the file: the import fails and is retried, the workbook is not moved to rejected/."""
    [issued] = issue_ledgers(engine, settings, L.COUNTY_A, L.ISSUED)
    filled = L.fill(issued["file"], tmp_path / "甲县交回.xlsx", {L.clue_id(engine, "K1"): L.VERIFIED})
    dropped = _drop(ledger_inbox(settings) / filled.name, filled.read_bytes(), 600)

    def short_wait(dbapi_conn, _record):  # the store's 120 s wait for the lock, cut short for the test
        dbapi_conn.execute("pragma busy_timeout = 50")

    engine.dispose()
    event.listen(engine, "connect", short_wait)
    night = sqlite3.connect(settings.data_dir / "bidui.sqlite3")
    try:
        night.execute("begin immediate")  # the night holds the write lock
        with pytest.raises(BiduiError, match="数据库正被另一项写入"):
            import_inbox_ledger(settings, dropped, settle_seconds=120, now=NOW)
    finally:
        night.rollback()
        night.close()
        event.remove(engine, "connect", short_wait)
        engine.dispose()
    assert _tree(ledger_inbox(settings)) == ["甲县交回.xlsx"]
    # Once the night lets go, the retry imports it.
    assert import_inbox_ledger(settings, dropped, settle_seconds=120, now=NOW)["outcome"] == "done"
    assert L.by_key(store.connect(settings))["K1"]["verdict"] == "属实"


def test_a_retry_after_a_crash_between_report_and_move_keeps_the_first_report(settings, engine, tmp_path, monkeypatch):
    """The machine stops after the import committed and its report was written to done/, before the
    file moved: the retry imports again (every row unchanged) and must not write its report over the
    first one, which holds the rows applied."""
    [issued] = issue_ledgers(engine, settings, L.COUNTY_A, L.ISSUED)
    inbox = ledger_inbox(settings)
    filled = L.fill(issued["file"], tmp_path / "甲县交回.xlsx", {L.clue_id(engine, "K1"): L.VERIFIED})
    dropped = _drop(inbox / filled.name, filled.read_bytes(), 600)

    def crash(path, target):
        raise KeyboardInterrupt  # the worker killed between the report and the move

    with monkeypatch.context() as patched:
        patched.setattr(inbox_module, "move_file", crash)
        with pytest.raises(KeyboardInterrupt):
            import_inbox_ledger(settings, dropped, settle_seconds=120, now=NOW)
    first_report = (inbox / "done" / "甲县交回_导入报告.xlsx").read_bytes()

    retried = import_inbox_ledger(settings, dropped, settle_seconds=120, now=NOW)
    assert (retried["outcome"], retried["applied"], retried["unchanged"]) == ("done", 0, 1)
    assert (inbox / "done" / "甲县交回_导入报告.xlsx").read_bytes() == first_report
    assert _tree(inbox / "done") == ["甲县交回_2.xlsx", "甲县交回_2_导入报告.xlsx", "甲县交回_导入报告.xlsx"]


def test_a_workbook_copied_in_with_its_old_modified_time_waits(settings, tmp_path):
    """Copies that keep the file's modified time (Windows Explorer, cp -p, scp -p) give a workbook
    still being written an old mtime; its change time says when it arrived."""
    inbox = ledger_inbox(settings)
    copying = inbox / "甲县交回.xlsx"
    copying.write_bytes(b"PK\x03\x04 half a workbook")
    days_old = copying.stat().st_mtime - 3 * 86400
    os.utime(copying, (days_old, days_old))
    arrived = copying.stat().st_ctime
    assert list_inbox_ledgers(settings, settle_seconds=120, now=arrived + 30) == []
    assert import_inbox_ledger(settings, copying, settle_seconds=120, now=arrived + 30)["outcome"] == "left"
    assert copying.is_file()
    assert list_inbox_ledgers(settings, settle_seconds=120, now=arrived + 121) == [str(copying)]
