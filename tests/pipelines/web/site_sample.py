"""A small hand-made store for the site's tests: the seed region reference, clues in two counties
over three nights (with their night_counts), a few persons, and one user of every role.

Clues: R05-000001, R05-000002, R13-000001 in 太沟村 (522725101201), R06-000001 in 者板村 (522725101202),
all of 瓮安县 issued on 2026-11-20 (R05 overdue from 2026-12-06); R05-000003, R06-000002 in 松林村 (都匀市
522701101201), still 'new'. Departments: R05 教育, R06 医保, R13 公安 + 乡镇.

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
from pipelines.access import Scope, add_user
from pipelines.clues.counts import write_night_counts
from pipelines.clues.life import FIRED_COLUMNS, apply_rule_run
from pipelines.ledgers import issue_ledgers
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
        {"rule": r, "status": "ran", "fired": int((frame["rule"] == r).sum()), "seconds": 0.1, "message": None} for r in DEADLINES
    ]


def build_site_store(settings) -> None:
    """Regions, persons, three nights of clues (the last subject of each county appears on the
    second night) with night_counts, the users, and 瓮安县's ledger issued on the newest night's
    date (its clues 'issued', R05's 15-day deadline 2026-12-05 already past; 都匀市's stay 'new')."""
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
    issue_ledgers(engine, settings, Scope.system(), NIGHTS[-1], counties=["522725"])


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


# --- the review queue (候选配对审核) -------------------------------------------------------------

# One gray-zone pair on the newest night: 王小明 in the household register (太沟村) and 王晓明 in
# medical insurance (者板村), whose ID numbers differ by two swapped digits.
REVIEW_PAIR = ("hukou", "H-0201", "medical_insurance", "MI-0201")
# The name's u is its term-frequency u (a common name agrees by chance more often), as the linker stores it.
REVIEW_LEVELS = {"name": 3, "id_number": 1, "region": 2, "tf_u": {"name": 0.005}}


def review_model() -> dict:
    """A three-comparison model with its thresholds, as pipelines.link stores a night's model."""
    from matchers.classification import ComparisonLevels, FellegiSunter

    model = FellegiSunter(
        [
            ComparisonLevels("name", {-1: "缺失", 0: "不同", 1: "读音相近", 2: "字形相近", 3: "读音相同", 4: "完全一致"}),
            ComparisonLevels("id_number", {-1: "缺失", 0: "不同", 1: "相差两位", 2: "相差一位", 3: "完全一致"}),
            ComparisonLevels("region", {-1: "缺失", 0: "不同县", 1: "同县不同乡镇", 2: "同乡镇不同村", 3: "同村"}),
        ],
        m={"name": [0.02, 0.03, 0.05, 0.1, 0.8], "id_number": [0.01, 0.04, 0.05, 0.9], "region": [0.05, 0.05, 0.1, 0.8]},
        u={"name": [0.9, 0.05, 0.03, 0.015, 0.005], "id_number": [0.97, 0.02, 0.009, 0.001], "region": [0.7, 0.2, 0.08, 0.02]},
        prior=0.1,
    )
    return {**model.to_dict(), "upper": 0.95, "lower": 0.3}


