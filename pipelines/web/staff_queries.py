"""What the staff clue pages read: one page of the clues in a user's scope, and one clue with its
person, household and history. Every read is limited by the user's Scope in SQL, the same filter
the CLI uses.

With a million clues in PostgreSQL the list must stay on indexes: it walks the primary key in
clue_id order and stops after a page, filters by equality where an index can take it (county,
village, status), counts at most COUNT_CAP rows, and finds people by name through ix_persons_name
and ix_clues_person. The conditions marked "for the index" repeat a condition already there in a
form the planner can use; they never widen what is found.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Engine, Select, and_, func, select, true

from pipelines.access import Scope
from pipelines.clues import load_clue
from pipelines.clues.states import OPEN_STATES
from pipelines.store import load_person_names
from pipelines.store.tables import clues, households, persons, rule_runs

__all__ = [
    "COUNT_CAP",
    "NAME_PREFIX_MIN",
    "ClueFilters",
    "ClueListing",
    "build_clue_list",
    "evidence_person",
    "load_clue_in_scope",
    "load_clue_list",
    "load_household",
    "load_rule_codes",
]

# A name is looked for by how it starts from this many characters on; a shorter one must be whole.
NAME_PREFIX_MIN = 2
# Counting past this many clues costs more than the number is worth to the reader ("超过 10,000 条").
COUNT_CAP = 10_000
LIST_COLUMNS = (
    "clue_id",
    "rule",
    "person_id",
    "village_code",
    "department",
    "status",
    "first_seen",
    "deadline",
    "reopen_count",
    "evidence",
)


@dataclass(frozen=True)
class ClueFilters:
    """What the reader asked for on the list (already checked): None means no condition."""

    rule: str | None = None
    status: str | None = None
    region: str | None = None  # a 6-, 9- or 12-digit region code
    overdue: bool = False
    clue_id: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class ClueListing:
    """One page of the list: its rows (dicts) and the number of clues found, None past `cap`."""

    rows: list[dict]
    total: int | None
    cap: int = COUNT_CAP


# Above every character a code or name can hold: `prefix + _TOP` bounds the strings starting with `prefix`.
_TOP = "\U0010ffff"


def _range(column, prefix: str) -> ColumnElement[bool]:
    """The strings starting with `prefix` as a range an index can walk: in byte order (SQLite,
    PostgreSQL's C and C.UTF-8 collations) exactly those. Only ever added beside the LIKE that says
    the same in any collation: PostgreSQL uses an index for LIKE only under the plain C collation,
    SQLite not at all."""
    return (column >= prefix) & (column < prefix + _TOP)


def _region_hint(code: str) -> ColumnElement[bool]:
    """For the index, beside a LIKE on village_code: a village by equality (ix_clues_village), a
    township by a range of it, a county by its county code (ix_clues_county_status, with a status).
    Said once: a condition repeated makes the planner think it far more selective than it is, and
    sort a county's 100,000 clues instead of walking the primary key."""
    if len(code) == 12:
        return clues.c.village_code == code
    if len(code) == 6:
        return clues.c.county_code == code
    return _range(clues.c.village_code, code)


def _conditions(scope: Scope, filters: ClueFilters, today: dt.date) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [scope.build_clue_filter(clues)]
    if scope.region_code is not None and scope.region_code.isdigit() and len(scope.region_code) >= 6:
        conditions.append(_region_hint(scope.region_code))
    if filters.clue_id is not None:
        conditions.append(clues.c.clue_id == filters.clue_id)
    if filters.rule is not None:
        # Clue IDs begin with their rule: the same clues, found on the primary key.
        conditions += [clues.c.rule == filters.rule, _range(clues.c.clue_id, f"{filters.rule}-")]
    if filters.status is not None:
        conditions.append(clues.c.status == filters.status)
    if filters.region is not None and filters.region != scope.region_code:
        conditions += [clues.c.village_code.startswith(filters.region), _region_hint(filters.region)]
    if filters.overdue:
        conditions += [clues.c.status.in_(OPEN_STATES), clues.c.deadline < today]
    if filters.name is not None and len(filters.name) < NAME_PREFIX_MIN:
        # A surname alone starts one name in ten: thousands of people, none of them the one sought.
        conditions.append(persons.c.name == filters.name)
    elif filters.name is not None:
        conditions += [persons.c.name.startswith(filters.name, autoescape=True), _range(persons.c.name, filters.name)]
    return conditions


def _build_matching(scope: Scope, filters: ClueFilters, today: dt.date) -> Select:
    """The clue_id of every clue in `scope` passing `filters` (persons joined only to find by name)."""
    source = clues.join(persons, persons.c.person_id == clues.c.person_id) if filters.name is not None else clues
    return select(clues.c.clue_id).select_from(source).where(and_(true(), *_conditions(scope, filters, today)))


def build_clue_list(scope: Scope, filters: ClueFilters, today: dt.date, limit: int, offset: int = 0) -> Select:
    """`limit` clues from `offset` of those in `scope` passing `filters`, by clue_id, with the
    person's name and ID number. The page is chosen on clues alone, then the persons of its rows
    are joined: never a join for every clue that passes."""
    page = _build_matching(scope, filters, today).order_by(clues.c.clue_id).limit(limit).offset(offset).subquery()
    joined = clues.join(page, page.c.clue_id == clues.c.clue_id).outerjoin(persons, persons.c.person_id == clues.c.person_id)
    return (
        select(*(clues.c[c] for c in LIST_COLUMNS), persons.c.name, persons.c.id_number)
        .select_from(joined)
        .order_by(clues.c.clue_id)
    )


def _build_count(scope: Scope, filters: ClueFilters, today: dt.date) -> Select:
    """How many clues pass, counting no further than one past COUNT_CAP."""
    return select(func.count()).select_from(_build_matching(scope, filters, today).limit(COUNT_CAP + 1).subquery())


def load_clue_list(engine: Engine, scope: Scope, filters: ClueFilters, page: int, size: int, today: dt.date) -> ClueListing:
    """Page `page` (from 1) of `size` clues; the total counted only up to COUNT_CAP."""
    offset = (page - 1) * size
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(build_clue_list(scope, filters, today, size + 1, offset)).mappings()]
        if len(rows) <= size and (rows or page == 1):
            total: int | None = offset + len(rows)  # the last page: nothing to count
        else:
            counted = int(conn.execute(_build_count(scope, filters, today)).scalar() or 0)
            total = counted if counted <= COUNT_CAP else None
    return ClueListing(rows[:size], total, COUNT_CAP)


