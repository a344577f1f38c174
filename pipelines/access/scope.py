"""What a signed-in user may see and do: a region prefix, a department for liaisons, and the moves
of the ledger chain their role allows.

Every place where clues leave or enter the store (`bidui clue list`, `bidui export clues`, ledger
issue and import) filters with `build_clue_filter` and checks moves with `require`. A Scope also
stands for the one who acts (`user_name`, `role`) when a move is recorded in clue_events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Table, false, func, literal, true

from pipelines.access.users import ROLE_LABELS, User
from pipelines.errors import BiduiError

__all__ = ["ACTION_TEXT", "ROLE_ACTIONS", "Scope", "department_parts", "mask_id"]

# Who may make which move (ledgers contract, 谁核实、谁签字、谁负责):
#   prefecture  issues ledgers, files (备案) closed clues, re-opens any clue in its prefecture
#   county      issues its own ledgers, records rectification, approves closure (销号), and sends a
#               signed clue back instead of approving it
#   township    records rectification, signs the village's verification (签字背书) or sends it back
#   village     verifies on the ground (属实 / 不属实) and records rectification
#   liaison     verifies and records rectification of its department's clues in its county
#   auditor     reads everything in scope, changes nothing
#   system      the nightly run and its ledger issue (trusted, not a person)
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "prefecture": frozenset({"issue", "file", "reopen"}),
    "county": frozenset({"issue", "rectify", "approve", "send_back"}),
    "township": frozenset({"rectify", "sign", "send_back"}),
    "village": frozenset({"verify", "rectify"}),
    "liaison": frozenset({"verify", "rectify"}),
    "auditor": frozenset(),
    "system": frozenset({"issue", "verify", "rectify", "sign", "send_back", "approve", "file", "reopen"}),
}
ACTION_TEXT = {
    "issue": "下发台账",
    "verify": "核实线索",
    "rectify": "登记整改",
    "sign": "签字背书",
    "send_back": "退回核实",
    "approve": "销号",
    "file": "备案",
    "reopen": "重新打开线索",
}
# A clue's verifying department reads like "公安 + 乡镇"; full-width plus signs and spaces occur
# when people type them, so both are treated alike.
_DEPARTMENT_SPLIT = re.compile(r"[+＋]")
_SPACES = re.compile("[ \u3000\t]")


def department_parts(department: str | None) -> list[str]:
    """'公安 + 乡镇' → ['公安', '乡镇']."""
    if not department:
        return []
    return [part for part in _DEPARTMENT_SPLIT.split(_SPACES.sub("", department)) if part]


def mask_id(id_number: str | None, full_ids: bool = False) -> str:
    """An ID number with its birth date hidden: the region (first 6 digits) and what follows the
    birth date stay. '522725199001011234' → '522725********1234' (birth date YYYYMMDD, then sequence
    and check digit); a first-generation 15-digit '522725900101123' → '522725******123' (birth date
    YYMMDD, then the sequence: there is no check digit). Any other value of 11 characters or more
    keeps its first 6 and last 4; a shorter one is masked whole, so nothing of a malformed ID leaks.
    Surrounding spaces are dropped; None gives ''."""
    text = (id_number or "").strip()
    if full_ids or not text:
        return text
    if len(text) <= 10:
        return "*" * len(text)
    tail = 3 if len(text) == 15 and text.isdigit() else 4
    return text[:6] + "*" * (len(text) - 6 - tail) + text[-tail:]


@dataclass(frozen=True)
class Scope:
    """A user's reach. `region_code` None means everywhere (the system)."""

    user_name: str
    role: str
    region_code: str | None
    department: str | None = None
    full_ids: bool = False

    @classmethod
    def from_user(cls, user: User) -> Scope:
        if not user.active:
            raise BiduiError(f"用户“{user.user_name}”已停用，请联系管理员")
        return cls(user.user_name, user.role, user.region_code, user.department, user.full_ids)

    @classmethod
    def system(cls) -> Scope:
        """The nightly run: every region, every department, full ID numbers."""
        return cls("system", "system", None, None, True)

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    def covers(self, village_code: str | None, department: str | None) -> bool:
        """Whether a clue of this responsible village and verifying department is in scope."""
        if self.region_code is None:
            return True
        if not village_code or not village_code.startswith(self.region_code):
            return False
        if self.role == "liaison":
            return self.department in department_parts(department)
        return True

    def build_clue_filter(self, clues_table: Table) -> ColumnElement[bool]:
        """A where-clause limiting `clues_table` (pipelines.store.tables.clues) to this scope; the
        same decision as `covers`, made in the database."""
        if self.region_code is None:
            return true()
        if not self.region_code.isdigit():  # never from add_user; refuse rather than widen
            return false()
        clause = clues_table.c.village_code.startswith(self.region_code)
        if self.role == "liaison":
            if not self.department:
                return false()
            # '+' || '公安+乡镇' || '+' contains '+公安+' exactly when 公安 is one of the parts.
            parts: ColumnElement[str] = clues_table.c.department
            for space in (" ", "\u3000", "\t"):
                parts = func.replace(parts, space, "")
            parts = func.replace(parts, "＋", "+")
            wrapped = literal("+").concat(parts).concat("+")
            clause = clause & wrapped.contains(f"+{self.department}+", autoescape=True)
        return clause

    def can(self, action: str) -> bool:
        """Whether the role may make this move at all (the region is checked per clue)."""
        return action in ROLE_ACTIONS.get(self.role, frozenset())

    def require(self, action: str) -> None:
        """Raise BiduiError unless the role may make this move."""
        if not self.can(action):
            what = ACTION_TEXT.get(action, action)
            raise BiduiError(f"用户 {self.user_name}（{self.role_label}）无权{what}")

    def mask_id(self, id_number: str | None) -> str:
        """An ID number as this user may see it."""
        return mask_id(id_number, self.full_ids)
