"""The life of a clue (ledgers contract): states, who may move a clue, and what each move needs.

```
new ──issue──▶ issued ──verify(属实)──▶ confirmed ──rectify──▶ rectified ──sign──▶ signed ──approve──▶ closed ──file──▶ filed
                 │                                                           ▲          │
                 └──verify(不属实, reason)──────────────────────────────────┘          └─ send back ─▶ issued
```
A 不属实 verification joins the chain where the township signs: the clue waits in `rectified`
("verified, awaiting signature") with verdict 不属实, so "whoever verifies signs" holds on both
paths. The township may also send a verification back before signing.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ACTION_LABELS", "MOVES", "OPEN_STATES", "STATE_LABELS", "VERDICTS", "next_state"]

STATES = ("new", "issued", "confirmed", "rectified", "signed", "closed", "filed", "cleared_by_data")
# Open: somebody still has to act on it; past its deadline it is overdue.
OPEN_STATES = ("issued", "confirmed", "rectified", "signed")
STATE_LABELS = {
    "new": "待下发",
    "issued": "已下发待核实",
    "confirmed": "核实属实待整改",
    "rectified": "待乡镇签字",
    "signed": "已签字待销号",
    "closed": "已销号",
    "filed": "已备案",
    "cleared_by_data": "数据已消除",
    # Only in the history of a clue whose night was undone (the clue itself is gone).
    "withdrawn": "已撤回（比对撤销）",
}
ACTION_LABELS = {
    "found": "比对发现",
    "issue": "下发",
    "verify": "核实",
    "rectify": "整改",
    "sign": "签字背书",
    "send_back": "退回",
    "approve": "销号",
    "file": "备案",
    "reopen": "重新打开",
    "clear": "数据已消除",
    "refound": "再次发现",
    "evidence": "证据更新",
    "withdraw": "撤回（比对撤销）",
    "undo": "恢复到撤销的比对之前",
}
VERDICTS = ("属实", "不属实")


@dataclass(frozen=True)
class Move:
    """A transition a user can make: from which states, and the fields it needs."""

    action: str
    sources: tuple[str, ...]
    needs: tuple[str, ...] = ()


MOVES: dict[str, Move] = {
    "issue": Move("issue", ("new",)),
    "verify": Move("verify", ("issued",), ("verdict", "verified_by", "verified_on")),
    "rectify": Move("rectify", ("confirmed",), ("rectification", "rectified_on")),
    "sign": Move("sign", ("rectified",), ("signed_by", "signed_on")),
    "send_back": Move("send_back", ("rectified", "signed"), ("note",)),
    "approve": Move("approve", ("signed",)),
    "file": Move("file", ("closed",)),
    "reopen": Move("reopen", ("closed", "filed"), ("note",)),
}


def next_state(action: str, current: str, verdict: str | None = None) -> str | None:
    """The state `action` leads to from `current`, or None when it is not allowed there."""
    move = MOVES.get(action)
    if move is None or current not in move.sources:
        return None
    if action == "verify":
        return "confirmed" if verdict == "属实" else "rectified"
    return {
        "issue": "issued",
        "rectify": "rectified",
        "sign": "signed",
        "send_back": "issued",
        "approve": "closed",
        "file": "filed",
        "reopen": "issued",
    }[action]