def load_rule_codes(engine: Engine) -> list[str]:
    """The rules that have run on any night (a small table), for the list's rule filter."""
    with engine.connect() as conn:
        return sorted(conn.execute(select(rule_runs.c.rule).distinct()).scalars())


def load_clue_in_scope(engine: Engine, scope: Scope, clue_id: str) -> tuple[bool, dict | None]:
    """(whether the clue exists, the clue when it is in `scope`)."""
    with engine.connect() as conn:
        clue = load_clue(conn, clue_id, scope)
        if clue is not None:
            return True, clue
        return load_clue(conn, clue_id) is not None, None


def load_household(engine: Engine, household_code: str | None) -> dict | None:
    """A household of the base map, with its head's name (None when there is no such code)."""
    if not household_code:
        return None
    with engine.connect() as conn:
        row = conn.execute(select(households).where(households.c.household_code == household_code)).mappings().first()
    if row is None:
        return None
    household = dict(row)
    head = household.get("head_person_id")
    household["head_name"] = load_person_names(engine, [head]).get(head, (None, None))[0] if head else None
    return household


def evidence_person(evidence: str | None) -> tuple[str | None, str | None]:
    """(name, ID number) the evidence itself gives, for a clue without a person in the base map."""
    try:
        items = json.loads(evidence or "[]")
    except ValueError:
        return None, None
    fields: dict = {}
    for item in items if isinstance(items, list) else [items]:
        if isinstance(item, dict) and isinstance(item.get("fields"), dict):
            fields.update(item["fields"])
    name = next((fields[k] for k in ("name", "head_name", "owner_name", "姓名") if fields.get(k)), None)
    id_number = next((fields[k] for k in ("id_number", "head_id", "owner_id", "证件号码") if fields.get(k)), None)
    return (str(name) if name else None), (str(id_number) if id_number else None)
