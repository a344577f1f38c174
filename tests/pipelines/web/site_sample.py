"""A small hand-made store for the site's tests: the seed region reference, clues in two counties
over three nights (with their night_counts), a few persons, and one user of every role.

Users (password SITE_PASSWORD for all):
  officer   prefecture 5227 (the data officer)     wengan    county 522725 (瓮安县)
  duyun     county 522701 (都匀市)                 xinjing   township 522725101 (新井镇)
  taigou    village 522725101201 (太沟村)          edu       liaison 522725, 教育
  auditor   auditor 5227
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pandas as pd

from pipelines import store
from pipelines.access import add_user
from pipelines.clues.counts import write_night_counts
from pipelines.clues.life import FIRED_COLUMNS, apply_rule_run
from pipelines.store.bulk import bulk_insert
from pipelines.store.tables import persons

SITE_PASSWORD = "site-secret-2026"
NIGHTS = (dt.date(2026, 11, 18), dt.date(2026, 11, 19), dt.date(2026, 11, 20))
DEADLINES = {"R05": 15, "R06": 30, "R13": 30}
TAIGOU = "522725101201"  # 太沟村, 新井镇, 瓮安县
ZHEBAN = "522725101202"  # 者板村, 新井镇, 瓮安县
SONGLIN = "522701101201"  # 松林村, 清湾镇, 都匀市
USERS = {
    "officer": ("prefecture", "5227", None),
    "wengan": ("county", "522725", None),
    "duyun": ("county", "522701", None),
    "xinjing": ("township", "522725101", None),
    "taigou": ("village", TAIGOU, None),
    "edu": ("liaison", "522725", "教育"),
    "auditor": ("auditor", "5227", None),
}
REGION_COLUMNS = {
    "区划代码": "code",
    "名称": "name",
    "级别": "level",
    "是否贫困村": "is_poor_village",
    "贫困村出列年度": "poor_village_exit_year",
    "距县城公里数": "km_to_county_seat",
}
SEED_REGIONS = Path(__file__).resolve().parents[3] / "seeds" / "regions.csv"
# (rule, subject key, village, department, person id, name, ID number)
SUBJECTS = [
    ("R05", "PM-0001", TAIGOU, "教育", "P000000001", "张三", "522725201003031211"),
    ("R05", "PM-0002", TAIGOU, "教育", "P000000002", "李四", "522725200805051233"),
    ("R06", "PM-0003", ZHEBAN, "医保", "P000000003", "王五", "522725195503031214"),
    ("R13", "PM-0004", TAIGOU, "公安 + 乡镇", "P000000004", "赵六", "522725196012121236"),
    ("R05", "PM-0101", SONGLIN, "教育", "P000000101", "钱七", "522701200901011219"),
    ("R06", "PM-0102", SONGLIN, "医保", "P000000102", "孙八", "522701194807071238"),
]


def regions_frame() -> pd.DataFrame:
    frame = pd.read_csv(SEED_REGIONS, dtype=str).rename(columns=REGION_COLUMNS)
    frame["km_to_county_seat"] = frame["km_to_county_seat"].astype(float)
    return frame.where(frame.notna(), None)


def fired(subjects) -> pd.DataFrame:
    rows = [
        {
            "rule": rule,
            "subject_feed": "poverty_members",
            "subject_key": key,
            "person_id": person,
            "household_code": None,
            "household_no": f"HH-{key}",
            "village_code": village,
            "department": department,
            "evidence": json.dumps(
                [{"feed": "poverty_members", "record_key": key, "fields": {"姓名": name, "证件号码": id_number}}],
                ensure_ascii=False,
                sort_keys=True,
            ),
        }
        for rule, key, village, department, person, name, id_number in subjects
    ]
    return pd.DataFrame(rows, columns=FIRED_COLUMNS)


def _runs(frame: pd.DataFrame) -> list[dict]:
    return [
        {"rule": r, "status": "ran", "fired": int((frame["rule"] == r).sum()), "seconds": 0.1, "message": None}
        for r in DEADLINES
    ]


def build_site_store(settings) -> None:
    """Regions, persons, three nights of clues (the last subject of each county appears on the
    second night) with night_counts, and the users."""
    engine = store.connect(settings)
    store.replace_region_reference(engine, regions_frame(), source="regions.csv")
    with engine.begin() as conn:
        rows = pd.DataFrame(
            [
                {"person_id": p, "name": n, "id_number": i, "village_code": v, "first_seen": NIGHTS[0], "last_seen": NIGHTS[-1]}
                for _r, _k, v, _d, p, n, i in SUBJECTS
            ]
        )
        bulk_insert(conn, persons.name, list(rows.columns), rows.astype(object))
    for index, day in enumerate(NIGHTS):
        subjects = [s for s in SUBJECTS if index > 0 or s[1] not in ("PM-0004", "PM-0102")]
        frame = fired(subjects)
        apply_rule_run(engine, settings, day, frame, _runs(frame), DEADLINES)
        write_night_counts(engine, day)
    for name, (role, region, department) in USERS.items():
        add_user(engine, name, SITE_PASSWORD, role, region, department=department, display_name=f"{name}用户")


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in(client, user_name: str, password: str = SITE_PASSWORD):
    """Sign `client` (a TestClient) in through the sign-in form; returns the response."""
    page = client.get("/login")
    return client.post(
        "/login",
        data={"csrf_token": csrf_of(page.text), "user_name": user_name, "password": password, "next": "/"},
        follow_redirects=False,
    )
