"""Auditing the clues: the event chain is intact, and every clue's row is what its history says.

Each event records the clue's status and verification fields right after it (pipelines.store.audit).
Replaying a clue's events checks that
- each event starts from the status the one before it ended in (a status edited in the table
  shows at the next move, or against the last event);
- between two events, a verification field changes only through a move that sets it (verify sets
  the verdict, rectify the rectification, sign the signature; send-back, re-open and undo clear or
  restore them), so an edit is not laundered by the next move's snapshot;
- the clue row now holds the status and fields of its last event (a withdrawn clue has no row).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Engine, select

from pipelines.access import Scope
from pipelines.clues.states import ACTION_LABELS, STATE_LABELS
from pipelines.store import BrokenLink, verify_chain
from pipelines.store.audit import STATE_COLUMNS, iter_chained_events, state_json
from pipelines.store.tables import clues

__all__ = ["ClueAudit", "ClueMismatch", "audit_clues", "replay_clue"]

WITHDRAWN = "withdrawn"
FIELD_LABELS = {
    "verdict": "核实结果",
    "dismiss_reason": "不属实原因",
    "rectification": "整改措施",
    "rectified_on": "整改完成日期",
    "verified_by": "核实人",
    "verified_on": "核实日期",
    "signed_by": "签字人",
    "signed_on": "签字日期",
}
VERIFICATION = tuple(FIELD_LABELS)
# The verification fields each move may set; the actions in RESTARTING may set any of them.
SETS = {
    "verify": {"verdict", "dismiss_reason", "verified_by", "verified_on"},
    "rectify": {"rectification", "rectified_on"},
    "sign": {"signed_by", "signed_on"},
}
RESTARTING = {"found", "send_back", "reopen", "undo", "withdraw"}


@dataclass(frozen=True)
class ClueMismatch:
    """A clue whose row or history does not add up, and how (Chinese)."""

    clue_id: str
    problem: str


@dataclass
class ClueAudit:
    """`bidui audit verify`'s findings: the chain's broken links and the clues that disagree."""

    events: int = 0
    clues: int = 0
    head_hash: str = ""
    broken: list[BrokenLink] = field(default_factory=list)
    mismatches: list[ClueMismatch] = field(default_factory=list)
    # Clues with history but no row (so no region) that disagree, counted for a regional scope
    # without their ids: a deleted row is still found, and no other county's clue id is shown.
    unplaced: int = 0

    @property
    def ok(self) -> bool:
        return not self.broken and not self.mismatches and not self.unplaced


def _status(value: str | None) -> str:
    if value is None:
        return "（无）"
    return "已撤回" if value == WITHDRAWN else STATE_LABELS.get(value, value)


def _shown(value) -> str:
    return "（空）" if value is None else f"“{value}”"


def replay_clue(events: Iterable[dict], row: dict | None) -> list[str]:
    """What is wrong (Chinese) with one clue's history (its events in order, as stored) and its row
    now (STATE_COLUMNS, as pipelines.store.audit.state_json reads them; None when it has none)."""
    problems: list[str] = []
    status, last_id, known, free = None, None, None, set(VERIFICATION)
    for event in events:
        event_id, action = event["event_id"], event["action"]
        label = ACTION_LABELS.get(action, action)
        reused = action == "found" and status in (None, WITHDRAWN)
        if last_id is not None and not reused and event["from_status"] != status:
            problems.append(
                f"事件 {event_id}（{label}）记录的原状态为“{_status(event['from_status'])}”，"
                f"但上一事件 {last_id} 之后应为“{_status(status)}”：其间线索状态被直接改动"
            )
        status, last_id = event["to_status"], event_id
        free |= set(VERIFICATION) if action in RESTARTING else SETS.get(action, set())
        if event["state"] is not None:
            state = json.loads(event["state"])
            problems += _against_event(event_id, label, status, state, known, free)
            known, free = state, set()
    if last_id is None:
        return problems + (["线索没有任何流转记录"] if row is not None else [])
    return problems + _against_row(row, last_id, status, known, free)


def _against_event(event_id: int, label: str, status: str, state: dict, known: dict | None, free: set[str]) -> list[str]:
    """The state an event recorded, against its own move and the state recorded before it."""
    problems = []
    if state["status"] != status:
        problems.append(f"事件 {event_id}（{label}）之后线索状态为“{_status(state['status'])}”，与该事件的去向不符")
    changed = [f for f in VERIFICATION if known is not None and state[f] != known[f] and f not in free]
    if changed:
        problems.append(
            f"事件 {event_id}（{label}）之前，线索的{'、'.join(FIELD_LABELS[f] for f in changed)}已被改动，流转记录中没有相应操作"
        )
    return problems


def _against_row(row: dict | None, last_id: int, status: str | None, known: dict | None, free: set[str]) -> list[str]:
    """The clue row now, against where its history ends."""
    if row is None:
        return [] if status == WITHDRAWN else [f"流转记录止于事件 {last_id}（“{_status(status)}”），但线索表中已没有该线索"]
    problems = []
    if row["status"] != status:
        problems.append(f"线索表中状态为“{_status(row['status'])}”，流转记录止于事件 {last_id}（“{_status(status)}”）")
    for f in VERIFICATION:
        if known is not None and f not in free and row[f] != known[f]:
            problems.append(f"线索表中{FIELD_LABELS[f]}为{_shown(row[f])}，流转记录中为{_shown(known[f])}")
    return problems


def audit_clues(engine: Engine, scope: Scope) -> ClueAudit:
    """Walk the whole chain of clue events and replay the clues in `scope` against their rows, in one
    read-only pass. The chain is checked whole (a link names only an event id); clues are replayed,
    counted and named only inside the scope."""
    with engine.connect() as conn:
        events = list(iter_chained_events(conn))
        chain = verify_chain(conn, events)
        statement = (
            select(clues.c.clue_id, *(clues.c[c] for c in STATE_COLUMNS))
            .where(scope.build_clue_filter(clues))
            .order_by(clues.c.clue_id)
        )
        rows = {r["clue_id"]: json.loads(state_json(dict(r)) or "null") for r in conn.execute(statement).mappings()}
        stored = set(conn.execute(select(clues.c.clue_id)).scalars())
    by_clue: dict[str, list[dict]] = {}
    for event in events:
        by_clue.setdefault(event["clue_id"], []).append(event)
    audit = ClueAudit(events=chain.events, clues=len(rows), head_hash=chain.head_hash, broken=chain.broken)
    rowless = set(by_clue) - stored
    for clue_id in sorted(set(rows) | (rowless if scope.region_code is None else set())):
        audit.mismatches += [ClueMismatch(clue_id, p) for p in replay_clue(by_clue.get(clue_id, []), rows.get(clue_id))]
    if scope.region_code is not None:
        audit.unplaced = sum(1 for clue_id in rowless if replay_clue(by_clue[clue_id], None))
    return audit
