"""Scopes: which clues a user sees (in the database and in Python alike), which moves a role may
make, and how ID numbers are masked."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert, select

from pipelines import store
from pipelines.access.scope import ROLE_ACTIONS, Scope, department_parts, mask_id
from pipelines.access.users import User
from pipelines.errors import BiduiError
from pipelines.store.tables import clues

NIGHT = dt.date(2026, 11, 20)
# (clue_id, responsible village, verifying department); county 522725 has townships 101 and 102,
# 522701 is another county of prefecture 5227, 522601 lies in another prefecture.
CLUES = [
    ("R01-000001", "522725101201", "公安 + 乡镇"),
    ("R05-000001", "522725101202", "教育"),
    ("R06-000001", "522725102301", "医保"),
    ("R16-000001", "522725102302", "公安交管"),
    ("R04-000001", "522701101201", "扶贫＋公安"),
    ("R05-000002", "522601101201", "教育"),
    ("R12-000001", None, "民政 + 乡镇"),
]
ALL = [c[0] for c in CLUES]


def scope(role: str, region: str, department: str | None = None, full_ids: bool = False) -> Scope:
    return Scope.from_user(User(f"{role}-user", None, role, region, department, full_ids, True))


SCOPES = {
    "system": (Scope.system(), ALL),
    "prefecture": (scope("prefecture", "5227"), ALL[:5]),
    "county": (scope("county", "522725"), ALL[:4]),
    "other county": (scope("county", "522701"), ["R04-000001"]),
    "township": (scope("township", "522725101"), ["R01-000001", "R05-000001"]),
    "village": (scope("village", "522725101201"), ["R01-000001"]),
    "police liaison": (scope("liaison", "522725", "公安"), ["R01-000001"]),
    "police liaison elsewhere": (scope("liaison", "522701", "公安"), ["R04-000001"]),
    "education liaison": (scope("liaison", "522725", "教育"), ["R05-000001"]),
    "traffic police liaison": (scope("liaison", "522725", "公安交管"), ["R16-000001"]),
    "township as department": (scope("liaison", "522725", "乡镇"), ["R01-000001"]),
    "prefecture auditor": (scope("auditor", "5227"), ALL[:5]),
    "township auditor": (scope("auditor", "522725102"), ["R06-000001", "R16-000001"]),
}


@pytest.fixture
def engine(settings):
    engine = store.connect(settings)
    with engine.begin() as conn:
        conn.execute(
            insert(clues),
            [
                {
                    "clue_id": clue_id,
                    "rule": clue_id[:3],
                    "subject_feed": "poverty_members",
                    "subject_key": clue_id,
                    "village_code": village,
                    "county_code": village[:6] if village else None,
                    "department": department,
                    "evidence": "[]",
                    "evidence_hash": "0" * 64,
                    "status": "issued",
                    "first_seen": NIGHT,
                    "last_seen": NIGHT,
                    "reopen_count": 0,
                }
                for clue_id, village, department in CLUES
            ],
        )
    return engine


@pytest.mark.parametrize("name", SCOPES)
def test_the_clue_filter_keeps_exactly_the_clues_in_scope(engine, name):
    user_scope, expected = SCOPES[name]
    with engine.connect() as conn:
        seen = (
            conn.execute(select(clues.c.clue_id).where(user_scope.build_clue_filter(clues)).order_by(clues.c.clue_id))
            .scalars()
            .all()
        )
    assert seen == sorted(expected)


@pytest.mark.parametrize("name", SCOPES)
def test_covers_decides_as_the_filter_does(name):
    user_scope, expected = SCOPES[name]
    assert [c for c, village, department in CLUES if user_scope.covers(village, department)] == expected


def test_a_liaison_without_a_department_sees_nothing(engine):
    broken = Scope("x", "liaison", "522725", None)
    with engine.connect() as conn:
        assert conn.execute(select(clues.c.clue_id).where(broken.build_clue_filter(clues))).all() == []
    assert not broken.covers("522725101201", "公安 + 乡镇")


def test_like_wildcards_in_a_department_match_nothing(engine):
    wild = Scope("x", "liaison", "522725", "%")
    with engine.connect() as conn:
        assert conn.execute(select(clues.c.clue_id).where(wild.build_clue_filter(clues))).all() == []


@pytest.mark.parametrize(
    "department, parts",
    [
        ("公安 + 乡镇", ["公安", "乡镇"]),
        ("扶贫＋公安", ["扶贫", "公安"]),
        ("教育", ["教育"]),
        (" 财政 +组织 ", ["财政", "组织"]),
        ("", []),
        (None, []),
    ],
)
def test_department_parts(department, parts):
    assert department_parts(department) == parts


ACTIONS = ["issue", "verify", "rectify", "sign", "send_back", "approve", "file", "reopen"]
ALLOWED = {
    "prefecture": {"issue", "file", "reopen"},
    "county": {"issue", "rectify", "approve", "send_back"},
    "township": {"rectify", "sign", "send_back"},
    "village": {"verify", "rectify"},
    "liaison": {"verify", "rectify"},
    "auditor": set(),
}
REGIONS = {
    "prefecture": "5227",
    "county": "522725",
    "township": "522725101",
    "village": "522725101201",
    "liaison": "522725",
    "auditor": "5227",
}


@pytest.mark.parametrize("role", ALLOWED)
def test_can_follows_the_role_table(role):
    user_scope = scope(role, REGIONS[role], "教育" if role == "liaison" else None)
    assert {a for a in ACTIONS if user_scope.can(a)} == ALLOWED[role]
    assert ROLE_ACTIONS[role] == ALLOWED[role]


def test_an_auditor_reads_but_may_change_nothing():
    auditor = scope("auditor", "5227")
    assert auditor.covers("522725101201", "教育")
    assert not any(auditor.can(a) for a in [*ACTIONS, "found", "clear", ""])
    with pytest.raises(BiduiError, match="^用户 auditor-user（审计/考核）无权销号$"):
        auditor.require("approve")


def test_require_names_the_user_role_and_move():
    with pytest.raises(BiduiError, match="^用户 village-user（村）无权签字背书$"):
        scope("village", "522725101201").require("sign")
    scope("village", "522725101201").require("verify")  # allowed: no error


def test_the_system_scope_may_do_every_move_everywhere():
    system = Scope.system()
    assert all(system.can(a) for a in ACTIONS)
    assert system.covers(None, "民政 + 乡镇")
    assert (system.user_name, system.role, system.full_ids) == ("system", "system", True)


@pytest.mark.parametrize(
    "id_number, masked",
    [
        # 18 digits: region, birth date YYYYMMDD hidden, sequence and check digit
        ("522725199001011234", "522725********1234"),
        ("52272519900101123X", "522725********123X"),
        ("52272519900101123x", "522725********123x"),
        (" 522725199001011234 ", "522725********1234"),
        # first generation, 15 digits: region, birth date YYMMDD hidden, sequence (no check digit)
        ("522725900101123", "522725******123"),
        (" 522725900101123 ", "522725******123"),
        # mangled or mistyped: first 6 and last 4 when longer than 10
        ("5.22701E+17", "5.2270*E+17"),
        ("52272519900101123", "522725*******1123"),  # 17 digits
        ("5227259001011234", "522725******1234"),  # 16 digits
        ("52272590010112X", "522725*****112X"),  # 15 characters, not all digits
        ("12345678901", "123456*8901"),
        # too short to keep both ends: masked whole
        ("5227251990", "**********"),
        ("12345", "*****"),
        ("", ""),
        ("   ", ""),
        (None, ""),
    ],
)
def test_mask_id(id_number, masked):
    assert mask_id(id_number) == masked
    assert scope("township", "522725101").mask_id(id_number) == masked


def test_users_allowed_full_ids_see_them_whole():
    assert scope("county", "522725", full_ids=True).mask_id("522725199001011234") == "522725199001011234"
    assert scope("township", "522725101", full_ids=True).mask_id("522725199001011234") == "522725199001011234"
    assert mask_id("522725199001011234", full_ids=True) == "522725199001011234"
