"""A hand-made store for the data-quality report: two nights, four feeds, findings, links, review
pairs and night_counts, with every count the report should give worked out below.

Night N1 (2026-11-19): medical_insurance (1 row, 瓮安) and school_enrolment (1 row, 都匀) loaded, clean.
Night N2 (2026-11-20):
  hukou            HK1 瓮安 clean · HK2 瓮安 ID mangled (linked to P2 of 都匀: its own code wins)
                   HK3 都匀 ID checksum + required · HK4 no village, linked to P2 (都匀), ID empty (warning)
  poverty_members  PM1 → P1 (瓮安) ID ≠ birth date · PM2 → P2 (都匀) clean · PM3 not linked, required
                   plus a file-level missing_column error (no row: unattributed)
  medical_insurance rejected (2 rows, both 瓮安) · school_enrolment not delivered (N1's is used)
  links            HK1 P1 id_exact · HK2 P2 singleton · HK3 P2 id_exact · HK4 P2 probabilistic
                   PM1 P1 review_decision · PM2 P2 id_exact · PM3 P3 (no village) singleton
  review_queue     PM2×HK4 open (都匀) · HK2×PM3 decided
  night_counts     522725 R18 open 2, R01 open 1 · 522701 R02 open 4, R09 open 9 (not a quality
                   rule), R17 open 5 (counted by the ID findings instead) · 522725101 R18 (a township: ignored)

Expected on N2 — 瓮安 522725: rows 5 (HK1 HK2 PM1 + 2 rejected), error rows 2 (HK2 PM1), rejected 2,
accuracy 1 − 4/5 = 0.2, id invalid 1 (mangled), id ≠ birth 1, identity 2, contradictions 1, links 2.
都匀 522701: rows 4 (HK3 HK4 PM2 + school), error rows 1 (HK3), accuracy 0.75, id invalid 1
(checksum), missing 1, contradictions 4, links 4, review open 1.
Unattributed: rows 1 (PM3), error rows 1, missing 2 (PM3 + the file-level one), links 1.
Prefecture: rows 10, error rows 4, rejected 2, accuracy 1 − 6/10 = 0.4.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from pipelines import store
from pipelines.store.bulk import bulk_insert
from pipelines.store.tables import links, night_counts, persons, review_queue

N1 = dt.date(2026, 11, 19)
N2 = dt.date(2026, 11, 20)
WENGAN, DUYUN = "522725", "522701"
TAIGOU = "522725101201"  # 太沟村, 瓮安县
SONGLIN = "522701101201"  # 松林村, 都匀市
SEED_REGIONS = Path(__file__).resolve().parents[3] / "seeds" / "regions.csv"
REGION_COLUMNS = {
    "区划代码": "code",
    "名称": "name",
    "级别": "level",
    "是否贫困村": "is_poor_village",
    "贫困村出列年度": "poor_village_exit_year",
    "距县城公里数": "km_to_county_seat",
}
MANGLED = "身份证号被Excel转为科学计数法，已标记无效（不作猜测）"
CHECKSUM = "身份证号校验位错误"


def _regions() -> pd.DataFrame:
    frame = pd.read_csv(SEED_REGIONS, dtype=str).rename(columns=REGION_COLUMNS)
    frame["km_to_county_seat"] = frame["km_to_county_seat"].astype(float)
    return frame.where(frame.notna(), None)


def _snapshot(engine, feed: str, day: dt.date, rows: list[dict], status: str = "loaded") -> None:
    frame = pd.DataFrame(rows)
    frame.insert(0, "row_no", range(1, len(rows) + 1))
    store.write_snapshot(engine, feed, day, frame, {"status": status, "rows": len(rows), "bad_rows": 0})


def _findings(engine, day: dt.date, feed: str, rows: list[tuple]) -> None:
    frame = pd.DataFrame(rows, columns=["row_no", "record_key", "field", "check", "severity", "value", "message"])
    frame["row_no"] = frame["row_no"].astype("Int64")
    store.write_findings(engine, day, feed, "validate", frame)


def build_quality_store(settings, regions: bool = True) -> None:
    """The store described above (regions from the seeds unless the caller already has them)."""
    engine = store.connect(settings)
    if regions:
        store.replace_region_reference(engine, _regions(), source="regions.csv")
    for day in (N1, N2):
        store.record_delivery(engine, day, f"/drop/{day.isoformat()}")

    _snapshot(engine, "medical_insurance", N1, [{"insured_no": "MI1", "village_code": TAIGOU}])
    _snapshot(engine, "school_enrolment", N1, [{"student_no": "SE1", "village_code": SONGLIN}])

    _snapshot(
        engine,
        "hukou",
        N2,
        [
            {"person_no": "HK1", "village_code": TAIGOU},
            {"person_no": "HK2", "village_code": TAIGOU},
            {"person_no": "HK3", "village_code": SONGLIN},
            {"person_no": "HK4", "village_code": None},
        ],
    )
    _findings(
        engine,
        N2,
        "hukou",
        [
            (2, "HK2", "id_number", "id_format", "error", "5.22725E+17", MANGLED),
            (3, "HK3", "id_number", "id_format", "error", "522701194807071230", CHECKSUM),
            (3, "HK3", "name", "required", "error", None, "必填字段“姓名”为空"),
            (4, "HK4", "id_number", "id_empty", "warning", None, "身份证号为空"),
        ],
    )
    store.write_feed_load(engine, N2, "hukou", status="loaded", bad_rows=2)
    _snapshot(engine, "poverty_members", N2, [{"member_no": "PM1"}, {"member_no": "PM2"}, {"member_no": "PM3"}])
    _findings(
        engine,
        N2,
        "poverty_members",
        [
            (None, None, "relation", "missing_column", "error", None, "缺少必填列“与户主关系”"),
            (1, "PM1", "id_number", "id_birth_date", "error", "522725199001011234", "身份证号中的出生日期与出生日期不符"),
            (3, "PM3", "name", "required", "error", None, "必填字段“姓名”为空"),
        ],
    )
    _snapshot(
        engine,
        "medical_insurance",
        N2,
        [{"insured_no": "MI1", "village_code": TAIGOU}, {"insured_no": "MI2", "village_code": TAIGOU}],
        status="rejected",
    )
    store.write_feed_load(engine, N2, "medical_insurance", status="rejected", message="缺少关键列")
    store.write_feed_load(engine, N2, "school_enrolment", status="missing")

    with engine.begin() as conn:
        people = pd.DataFrame(
            [
                {"person_id": "P900000001", "village_code": TAIGOU, "first_seen": N2, "last_seen": N2},
                {"person_id": "P900000002", "village_code": SONGLIN, "first_seen": N2, "last_seen": N2},
                {"person_id": "P900000003", "village_code": None, "first_seen": N2, "last_seen": N2},
            ]
        )
        bulk_insert(conn, persons.name, list(people.columns), people.astype(object))
        conn.execute(
            links.insert(),
            [
                {"delivery_date": N2, "feed": feed, "record_key": key, "person_id": person, "method": method}
                for feed, key, person, method in [
                    ("hukou", "HK1", "P900000001", "id_exact"),
                    ("hukou", "HK2", "P900000002", "singleton"),
                    ("poverty_members", "PM3", "P900000003", "singleton"),
                    ("hukou", "HK3", "P900000002", "id_exact"),
                    ("hukou", "HK4", "P900000002", "probabilistic"),
                    ("poverty_members", "PM1", "P900000001", "review_decision"),
                    ("poverty_members", "PM2", "P900000002", "id_exact"),
                ]
            ],
        )
        conn.execute(
            review_queue.insert(),
            [
                {
                    "delivery_date": N2,
                    "feed": "poverty_members",
                    "record_key": "PM2",
                    "candidate_feed": "hukou",
                    "candidate_key": "HK4",
                    "status": "open",
                },
                {
                    "delivery_date": N2,
                    "feed": "hukou",
                    "record_key": "HK2",
                    "candidate_feed": "poverty_members",
                    "candidate_key": "PM3",
                    "status": "decided",
                },
            ],
        )
        zero = {"found": 0, "closed": 0, "cleared": 0, "overdue": 0, "reopened": 0}
        conn.execute(
            night_counts.insert(),
            [
                {**zero, "delivery_date": N2, "region_code": region, "rule": rule, "open": open_, "found": open_ + 1}
                for region, rule, open_ in [
                    (WENGAN, "R18", 2),
                    (WENGAN, "R01", 1),
                    (DUYUN, "R02", 4),
                    (DUYUN, "R09", 9),
                    (DUYUN, "R17", 5),
                    ("522725101", "R18", 7),
                ]
            ],
        )
