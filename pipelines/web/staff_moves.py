"""The clue page's forms as moves: which moves a role is offered from a clue's state, and a form's
typed values as the fields `pipelines.clues.act` takes — the same fields, defaults and date format
as `bidui clue verify|rectify|sign|send-back|approve|file|reopen` (pipelines/cli/clues.py)."""

from __future__ import annotations

import datetime as dt
import re

from pipelines.access import Scope
from pipelines.clues.states import next_state
from pipelines.errors import BiduiError

__all__ = ["FORM_ACTIONS", "FORM_FIELDS", "move_fields", "offered"]

# The moves the clue page offers, in the order of a clue's life (issuing is the ledgers' page).
FORM_ACTIONS = ("verify", "rectify", "sign", "send_back", "approve", "file", "reopen")
# Every field a move's form may carry.
FORM_FIELDS = (
    "verdict",
    "dismiss_reason",
    "verified_by",
    "verified_on",
    "rectification",
    "rectified_on",
    "signed_by",
    "signed_on",
    "note",
)
# Who sends back from where (act refuses the rest): the township a verification it will not sign,
# the county a signed clue it will not close.
_SEND_BACK_FROM = {"township": "rectified", "county": "signed"}
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_LONGEST_TEXT = 2000


def offered(scope: Scope, action: str, status: str) -> bool:
    """Whether the viewer's role may make `action` from `status` (act decides; this only offers)."""
    if not scope.can(action) or next_state(action, status) is None:
        return False
    return action != "send_back" or _SEND_BACK_FROM.get(scope.role, status) == status


def _date(text: str, label: str, today: dt.date) -> dt.date:
    """A YYYY-MM-DD date typed into a form (`today` when left empty); BiduiError naming `label`."""
    text = text.strip()
    if not text:
        return today
    try:
        if not _DAY.fullmatch(text):  # fromisoformat alone would also take 20261201
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise BiduiError(f"{label}“{text}”格式不对，应为 YYYY-MM-DD") from exc


def _text(typed: dict[str, str], name: str, label: str) -> str | None:
    value = typed.get(name, "").strip()
    if len(value) > _LONGEST_TEXT:
        raise BiduiError(f"{label}过长（最多 {_LONGEST_TEXT} 字）")
    return value or None


def move_fields(action: str, typed: dict[str, str], signer: str, today: dt.date) -> dict:
    """The fields of a move from its form (BiduiError, in Chinese, for what cannot be read). Who
    verifies or signs defaults to `signer`, the signed-in user's name; a date to `today`."""
    note = _text(typed, "note", "说明")
    if action == "verify":
        return {
            "verdict": typed.get("verdict", "").strip(),
            "dismiss_reason": _text(typed, "dismiss_reason", "不属实原因"),
            "verified_by": _text(typed, "verified_by", "核实人") or signer,
            "verified_on": _date(typed.get("verified_on", ""), "核实日期", today),
            "note": note,
        }
    if action == "rectify":
        return {
            "rectification": _text(typed, "rectification", "整改措施"),
            "rectified_on": _date(typed.get("rectified_on", ""), "整改完成日期", today),
            "note": note,
        }
    if action == "sign":
        return {
            "signed_by": _text(typed, "signed_by", "签字人") or signer,
            "signed_on": _date(typed.get("signed_on", ""), "签字日期", today),
            "note": note,
        }
    return {"note": note}
