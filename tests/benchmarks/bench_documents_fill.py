"""The documents benchmark's data (bench_documents.py) on top of the site benchmark's store
(bench_site_fill.fill): what the bulletin, the quality report and the sample read and fill() leaves
out. Nothing here is real data; names and ID numbers are fill()'s synthetic ones.

- The 建档立卡 registry: a seeded share of the base map's households is registered; the snapshots of
  poverty_households (a row per registered household), poverty_members (a row per person of those
  households, the member keys the links already name) and hukou (a row per person) on the newest
  night, and one earlier snapshot of each on the last night of the month before, a little smaller
  (persons and households registered since). The poverty_members links of persons outside the
  registry are removed, so the base map has general households (一般农户) for the sample.
- Validation findings of those snapshots at a few percent of rows: invalid ID numbers of every kind
  the quality report counts (the snapshot value mangled to match), empty ID numbers, empty mandatory
  fields, values outside their lists, bad dates and years.
- ledger_rows: a row per clue issued (the clue's issue event, the county and day of fill()'s
  ledger_issues), written by one INSERT … SELECT from the clues and their events.
- The feed loads of those nights say loaded, with their real row and bad-row counts.
"""

from __future__ import annotations

import datetime as dt
import json
import time

import numpy as np
import pandas as pd
from bench_site_fill import NEWEST, _copy, _say
from sqlalchemy import select, text

from pipelines.catalog.feeds import FEEDS
from pipelines.store.bulk import raw_frame
from pipelines.store.tables import households as households_table
from pipelines.store.tables import persons as persons_table
from pipelines.store.tables import region_reference

__all__ = ["EARLIER", "REGISTRY_FEEDS", "fill_documents", "has_documents_data", "table_sizes"]

# The last night of the month before the newest: the bulletin's previous month reads it.
EARLIER = NEWEST.replace(day=1) - dt.timedelta(days=1)
REGISTRY_FEEDS = ("poverty_households", "poverty_members", "hukou")
REGISTERED_SHARE = 0.8
# Registered (or born, moved in) between the earlier night and the newest: absent from the earlier snapshots.
NEW_SINCE_EARLIER = {"poverty_households": 0.005, "poverty_members": 0.015, "hukou": 0.01}

CATEGORIES = np.array(["一般贫困户", "低保贫困户", "特困供养贫困户"])
CAUSES = np.array(
    ["因病", "因残", "因学", "因灾", "缺土地", "缺水", "缺技术", "缺劳力", "缺资金", "交通条件落后", "自身发展动力不足"]
)
RELATIONS = np.array(["配偶", "之子", "之女", "之孙子", "之孙女", "之父", "之母", "其他"])
SCHOOLING = np.array(["学前教育", "小学", "七年级", "八年级", "九年级", "高中", "中职", "大专及以上", "非在校生"])
HEALTH = np.array(["健康", "长期慢性病", "患有大病", "残疾"])

# Per feed: the ID field, the mandatory fields that may come empty, a listed field and a date/year field.
ID_FIELD = {"poverty_households": "head_id", "poverty_members": "id_number", "hukou": "id_number"}
REQUIRED_FIELDS = {
    "poverty_households": ("head_name", "village_code"),
    "poverty_members": ("name", "household_no"),
    "hukou": ("name", "village_code"),
}
ENUM_FIELD = {"poverty_households": ("status", "已出列"), "poverty_members": ("relation", "儿子"), "hukou": ("state", "外出")}
DATE_FIELD = {
    "poverty_households": ("exit_year", "year_format", "20l8"),
    "poverty_members": ("birth_date", "date_format", "1985.13.40"),
    "hukou": ("birth_date", "date_format", "19850230"),
}
# Per row, the chance of each finding: (kind, share). The ID kinds add up to about 2 %.
ID_KINDS = (("mangled", 0.004), ("checksum", 0.008), ("length", 0.003), ("chars", 0.002), ("birthdate", 0.001))
ID_MESSAGES = {
    "mangled": "身份证号被Excel转为科学计数法，已标记无效（不作猜测）",
    "length": "身份证号位数错误（应为 18 位）：{value}",
    "chars": "身份证号含有非法字符：{value}",
    "checksum": "身份证号校验位错误",
    "birthdate": "身份证号中的出生日期不存在",
}
EMPTY_ID, EMPTY_REQUIRED, BAD_ENUM, BAD_DATE = 0.003, 0.01, 0.005, 0.003