def add_review_pair(settings, day: dt.date = NIGHTS[-1]) -> None:
    """The newest night linked with one open review pair (REVIEW_PAIR): the two records' snapshot
    rows, their links (each its own person so far), the night's model and the pair in review_queue."""
    from pipelines.basemap.explain import explain_levels

    engine = store.connect(settings)
    hukou = pd.DataFrame(
        [
            {
                "row_no": 2,
                "person_no": "H-0201",
                "id_number": "522725199001011234",
                "name": "王小明",
                "sex": "男",
                "ethnicity": "汉族",
                "birth_date": "1990-01-01",
                "hukou_no": "HK-0201",
                "relation": "户主",
                "village_code": TAIGOU,
                "address": "新井镇太沟村一组",
                "state": "正常",
            }
        ]
    )
    insurance = pd.DataFrame(
        [
            {
                "row_no": 2,
                "insured_no": "MI-0201",
                "name": "王晓明",
                "id_number": "522725199001011243",
                "village_code": ZHEBAN,
                "year": "2026",
                "state": "正常参保",
            }
        ]
    )
    store.write_snapshot(engine, "hukou", day, hukou, load=dict(status="loaded", rows=1))
    store.write_snapshot(engine, "medical_insurance", day, insurance, load=dict(status="loaded", rows=1))
    model = review_model()
    levels = json.dumps(REVIEW_LEVELS, sort_keys=True)
    probability = explain_levels(model, levels)["probability"]
    links = pd.DataFrame(
        [
            ("hukou", "H-0201", "P000000201", None, "singleton", 1.0, None, None, None, None),
            ("medical_insurance", "MI-0201", "P000000202", None, "singleton", 1.0, None, None, None, None),
        ],
        columns=store.LINK_COLUMNS,
    )
    people = pd.DataFrame(
        [
            {"person_id": "P000000201", "name": "王小明", "id_number": "522725199001011234", "village_code": TAIGOU},
            {"person_id": "P000000202", "name": "王晓明", "id_number": "522725199001011243", "village_code": ZHEBAN},
        ],
        columns=[c for c in store.PERSON_COLUMNS if c not in ("first_seen", "last_seen")],
    )
    households = pd.DataFrame(columns=[c for c in store.HOUSEHOLD_COLUMNS if c not in ("first_seen", "last_seen")])
    review = pd.DataFrame([(*REVIEW_PAIR, probability, 0.7, levels, "open")], columns=store.REVIEW_COLUMNS)
    store.write_base_map(engine, day, links, people.astype(object), households, review, model)


# --- the cross-check samples (交叉检查抽样) --------------------------------------------------------


def add_cross_check_samples(settings) -> dict[str, int]:
    """Two stored samples as `bidui sample` leaves them, drawn by the officer: 瓮安县's (太沟村, one
    household of 张三 with a full ID number, one 返贫户) and 都匀市's (松林村); returns county → id."""
    drawn_at = dt.datetime(2026, 11, 21, 9, 0)
    ids = {}
    for county, name, village, village_name, head, head_id in (
        ("522725", "瓮安县", TAIGOU, "太沟村", "张三", "522725201003031211"),
        ("522701", "都匀市", SONGLIN, "松林村", "钱七", "522701200901011219"),
    ):
        households = [
            {
                "village_code": village,
                "code": f"HH-{county}-1",
                "stratum": "2026年脱贫户",
                "drawn_for": "2026年脱贫户",
                "head_name": head,
                "head_id": head_id,
                "identified_year": "2015",
                "status": "已脱贫",
                "exit_year": "2026",
                "size": "3",
            },
            {
                "village_code": village,
                "code": f"HH-{county}-2",
                "stratum": "返贫户（全覆盖）",
                "drawn_for": "返贫户（全覆盖）",
                "head_name": f"{head}弟",
                "head_id": None,
                "identified_year": "2015",
                "status": "返贫",
                "exit_year": "2019",
                "size": "2",
            },
        ]
        drawn = {
            "county_name": name,
            "scheme": "安徽省2019年脱贫攻坚市际交叉考核方案（七、样本抽取）",
            "rules": ["抽村：从 4 个不同乡镇各抽 1 个村"],
            "fallbacks": [f"{village_name}：2023—2025年脱贫户仅 0 户（应抽 4 户），仍少 4 户"],
            "households_date": NIGHTS[-1].isoformat(),
            "members_date": NIGHTS[-1].isoformat(),
            "link_date": None,
            "villages": [
                {
                    "number": 1,
                    "village_code": village,
                    "name": village_name,
                    "township_code": village[:9],
                    "township": "某镇",
                    "kind": "建档立卡贫困村",
                    "drawn_for": "建档立卡贫困村",
                    "registered": 5,
                    "distance": 51.5,
                }
            ],
            "households": households,
        }
        row = {
            "county_code": county,
            "year": 2026,
            "seed": 11,
            "data_date": NIGHTS[-1],
            "user_name": "officer",
            "created_at": drawn_at,
            "file": f"/nowhere/{name}抽样.xlsx",
            "villages": 1,
            "households": 2,
            "drawn": drawn,
        }
        ids[county] = store.write_sample(store.connect(settings), row)
    return ids
