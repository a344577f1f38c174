"""What a signed-in user may see and do: a region prefix, a department for liaisons, and the moves
of the ledger chain their role allows.

Every place where clues leave or enter the store (`bidui clue list`, `bidui export clues`, ledger
issue and import) filters with `build_clue_filter` and checks moves with `require`. A Scope also
stands for the one who acts (`user_name`, `role`) when a move is recorded in clue_events.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Table, false, func, literal, true

from pipelines.access.users import ROLE_LABELS, User
from pipelines.errors import BiduiError

__all__ = ["ACTION_TEXT", "ROLE_ACTIONS", "Scope", "department_parts", "mask_id", "mask_ids_in_text"]

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


# Full-width forms (U+FF01–FF5E) map one to one onto ASCII, the ideographic space and the invisible
# characters of copy-pasted numbers onto a plain space, typographic hyphens onto '-': the text keeps
# its length, so what is found in the half-width copy can be cut out of the original.
_HALF_WIDTH = (
    {0xFF01 + i: 0x21 + i for i in range(94)}
    | dict.fromkeys(map(ord, "\u3000\u00a0\u200b\u200c\u200d\u2060\ufeff"), " ")
    | dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013"), "-")
)
# An ID number as people type it: digit groups joined by up to three spaces, tabs or hyphens, the
# check character X at the very end.
_DIGIT_RUN = re.compile(r"[0-9]+[Xx]?(?:[ \t-]{1,3}[0-9]+[Xx]?)*")
_DIGIT_GROUP = re.compile(r"[0-9]+[Xx]?")
# What Excel shows of a 15- to 18-digit number it took for a quantity: 5.22725E+17.
_SCIENTIFIC = re.compile(r"(?<![0-9.])[0-9]\.[0-9]+[Ee]\+?1[4-7](?![0-9.])")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# GB/T 2260 province codes: the first two digits of every ID number.
_PROVINCES = frozenset(
    str(code) for code in (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46)
) | frozenset(str(code) for code in (50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82))


def _compact(text: str) -> str:
    """An ID value as bare half-width characters: no spaces, hyphens or Excel text marker."""
    half = text.translate(_HALF_WIDTH)
    return "".join(half.split()).replace("-", "").strip("'\"‘’“”`´")


def mask_id(id_number: str | None, full_ids: bool = False) -> str:
    """An ID number with its birth date hidden: the region (first 6 digits) and what follows the
    birth date stay. '522725199001011234' → '522725********1234' (birth date YYYYMMDD, then sequence
    and check digit); a first-generation 15-digit '522725900101123' → '522725******123' (birth date
    YYMMDD, then the sequence: there is no check digit). Any other value of 11 characters or more
    keeps its first 6 and last 4; a shorter one is masked whole, so nothing of a malformed ID leaks.
    Spaces, hyphens, Excel's leading apostrophe and full-width forms are dropped or made half-width
    first ('５２２７０１ 2012…' reads as '522701…'); None gives ''."""
    text = (id_number or "").strip()
    if full_ids or not text:
        return text
    text = _compact(text)
    if len(text) <= 10:
        return "*" * len(text)
    tail = 3 if len(text) == 15 and text.isdigit() else 4
    return text[:6] + "*" * (len(text) - 6 - tail) + text[-tail:]


def _birth_date(year: str, month: str, day: str) -> bool:
    try:
        born = dt.date(int(year), int(month), int(day))
    except ValueError:
        return False
    return dt.date(1900, 1, 1) <= born <= dt.date.today()


def _checksum_ok(id18: str) -> bool:
    total = sum(int(c) * w for c, w in zip(id18[:17], _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == id18[17].upper()


def _looks_like_id(digits: str) -> bool:
    """Whether 15 to 18 bare characters are an ID number (perhaps mistyped by a digit) rather than a
    record key. A birth date is required: keys built as village code + sequence
    ('522725102203000120') have a real region and pass the checksum one time in eleven, never a date.
    """
    if not (digits[:17].isdigit() and digits[-1:] in "0123456789Xx" and 15 <= len(digits) <= 18):
        return False
    if len(digits) == 18:
        return _birth_date(digits[6:10], digits[10:12], digits[12:14]) and (digits[:2] in _PROVINCES or _checksum_ok(digits))
    if not digits.isdigit() or digits[:2] not in _PROVINCES:
        return False
    if len(digits) == 15:
        return _birth_date("19" + digits[6:8], digits[8:10], digits[10:12])
    return _birth_date(digits[6:10], digits[10:12], digits[12:14])


def _mask_run(original: str, half: str) -> str:
    """A run of digit groups with every ID number in it masked. An ID starts and ends at a group's
    edge; the longest one found from a group wins, so a date or phone number beside it stays."""
    groups = [(m.start(), m.end(), m.group(0)) for m in _DIGIT_GROUP.finditer(half)]
    out, done, i = [], 0, 0
    while i < len(groups):
        found, digits = None, ""
        for j in range(i, len(groups)):
            if digits[-1:] in ("X", "x"):
                break
            digits += groups[j][2]
            if len(digits) > 18:
                break
            if len(digits) >= 15 and _looks_like_id(digits):
                found = (j, digits)
        if found is None:
            i += 1
            continue
        j, digits = found
        out += [original[done : groups[i][0]], mask_id(digits)]
        done, i = groups[j][1], j + 1
    return "".join(out) + original[done:]


def mask_ids_in_text(text: str | None, full_ids: bool = False) -> str:
    """Free text with every ID number in it masked as mask_id does, in any form the feed contract
    allows: 18 or 15 digits, an X at the end, spaces, hyphens or tabs inside, full-width digits and
    letters, Excel's scientific form. '证件 522701 20120316 6879' → '证件 522701********6879'.
    Dates, phone numbers, amounts and record keys without a birth date inside stay. None gives ''."""
    if full_ids or not text:
        return text or ""
    half = text.translate(_HALF_WIDTH)
    pieces, done = [], 0
    for match in _DIGIT_RUN.finditer(half):
        pieces += [text[done : match.start()], _mask_run(text[match.start() : match.end()], match.group(0))]
        done = match.end()
    masked = "".join(pieces) + text[done:]
    half = masked.translate(_HALF_WIDTH)
    pieces, done = [], 0
    for match in _SCIENTIFIC.finditer(half):
        pieces += [masked[done : match.start()], mask_id(match.group(0))]
        done = match.end()
    return "".join(pieces) + masked[done:]


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

    def mask_text(self, text: str | None) -> str:
        """Free text with the ID numbers in it as this user may see them."""
        return mask_ids_in_text(text, self.full_ids)