# --- reading what fill() wrote ---------------------------------------------------------------


def read_people(engine) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """(persons, households, region code → name) as fill() stored them, persons in number order."""
    p, h = persons_table.c, households_table.c
    person_columns = ["person_id", "household_code", "name", "id_number", "sex", "birth_date", "ethnicity", "village_code"]
    with engine.connect() as conn:
        people = raw_frame(
            conn, select(*(p[c] for c in person_columns), p.hukou_state).order_by(p.person_id), [*person_columns, "hukou_state"]
        )
        houses = raw_frame(
            conn,
            select(h.household_code, h.hukou_no, h.village_code, h.head_person_id).order_by(h.household_code),
            ["household_code", "hukou_no", "village_code", "head_person_id"],
        )
        names = dict(conn.execute(select(region_reference.c.code, region_reference.c.name)).all())
    people["number"] = people["person_id"].str[1:].astype(np.int64)
    return people, houses, names


# --- the registry snapshots ------------------------------------------------------------------


def _keys(prefix: str, numbers: np.ndarray) -> np.ndarray:
    return (prefix + pd.Series(numbers).map("{:010d}".format)).to_numpy()


def build_registry(
    rng: np.random.Generator, people: pd.DataFrame, houses: pd.DataFrame, names: dict[str, str]
) -> dict[str, pd.DataFrame]:
    """The newest night's snapshot rows of the three registry feeds (without row_no)."""
    registered = rng.random(len(houses)) < REGISTERED_SHARE
    head_of = pd.Series(houses["head_person_id"].to_numpy(), index=houses["household_code"].to_numpy())
    is_head = people["person_id"].to_numpy() == head_of.reindex(people["household_code"]).to_numpy()
    relation = np.where(is_head, "户主", RELATIONS[rng.integers(0, len(RELATIONS), len(people))])

    reg = houses[registered].reset_index(drop=True)
    heads = people.set_index("person_id").loc[reg["head_person_id"]]
    n = len(reg)
    status = rng.choice(np.array(["已脱贫", "未脱贫", "返贫"]), n, p=[0.75, 0.22, 0.03])
    exited = status == "已脱贫"
    exit_year = np.where(exited, rng.integers(2016, 2027, n), 0)
    identified = np.where(exited, np.minimum(rng.integers(2014, 2020, n), exit_year - 1), rng.integers(2014, 2027, n))
    category = CATEGORIES[rng.choice(3, n, p=[0.7, 0.25, 0.05])]
    sizes = people.groupby("household_code").size().reindex(reg["household_code"]).to_numpy()
    relocated = rng.random(n) < 0.1
    poverty_households = pd.DataFrame(
        {
            "household_no": reg["household_code"].str[1:].to_numpy(),
            "head_name": heads["name"].to_numpy(),
            "head_id": heads["id_number"].to_numpy(),
            "village_code": reg["village_code"].to_numpy(),
            "category": category,
            "identified_year": identified.astype(str),
            "status": status,
            "exit_year": np.where(exited, exit_year.astype(str), None),
            "main_cause": CAUSES[rng.integers(0, len(CAUSES), n)],
            "size": sizes.astype(str),
            "income_per_capita": rng.integers(2800, 16000, n).astype(str),
            "dibao_income": np.where(category == "低保贫困户", rng.integers(1200, 6000, n).astype(str), "0"),
            "relocated": np.where(relocated, "是", "否"),
            "moved_in": np.where(relocated, np.where(rng.random(n) < 0.9, "是", "否"), None),
            "phone": ("139" + pd.Series(rng.integers(0, 10**8, n)).map("{:08d}".format)).to_numpy(),
        }
    )

    in_registry = people["household_code"].isin(reg["household_code"]).to_numpy()
    members = people[in_registry]
    m = len(members)
    poverty_members = pd.DataFrame(
        {
            "member_no": _keys("PM", members["number"].to_numpy()),
            "household_no": members["household_code"].str[1:].to_numpy(),
            "name": members["name"].to_numpy(),
            "id_number": members["id_number"].to_numpy(),
            "sex": members["sex"].to_numpy(),
            "ethnicity": members["ethnicity"].to_numpy(),
            "birth_date": members["birth_date"].to_numpy(),
            "relation": relation[in_registry],
            "schooling": SCHOOLING[rng.choice(len(SCHOOLING), m, p=[0.02, 0.07, 0.02, 0.02, 0.02, 0.03, 0.02, 0.02, 0.78])],
            "health": HEALTH[rng.choice(len(HEALTH), m, p=[0.8, 0.12, 0.03, 0.05])],
            "insured": np.where(rng.random(m) < 0.97, "是", "否"),
        }
    )

    villages = people["village_code"]
    dead = people["hukou_state"].to_numpy() == "死亡"
    hukou_no = pd.Series(houses["hukou_no"].to_numpy(), index=houses["household_code"].to_numpy())
    hukou = pd.DataFrame(
        {
            "person_no": _keys("HK", people["number"].to_numpy()),
            "id_number": people["id_number"].to_numpy(),
            "name": people["name"].to_numpy(),
            "sex": people["sex"].to_numpy(),
            "ethnicity": people["ethnicity"].to_numpy(),
            "birth_date": people["birth_date"].to_numpy(),
            "hukou_no": hukou_no.reindex(people["household_code"]).to_numpy(),
            "relation": relation,
            "village_code": villages.to_numpy(),
            "address": (
                "贵州省黔南州"
                + villages.str[:9].map(names).fillna("")
                + villages.map(names).fillna("")
                + pd.Series(rng.integers(1, 12, len(people))).astype(str)
                + "组"
                + pd.Series(rng.integers(1, 80, len(people))).astype(str)
                + "号"
            ).to_numpy(),
            "state": people["hukou_state"].to_numpy(),
            "changed_on": np.where(dead, "2026-03-15", None),
            "moved_to": None,
        }
    )
    return {"poverty_households": poverty_households, "poverty_members": poverty_members, "hukou": hukou}


