"""Clue numbers are given out once: a clue withdrawn by `bidui night undo` keeps its number."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
from sqlalchemy import delete

from pipelines import store
from pipelines.clues.life import FIRED_COLUMNS, apply_rule_run, load_clue_events, load_clues
from pipelines.store.tables import clues

D1, D2 = dt.date(2026, 11, 20), dt.date(2026, 11, 21)


def night(settings, day: dt.date, *subjects: tuple[str, str]) -> None:
    rows = [
        {
            "rule": rule,
            "subject_feed": "poverty_members",
            "subject_key": key,
            "person_id": f"P{key:0>9}",
            "household_code": None,
            "household_no": "PH1",
            "village_code": "522725102203",
            "department": "教育",
            "evidence": json.dumps({"feed": "poverty_members", "record_key": key}, sort_keys=True),
        }
        for rule, key in subjects
    ]
    frame = pd.DataFrame(rows, columns=FIRED_COLUMNS)
    runs = [
        {"rule": r, "status": "ran", "fired": int((frame["rule"] == r).sum()), "seconds": 0.1, "message": None}
        for r in ("R05", "R06")
    ]
    apply_rule_run(store.connect(settings), settings, day, frame, runs, {"R05": 15, "R06": 30}, ())


def test_a_withdrawn_clue_number_is_not_given_to_another_subject(settings):
    night(settings, D1, ("R05", "K1"), ("R05", "K2"), ("R06", "K1"))
    engine = store.connect(settings)
    # What undo does to a clue its night created: the row goes, its events stay.
    with engine.begin() as conn:
        conn.execute(delete(clues).where(clues.c.clue_id.in_(["R05-000002", "R06-000001"])))
    night(settings, D2, ("R05", "K1"), ("R05", "K3"), ("R06", "K2"))
    got = load_clues(engine)
    assert list(zip(got["clue_id"], got["subject_key"])) == [("R05-000001", "K1"), ("R05-000003", "K3"), ("R06-000002", "K2")]
    assert list(load_clue_events(engine, "R05-000003")["action"]) == ["found"]
