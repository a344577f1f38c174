"""Undoing the newest night, when a person decides its delivery was wrong (`bidui night undo`).

What a night writes, and how undo takes it back, in one transaction:
- keyed on its date (deleted): the delivery, feed loads, snapshots, findings, links, linkage model,
  review queue and rule runs;
- rewritten in place (put back from the images its ingest kept, pipelines.store.nights): persons
  (IDs first given that night disappear, the others get back their values), households, the
  region reference, and clues.
Clues: a clue the night created is withdrawn (deleted, with a 'withdraw' event: clue events are
append-only, so its number is never given out again); a clue it changed (cleared by data, re-found, re-opened, new evidence) gets back its
state, with an 'undo' event when its status or evidence changes. A clue that people moved after
the night began (issued, verified, …) is left as it is: no verdict is lost; it is listed instead.
Reviewer decisions are kept. The reports under reports/<date>/ stay as they were written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from pipelines import store
from pipelines.access import ADMIN_ROLE, User, require_role
from pipelines.clues.life import make_event, write_events
from pipelines.errors import BiduiError
from pipelines.results import StageResult
from pipelines.settings import Settings

__all__ = ["NightUndone", "undo_night"]


@dataclass
class NightUndone(StageResult):
    """What undoing a night took back."""

    delivery_date: str
    removed: dict[str, int] = field(default_factory=dict)  # rows deleted per table
    persons_before: int = 0
    persons_removed: int = 0
    clues_restored: int = 0
    clues_withdrawn: int = 0
    clues_kept: list[str] = field(default_factory=list)  # moved by people since the night began


def undo_night(settings: Settings, delivery_date: dt.date | str, user: User, reason: str) -> NightUndone:
    """Take back everything the newest night wrote, for a prefecture user, with a reason; recorded in
    night_undos and, for each clue whose state goes back, in clue_events."""
    day = dt.date.fromisoformat(delivery_date) if isinstance(delivery_date, str) else delivery_date
    require_role(user, (ADMIN_ROLE,), "撤销一晚的比对")
    reason = (reason or "").strip()
    if not reason:
        raise BiduiError("请用 --reason 写明撤销的原因")
    with store.write_transaction(store.connect(settings)) as conn:
        # PostgreSQL has no lock on the whole store (SQLite's write transaction has): a clue moved by
        # a person between undo's reads and its writes would be overwritten, so hold them all first.
        store.lock_all_clues(conn)
        newest = store.latest_night(conn)
        if newest is None or day > newest:
            raise BiduiError(f"{day} 没有处理过的交付，无需撤销")
        if day < newest and not store.night_was_delivered(conn, day):
            raise BiduiError(f"{day} 没有处理过的交付，无需撤销（最近一晚为 {newest}）")
        if day < newest:
            raise BiduiError(f"只能撤销最近一晚：请先撤销 {newest}（bidui night undo {newest}），再撤销 {day}")
        night = store.load_night(conn, day)
        if night is None:
            raise BiduiError(f"{day} 没有当晚之前的数据快照（在启用撤销之前处理，或已不在保留的最近几晚之内），无法撤销")
        result = NightUndone(delivery_date=day.isoformat())
        _undo_clues(conn, day, night["last_event_id"], user, reason, result)
        persons_now = store.load_rows(conn, "persons")
        for name in ("persons", "households", "region_reference"):
            store.replace_rows(conn, name, store.load_night_image(conn, day, name))
        before = store.load_night_image(conn, day, "persons")
        result.persons_before = len(before)
        result.persons_removed = len(set(persons_now["person_id"]) - set(before["person_id"]))
        summary = {
            "persons_removed": result.persons_removed,
            "clues_restored": result.clues_restored,
            "clues_withdrawn": result.clues_withdrawn,
            "clues_kept": result.clues_kept,
        }
        store.write_night_undo(conn, day, user.user_name, user.role, reason, summary)
        result.removed = store.delete_night_rows(conn, day)
    return result


def _undo_clues(conn, day: dt.date, last_event_id: int, user: User, reason: str, result: NightUndone) -> None:
    """Clues back to their state before the night, except those people moved since it began."""
    now = store.load_rows(conn, "clues").set_index("clue_id", drop=False)
    before = store.load_night_image(conn, day, "clues").set_index("clue_id", drop=False)
    moved = store.load_moved_clues(conn, last_event_id)
    at = dt.datetime.now().replace(microsecond=0)
    note = f"撤销 {day} 的比对：{reason}"
    events, replaced, restored = [], [], []
    for clue_id in sorted((set(now.index) | set(before.index)) - moved):
        old = before.loc[clue_id].to_dict() if clue_id in before.index else None
        new = now.loc[clue_id].to_dict() if clue_id in now.index else None
        if old == new:
            continue
        replaced.append(clue_id)
        if old is None:  # made by the night: it is in `now` only
            events.append(make_event(clue_id, "withdraw", now.at[clue_id, "status"], "withdrawn", user, at, note, day, "undo"))
            result.clues_withdrawn += 1
            continue
        restored.append(old)
        result.clues_restored += 1
        if new is None or (new["status"], new["evidence_hash"]) != (old["status"], old["evidence_hash"]):
            events.append(make_event(clue_id, "undo", new and new["status"], old["status"], user, at, note, day, "undo"))
    result.clues_kept = sorted(moved & (set(now.index) | set(before.index)) - _untouched(now, before, moved))
    store.replace_rows(conn, "clues", pd.DataFrame(restored, columns=list(before.columns)), keys=replaced)
    write_events(conn, events)


def _untouched(now: pd.DataFrame, before: pd.DataFrame, moved: set[str]) -> set[str]:
    """Moved clues the night itself did not change (nothing of the night's to keep back)."""
    same = set()
    for clue_id in moved & set(now.index) & set(before.index):
        if now.loc[clue_id].to_dict() == before.loc[clue_id].to_dict():
            same.add(clue_id)
    return same