def build_earlier(rng: np.random.Generator, newest: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The earlier night's snapshots: the newest less the rows registered since (members of a
    household registered since go with it)."""
    houses = newest["poverty_households"]
    kept_houses = houses[rng.random(len(houses)) >= NEW_SINCE_EARLIER["poverty_households"]]
    members = newest["poverty_members"]
    members = members[
        members["household_no"].isin(kept_houses["household_no"])
        & (rng.random(len(members)) >= NEW_SINCE_EARLIER["poverty_members"])
    ]
    hukou = newest["hukou"]
    hukou = hukou[rng.random(len(hukou)) >= NEW_SINCE_EARLIER["hukou"]]
    return {
        "poverty_households": kept_houses.reset_index(drop=True),
        "poverty_members": members.reset_index(drop=True),
        "hukou": hukou.reset_index(drop=True),
    }


# --- validation findings ---------------------------------------------------------------------


def build_findings(rng: np.random.Generator, feed: str, rows: pd.DataFrame, day: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows with the faulty values put in, their findings). `rows` has row_no and the feed's columns."""
    spec = FEEDS[feed]
    key = rows[spec.key].to_numpy()
    rows = rows.copy()
    n = len(rows)
    parts = []

    def found(where: np.ndarray, field: str, check: str, severity: str, value, message) -> None:
        """Findings of the rows `where`; `value` and `message` one for all or an array per row."""
        picked = np.flatnonzero(where)

        def pick(v):
            return v[picked] if isinstance(v, np.ndarray) else v

        parts.append(
            pd.DataFrame(
                {
                    "row_no": rows["row_no"].to_numpy()[picked],
                    "record_key": key[picked],
                    "field": field,
                    "check": check,
                    "severity": severity,
                    "value": pick(value),
                    "message": pick(message),
                }
            )
        )

    id_field = ID_FIELD[feed]
    ids = rows[id_field].astype(object).to_numpy()
    draw = rng.random(n)
    edge = 0.0
    for kind, share in ID_KINDS:
        where = (draw >= edge) & (draw < edge + share)
        edge += share
        text_ids = pd.Series(ids).fillna("")
        if kind == "mangled":
            bad = (text_ids.str[0] + "." + text_ids.str[1:6] + "E+17").to_numpy()
        elif kind == "length":
            bad = text_ids.str[:-1].to_numpy()
        elif kind == "chars":
            bad = (text_ids.str[:10] + "O" + text_ids.str[11:]).to_numpy()
        else:
            bad = ids
        ids = np.where(where, bad, ids)
        template = ID_MESSAGES[kind]
        # The value comes last in the messages that name it.
        message = (template.replace("{value}", "") + pd.Series(ids).fillna("")).to_numpy() if "{value}" in template else template
        found(where, id_field, "id_format", "error", ids, message)
    empty_id = (draw >= edge) & (draw < edge + EMPTY_ID)
    ids = np.where(empty_id, None, ids)
    found(empty_id, id_field, "id_empty", "warning", None, "身份证号为空")
    rows[id_field] = ids

    for field in REQUIRED_FIELDS[feed]:
        empty = rng.random(n) < EMPTY_REQUIRED / len(REQUIRED_FIELDS[feed])
        rows[field] = np.where(empty, None, rows[field].astype(object).to_numpy())
        found(empty, field, "required", "error", None, f"必填字段“{spec.field(field).header}”为空")
    field, wrong = ENUM_FIELD[feed]
    bad_enum = rng.random(n) < BAD_ENUM
    rows[field] = np.where(bad_enum, wrong, rows[field].astype(object).to_numpy())
    values = "、".join(spec.field(field).values)
    found(bad_enum, field, "enum", "error", wrong, f"{spec.field(field).header}的值不在规定范围内（{values}）：{wrong}")
    field, check, wrong = DATE_FIELD[feed]
    bad_date = rng.random(n) < BAD_DATE
    rows[field] = np.where(bad_date, wrong, rows[field].astype(object).to_numpy())
    what = "应为 4 位年份" if check == "year_format" else "不是有效日期"
    found(bad_date, field, check, "error", wrong, f"{spec.field(field).header}{what}：{wrong}")

    findings = pd.concat(parts, ignore_index=True)
    findings.insert(0, "delivery_date", day)
    findings.insert(1, "feed", feed)
    findings.insert(2, "stage", "validate")
    return rows, findings.sort_values(["row_no", "check"], kind="stable").reset_index(drop=True)


