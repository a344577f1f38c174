"""Undoing a wrongly delivered night: after `undo_night` and the corrected delivery, the store is
what the good nights alone give."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from pipelines import store
from pipelines.access import User
from pipelines.clues.life import load_clues
from pipelines.demo import generate_delivery
from pipelines.errors import BiduiError
from pipelines.night import run_night, undo_night
from pipelines.settings import load_settings
from pipelines.store.tables import clue_events, clues, households, night_undos

PREFECTURE = User("shi", None, "prefecture", "5227", None, True, True)
COUNTY = User("xian", None, "county", "522701", None, True, True)
PERSONS = 300


def _delivery(root: Path, seed: int, as_of: str, folder_name: str | None = None) -> Path:
    made = generate_delivery(PERSONS, seed, root / f"seed{seed}-{as_of}", dt.date.fromisoformat(as_of))
    if folder_name is None:
        return made
    target = root / f"renamed-{seed}" / folder_name
    target.parent.mkdir(parents=True)
    shutil.move(str(made), target)
    return target


def _state(settings, nights: list[str], clue_ids: bool = True) -> dict[str, pd.DataFrame]:
    """The store's content; with `clue_ids=False` clues are compared by (rule, subject) and state, as
    numbers withdrawn by undo are not given out again."""
    engine = store.connect(settings)
    with engine.connect() as conn:
        homes = pd.DataFrame(conn.execute(select(households).order_by(households.c.household_code)).fetchall())
    found = load_clues(engine)
    if not clue_ids:
        natural = ["rule", "subject_feed", "subject_key"]
        found = found[[*natural, "status", "first_seen", "last_seen"]].sort_values(natural, ignore_index=True)
    state = {"persons": store.load_persons(engine), "households": homes, "clues": found}
    for night in nights:
        state[f"links {night}"] = store.load_links(engine, dt.date.fromisoformat(night))
    return state


def _run(settings, delivery: Path) -> None:
    night = run_night(settings, delivery)
    assert night.link_error is None and night.clue_error is None


@pytest.mark.slow
def test_undoing_a_wrong_night_then_running_the_right_one_equals_the_good_nights_alone(tmp_path):
    good_a = _delivery(tmp_path, 1, "2026-11-20")
    good_b = _delivery(tmp_path, 1, "2026-11-21")
    # The wrong delivery: another population, and a wrong date in its folder name.
    wrong = _delivery(tmp_path, 2, "2026-11-21", folder_name="2026-11-24")

    fresh = load_settings(environ={}, data_dir=tmp_path / "fresh", show_progress=False)
    _run(fresh, good_a)
    _run(fresh, good_b)

    undone = load_settings(environ={}, data_dir=tmp_path / "undone", show_progress=False)
    _run(undone, good_a)
    _run(undone, wrong)
    wrong_clues = load_clues(store.connect(undone))
    assert (wrong_clues["status"] == "cleared_by_data").sum() > 0  # the wrong night cleared real clues
    with pytest.raises(BiduiError, match="早于已处理的最近一晚 2026-11-24"):
        run_night(undone, good_b)
    with pytest.raises(BiduiError, match=r"^用户 xian（.*）无权撤销一晚的比对：只有.*（prefecture）用户可以$"):
        undo_night(undone, "2026-11-24", COUNTY, "交付目录日期写错")
    with pytest.raises(
        BiduiError, match=r"^只能撤销最近一晚：请先撤销 2026-11-24（bidui night undo 2026-11-24），再撤销 2026-11-20$"
    ):
        undo_night(undone, "2026-11-20", PREFECTURE, "交付目录日期写错")
    with pytest.raises(BiduiError, match=r"^2026-11-21 没有处理过的交付，无需撤销（最近一晚为 2026-11-24）$"):
        undo_night(undone, "2026-11-21", PREFECTURE, "交付目录日期写错")

    result = undo_night(undone, "2026-11-24", PREFECTURE, "交付目录日期写错")
    assert result.clues_kept == []
    assert result.clues_withdrawn + result.clues_restored > 0
    engine = store.connect(undone)
    with engine.connect() as conn:
        withdrawn = set(conn.execute(select(clue_events.c.clue_id).where(clue_events.c.action == "withdraw")).scalars())
    assert len(withdrawn) == result.clues_withdrawn
    assert store.latest_night(store.connect(undone)) == dt.date(2026, 11, 20)
    _run(undone, good_b)

    nights = ["2026-11-20", "2026-11-21"]
    expected, got = _state(fresh, nights, clue_ids=False), _state(undone, nights, clue_ids=False)
    for name in expected:
        pd.testing.assert_frame_equal(got[name], expected[name], obj=name)
    # The corrected night's clues got numbers of their own, none of a withdrawn clue's.
    assert set(load_clues(engine)["clue_id"]) & withdrawn == set()
    assert store.load_links(engine, dt.date(2026, 11, 24)).empty
    with engine.connect() as conn:
        record = conn.execute(select(night_undos)).mappings().one()
        undo_events = conn.execute(select(clue_events).where(clue_events.c.source == "undo")).mappings().all()
    assert (record["delivery_date"], record["user_name"], record["role"], record["reason"]) == (
        dt.date(2026, 11, 24),
        "shi",
        "prefecture",
        "交付目录日期写错",
    )
    assert len(undo_events) > 0
    assert {e["user_name"] for e in undo_events} == {"shi"}
    assert {e["note"] for e in undo_events} == {"撤销 2026-11-24 的比对：交付目录日期写错"}


@pytest.mark.slow
def test_undoing_two_nights_in_a_row_equals_the_first_night_alone(tmp_path):
    first = _delivery(tmp_path, 1, "2026-11-20")
    # Another population (its clues are new, the first night's are cleared), then the first again
    # (the first night's clues are found again, the second's cleared).
    second = _delivery(tmp_path, 2, "2026-11-21")
    third = _delivery(tmp_path, 1, "2026-11-22")

    fresh = load_settings(environ={}, data_dir=tmp_path / "fresh", show_progress=False)
    _run(fresh, first)

    undone = load_settings(environ={}, data_dir=tmp_path / "undone", show_progress=False)
    for delivery in (first, second, third):
        _run(undone, delivery)
    third_undone = undo_night(undone, "2026-11-22", PREFECTURE, "交付有误")
    second_undone = undo_night(undone, "2026-11-21", PREFECTURE, "交付有误")

    # The first undo's own events are not people's moves: nothing is kept back from the second.
    assert (third_undone.clues_kept, second_undone.clues_kept) == ([], [])
    assert third_undone.clues_restored > 0 and second_undone.clues_withdrawn > 0
    expected, got = _state(fresh, ["2026-11-20"]), _state(undone, ["2026-11-20"])
    for name in expected:
        pd.testing.assert_frame_equal(got[name], expected[name], obj=name)
    assert store.latest_night(store.connect(undone)) == dt.date(2026, 11, 20)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("settings", ["postgres"], indirect=True)
def test_undo_locks_the_clues_before_reading_them(settings, tmp_path, monkeypatch):
    """PostgreSQL has no lock on the whole store: a clue moved between undo's reads and its writes
    would be lost, so undo locks the clue rows first."""
    _run(settings, _delivery(tmp_path, 1, "2026-11-20"))
    engine = store.connect(settings)
    with engine.connect() as conn:
        some_clue = conn.execute(select(clues.c.clue_id).limit(1)).scalar_one()
    real = store.load_moved_clues
    while_undoing = []

    def load_moved_clues_elsewhere_first(conn, after_event_id):
        with engine.connect() as other:
            try:
                other.execute(text("select clue_id from clues where clue_id = :id for update nowait"), {"id": some_clue})
                while_undoing.append("free")
            except OperationalError:
                while_undoing.append("locked")
        return real(conn, after_event_id)

    monkeypatch.setattr(store, "load_moved_clues", load_moved_clues_elsewhere_first)
    undo_night(settings, "2026-11-20", PREFECTURE, "交付有误")
    assert while_undoing == ["locked"]
