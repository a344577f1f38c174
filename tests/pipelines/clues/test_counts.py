"""Per-night problem counts (night_counts): what the monitors' trends read."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
from sqlalchemy import select, update

from pipelines import store
from pipelines.clues.counts import ALL_RULES, build_night_counts, write_night_counts
from pipelines.clues.life import FIRED_COLUMNS, apply_rule_run
from pipelines.store.tables import clues, night_counts

D1, D2 = dt.date(2026, 11, 20), dt.date(2026, 11, 21)
A1, A2, B1 = "522725101201", "522725101202", "522725102203"  # two villages of one township, one of another
C1 = "522701101201"  # another county


def _fired(subjects) -> pd.DataFrame:
    rows = [
        {
            "rule": rule,
            "subject_feed": "poverty_members",
            "subject_key": key,
            "person_id": None,
            "household_code": None,
            "household_no": None,
            "village_code": village,
            "department": "教育",
            "evidence": json.dumps({"key": key}),
        }
        for rule, key, village in subjects
    ]
    return pd.DataFrame(rows, columns=FIRED_COLUMNS)


def _night(settings, day, subjects):
    frame = _fired(subjects)
    runs = [{"rule": r, "status": "ran", "fired": int((frame["rule"] == r).sum()), "seconds": 0.0} for r in ("R05", "R06")]
    apply_rule_run(store.connect(settings), settings, day, frame, runs, {"R05": 15, "R06": 30})


def _counts(settings, day) -> dict[tuple[str, str], dict]:
    with store.connect(settings).connect() as conn:
        rows = conn.execute(select(night_counts).where(night_counts.c.delivery_date == day)).mappings().all()
    return {(r["region_code"], r["rule"]): dict(r) for r in rows}


def test_counts_are_summed_up_from_villages_to_townships_and_counties_and_over_rules():
    grouped = pd.DataFrame(
        [
            [A1, "R05", 3, 2, 1, 0, 1, 0],
            [A2, "R05", 2, 0, 2, 0, 0, 1],
            [B1, "R06", 4, 4, 0, 0, 2, 0],
            [C1, "R05", 1, 0, 0, 1, 0, 0],
        ],
        columns=["village_code", "rule", "found", "open", "closed", "cleared", "overdue", "reopened"],
    )
    rows = build_night_counts(grouped, D1).set_index(["region_code", "rule"])
    assert rows.loc[("522725101", "R05"), ["found", "open", "closed", "overdue", "reopened"]].tolist() == [5, 2, 3, 1, 1]
    assert rows.loc[("522725", ALL_RULES), ["found", "open", "closed", "overdue"]].tolist() == [9, 6, 3, 3]
    assert rows.loc[("522725", "R06"), "found"] == 4
    assert rows.loc[("522701", ALL_RULES), "cleared"] == 1
    assert rows.loc[(A1, ALL_RULES), "found"] == 3
    assert ("5227", ALL_RULES) not in rows.index  # the prefecture is the sum of its counties, read as such
    assert set(rows["delivery_date"]) == {D1}


def test_a_night_writes_its_counts_and_a_rerun_replaces_them(settings):
    _night(settings, D1, [("R05", "k1", A1), ("R05", "k2", A1), ("R06", "k3", B1), ("R05", "k4", C1)])
    write_night_counts(store.connect(settings), D1)
    first = _counts(settings, D1)
    assert first[("522725", ALL_RULES)]["found"] == 3
    assert first[("522725", ALL_RULES)]["open"] == 3
    assert first[("522701", "R05")]["found"] == 1

    engine = store.connect(settings)
    with engine.begin() as conn:  # one clue closed, one issued long ago and now overdue
        conn.execute(update(clues).where(clues.c.subject_key == "k1").values(status="closed"))
        conn.execute(update(clues).where(clues.c.subject_key == "k3").values(status="issued", deadline=D1 - dt.timedelta(days=1)))
    _night(settings, D2, [("R05", "k1", A1), ("R05", "k2", A1), ("R06", "k3", B1)])  # k4 is gone: cleared
    write_night_counts(engine, D2)
    write_night_counts(engine, D2)  # again: the same rows, not twice as many
    second = _counts(settings, D2)
    county = second[("522725", ALL_RULES)]
    assert (county["found"], county["open"], county["closed"], county["overdue"]) == (3, 2, 1, 1)
    assert second[("522701", ALL_RULES)]["cleared"] == 1
    assert second[("522701", ALL_RULES)]["open"] == 0
    assert _counts(settings, D1) == first  # an earlier night's counts stay as that night left them


def test_the_clue_stage_writes_the_nights_counts(settings, monkeypatch):
    from pipelines.clues import life, stage

    calls = []
    # In the transaction of the night's clue changes (pipelines.clues.life.apply_rule_run).
    monkeypatch.setattr(life, "replace_night_counts", lambda conn, day: calls.append(day))
    monkeypatch.setattr(stage.store, "latest_link_date", lambda engine, day: None)  # no base map: rules skipped
    stage.run_clue_night(settings, D1)
    assert calls == [D1]


def test_undoing_a_night_removes_its_counts(settings):
    _night(settings, D1, [("R05", "k1", A1)])
    engine = store.connect(settings)
    write_night_counts(engine, D1)
    with engine.begin() as conn:
        store.delete_night_rows(conn, D1)
    assert _counts(settings, D1) == {}