# --- the whole of it -------------------------------------------------------------------------


def has_documents_data(engine) -> bool:
    """Whether a kept schema already holds this module's rows (the newest households snapshot)."""
    with engine.connect() as conn:
        return bool(
            conn.execute(
                text("select exists (select 1 from feed_poverty_households where delivery_date = :d)"), {"d": NEWEST}
            ).scalar()
        )


def _write_snapshot(engine, feed: str, day: dt.date, rows: pd.DataFrame, rng: np.random.Generator) -> tuple[int, int]:
    table = f"feed_{feed}"
    rows = rows.reset_index(drop=True)
    rows.insert(0, "row_no", np.arange(1, len(rows) + 1))
    rows, findings = build_findings(rng, feed, rows, day)
    rows.insert(0, "delivery_date", day)
    with engine.begin() as conn:
        conn.execute(text(f'delete from "{table}" where delivery_date = :d'), {"d": day})
        conn.execute(text("delete from findings where delivery_date = :d and feed = :f"), {"d": day, "f": feed})
    _copy(engine, table, rows)
    _copy(engine, "findings", findings)
    bad_rows = int(findings.loc[findings["severity"] == "error", "row_no"].nunique())
    with engine.begin() as conn:
        conn.execute(
            text(
                "update feed_loads set status = 'loaded', rows = :rows, bad_rows = :bad, message = null, columns = :columns, "
                "source_file = :file where delivery_date = :d and feed = :f"
            ),
            {
                "rows": len(rows),
                "bad": bad_rows,
                "columns": json.dumps(list(FEEDS[feed].columns), ensure_ascii=False),
                "file": f"/data/drop/{day}/{feed}.csv",
                "d": day,
                "f": feed,
            },
        )
    return len(rows), len(findings)


LEDGER_ROWS = """
insert into ledger_rows (county_code, issue_date, clue_id, status_issued, event_id, locked)
select c.county_code, e.at::date, e.clue_id, 'issued', e.event_id,
       json_build_object(
           '规则', c.rule, '乡镇', substr(c.village_code, 1, 9), '村', c.village_code, '户编号', c.household_no,
           '姓名', p.name, '身份证号', p.id_number, '证据', c.evidence, '核实部门', c.department,
           '下发日期', e.at::date, '整改期限', c.deadline
       )::text
from clue_events e
join clues c on c.clue_id = e.clue_id
left join persons p on p.person_id = c.person_id
where e.action = 'issue'
"""


def fill_documents(engine, seed: int) -> None:
    """Add the registry snapshots, their findings, ledger_rows and the matching feed loads to a
    store fill() made; prints each step's time."""
    started = time.perf_counter()
    rng = np.random.default_rng(seed + 1)
    people, houses, names = read_people(engine)
    _say(started, f"read {len(people):,} persons, {len(houses):,} households")
    newest = build_registry(rng, people, houses, names)
    earlier = build_earlier(rng, newest)
    _say(started, "registry snapshots built")
    for day, snapshots in ((NEWEST, newest), (EARLIER, earlier)):
        for feed, rows in snapshots.items():
            count, found = _write_snapshot(engine, feed, day, rows, rng)
            _say(started, f"{day} {feed}: {count:,} rows, {found:,} findings")
    with engine.begin() as conn:
        # Persons outside the registry are no poverty members: their households are general households.
        gone = conn.execute(
            text(
                "delete from links l where l.delivery_date = :d and l.feed = 'poverty_members' and not exists ("
                "select 1 from feed_poverty_members m where m.delivery_date = :d and m.member_no = l.record_key)"
            ),
            {"d": NEWEST},
        ).rowcount
        conn.execute(
            text(
                "delete from review_queue q where q.feed = 'poverty_members' and not exists ("
                "select 1 from feed_poverty_members m where m.delivery_date = q.delivery_date and m.member_no = q.record_key)"
            )
        )
    _say(started, f"{gone:,} poverty_members links of persons outside the registry removed")
    with engine.begin() as conn:
        conn.execute(text("delete from ledger_rows"))
        written = conn.execute(text(LEDGER_ROWS)).rowcount
    _say(started, f"{written:,} ledger rows")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("links", "review_queue", "ledger_rows", "findings", "feed_loads", *(f"feed_{f}" for f in REGISTRY_FEEDS)):
            conn.execute(text(f'vacuum analyze "{table}"'))
    _say(started, "vacuum analyze")


def table_sizes(engine) -> list[tuple[str, int, str]]:
    """(table, rows, size on disk) of every table of the schema with rows, largest first."""
    with engine.connect() as conn:
        tables = conn.execute(
            text(
                "select relname, pg_size_pretty(pg_total_relation_size(relid)) from pg_stat_user_tables "
                "where schemaname = current_schema() order by pg_total_relation_size(relid) desc"
            )
        ).all()
        counted = [(name, conn.execute(text(f'select count(*) from "{name}"')).scalar() or 0, size) for name, size in tables]
    return [(name, rows, size) for name, rows, size in counted if rows]
