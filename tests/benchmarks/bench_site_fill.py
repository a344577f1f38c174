"""The site benchmark's store (bench_site.py), written with COPY: the seed regions, synthetic persons
and households, the clues with their events and 40 nights of history (bench_site_clues.py), feed
loads, the newest night's links and review queue, ledgers and one user per role.

Nothing here is real data: names are drawn from a short list of surnames and given names, and every
ID number's check character is deliberately wrong, so no number can be a real person's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from bench_site_clues import build_clues, build_event_order, build_events, build_history, build_lives
from sqlalchemy import text

from pipelines import store
from pipelines.access import add_user
from pipelines.catalog.feeds import FEEDS
from pipelines.clues.states import OPEN_STATES
from pipelines.rules import load_rules
from pipelines.store.bulk import bulk_insert
from pipelines.store.tables import feed_table

__all__ = ["NEWEST", "PASSWORD", "USERS", "fill"]

NEWEST = dt.date(2026, 11, 20)
PASSWORD = "bench-site-password-2026"
# name → (role, region, department); regions of 瓮安县 in seeds/regions.csv.
USERS = {
    "bench-prefecture": ("prefecture", "5227", None),
    "bench-county": ("county", "522725", None),
    "bench-township": ("township", "522725101", None),
    "bench-village": ("village", "522725101201", None),
    "bench-liaison": ("liaison", "522725", "教育"),
    "bench-auditor": ("auditor", "5227", None),
}
SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_GIVEN_NAMES = (
    "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀英 霞 平 刚 桂英 华 玉兰 萍 鹏 辉 玲 "
    "建华 建国 红梅 志强 桂兰 秀兰 玉梅 海燕 文 斌 宇 浩 凯 健 俊 帆 帅 旭 宁 琳 颖 倩 婷 雪 慧 佳 "
    "欣 怡 晨 阳 博 昊 子涵 梓萱 一诺 浩然 宇轩 雨桐 欣怡 思远 天佑 家豪 国强 德明 光荣 永福 春花 秋菊 "
    "冬梅 金凤 银花 正发 开明 忠林 世勇 大军 小红 小燕 小龙 成 亮 飞 彬 刚强 学文 应芬 廷芳 仕林 启明 "
    "光明 绍华 朝勇"
)
GIVEN = _GIVEN_NAMES.split()
ETHNICITIES = np.array(["汉族", "布依族", "苗族", "水族", "毛南族"])
ETHNICITY_SHARE = [0.45, 0.3, 0.15, 0.08, 0.02]


def _say(started: float, what: str) -> None:
    print(f"  {time.perf_counter() - started:6.1f} s  {what}", flush=True)


def _copy(engine, table: str, frame: pd.DataFrame, chunk: int = 500_000) -> None:
    for start in range(0, len(frame), chunk):
        with engine.begin() as conn:
            part = frame.iloc[start : start + chunk]
            bulk_insert(conn, table, list(frame.columns), part)


# --- people ---------------------------------------------------------------------------------------


def build_people(rng: np.random.Generator, villages: np.ndarray, count: int, first: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(persons, households): households of 1–6 persons in villages of uneven size."""
    weights = rng.lognormal(0, 0.5, len(villages))
    sizes = rng.integers(1, 7, count)
    sizes = sizes[: np.searchsorted(np.cumsum(sizes), count) + 1]
    sizes[-1] -= sizes.sum() - count
    house_village = villages[rng.choice(len(villages), len(sizes), p=weights / weights.sum())]
    order = np.argsort(house_village, kind="stable")
    sizes, house_village = sizes[order], house_village[order]
    sequence = pd.Series(house_village).groupby(house_village).cumcount().to_numpy() + 1
    house_codes = pd.Series(house_village).str.cat(pd.Series(sequence).map("{:04d}".format)).to_numpy()
    households = pd.DataFrame(
        {
            "household_code": "H" + pd.Series(house_codes),
            "household_key": "hukou:HK" + pd.Series(house_codes),
            "hukou_no": "HK" + pd.Series(house_codes),
            "village_code": house_village,
        }
    )
    of_house = np.repeat(np.arange(len(sizes)), sizes)
    village = house_village[of_house]
    person_ids = pd.Series(np.arange(1, count + 1)).map("P{:09d}".format)
    heads = np.r_[0, np.cumsum(sizes)[:-1]]
    households["head_person_id"] = person_ids.to_numpy()[heads]
    households["first_seen"], households["last_seen"] = first, NEWEST
    born = np.datetime64("1940-01-01") + rng.integers(0, 365 * 80, count).astype("timedelta64[D]")
    born_text = pd.Series(np.datetime_as_string(born, unit="D"))
    names = pd.Series(np.array(SURNAMES)[rng.integers(0, len(SURNAMES), count)]).str.cat(
        pd.Series(np.array(GIVEN)[rng.integers(0, len(GIVEN), count)])
    )
    sex = rng.integers(1, 3, count)
    ids = _fake_ids(pd.Series(village).str[:6], born_text.str.replace("-", ""), rng.integers(0, 500, count) * 2 + (sex == 1))
    hukou_keys = "HK" + pd.Series(np.arange(1, count + 1)).map("{:010d}".format)
    persons = pd.DataFrame(
        {
            "person_id": person_ids,
            "household_code": households["household_code"].to_numpy()[of_house],
            "name": names,
            "name_source": "hukou:" + hukou_keys,
            "id_number": ids,
            "id_source": "hukou:" + hukou_keys,
            "sex": np.where(sex == 1, "男", "女"),
            "sex_source": "hukou:" + hukou_keys,
            "birth_date": born_text,
            "birth_source": "hukou:" + hukou_keys,
            "ethnicity": ETHNICITIES[rng.choice(len(ETHNICITIES), count, p=ETHNICITY_SHARE)],
            "ethnicity_source": "hukou:" + hukou_keys,
            "village_code": village,
            "village_source": "hukou:" + hukou_keys,
            "hukou_state": np.where(rng.random(count) < 0.01, "死亡", "正常"),
            "hukou_state_source": "hukou:" + hukou_keys,
            "insured_state": np.where(rng.random(count) < 0.97, "正常参保", None),
            "insured_source": "medical_insurance:MI" + pd.Series(np.arange(1, count + 1)).map("{:010d}".format),
            "first_seen": first,
            "last_seen": NEWEST,
        }
    )
    return persons, households


_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])


def _fake_ids(county: pd.Series, born: pd.Series, sequence: np.ndarray) -> pd.Series:
    """County + birth date + 3-digit sequence + a check character that is never the right one."""
    body = county.str.cat(born).str.cat(pd.Series(sequence).map("{:03d}".format))
    digits = np.frombuffer("".join(body).encode("ascii"), dtype=np.uint8).reshape(-1, 17) - ord("0")
    right = (digits.astype(np.int64) @ _WEIGHTS) % 11
    wrong = np.array(list("10X98765432"))[(right + 1 + (right % 3)) % 11]
    return body.str.cat(pd.Series(wrong))


FEED_ROWS = {
    "poverty_households": 0.29,
    "poverty_members": 1.0,
    "hukou": 1.25,
    "medical_insurance": 1.1,
    "illness_registry": 0.06,
    "school_enrolment": 0.2,
    "dangerous_housing": 0.03,
    "minimum_living": 0.15,
    "public_payroll": 0.04,
    "enterprise_registry": 0.02,
    "vehicles": 0.12,
}


def build_feed_loads(persons: int, nights: int, first: dt.date) -> pd.DataFrame:
    """Per night and feed: mostly loaded, now and then a
    rejected or missing delivery, optional feeds sometimes not sent."""
    rows = []
    feeds = list(FEEDS.values())
    for day in range(nights):
        date = first + dt.timedelta(days=day)
        loaded_at = dt.datetime.combine(date, dt.time(1, 5))
        for index, feed in enumerate(feeds):
            size = int(persons * FEED_ROWS.get(feed.name, 0.05)) + day * 37
            status = "loaded"
            message = None
            if (day * 5 + index) % 97 == 13:
                status, message = "rejected", "超过 20% 的行有阻断性问题（身份证号格式），整份退回"
            elif (day * 3 + index) % 89 == 7:
                status, message = "missing", "当晚未收到该数据项"
            elif feed.optional and (day + index) % 6 == 0:
                status, message = "absent_optional", "可选数据项未报送，沿用上次数据"
            rows.append(
                {
                    "delivery_date": date,
                    "feed": feed.name,
                    "status": status,
                    "source_file": None if status in ("missing", "absent_optional") else f"/data/drop/{date}/{feed.name}.csv",
                    "encoding": "gb18030" if index % 3 == 0 else "utf-8",
                    "checksum": hashlib.sha256(f"{feed.name}{date}".encode()).hexdigest(),
                    "rows": size if status in ("loaded", "rejected") else None,
                    "columns": json.dumps(list(feed.columns), ensure_ascii=False),
                    "bad_rows": (size // 4 if status == "rejected" else (day * 13 + index) % 40),
                    "message": message,
                    "loaded_at": loaded_at,
                    "validated_at": loaded_at + dt.timedelta(minutes=4),
                }
            )
    return pd.DataFrame(rows)


# --- the base map of the newest night and its review queue ---------------------------------------------


def _linkage_model() -> dict:
    from matchers.classification import ComparisonLevels, FellegiSunter
    from pipelines.link.people import COMPARISONS

    return {**FellegiSunter([ComparisonLevels.from_spec(spec) for spec in COMPARISONS]).to_dict(), "upper": 0.92, "lower": 0.35}


def write_base_map_night(engine, rng, persons: pd.DataFrame, pairs: int, reports_dir: Path) -> None:
    """The newest night's links of the members and hukou feeds (a row per person in each), the
    fitted model, and `pairs` gray-zone pairs (a member row against another person's hukou row)
    with the snapshot rows of both sides."""
    n = len(persons)
    model = _linkage_model()
    numbers = pd.Series(np.arange(1, n + 1))
    method = rng.choice(["id_exact", "probabilistic", "singleton", "review_decision"], n, p=[0.95, 0.035, 0.01, 0.005])
    probability = np.where(method == "probabilistic", rng.uniform(0.92, 1.0, n), None)
    for feed, prefix in (("poverty_members", "PM"), ("hukou", "HK")):
        links = pd.DataFrame(
            {
                "delivery_date": NEWEST,
                "feed": feed,
                "record_key": (prefix + numbers.map("{:010d}".format)).to_numpy(),
                "person_id": persons["person_id"].to_numpy(),
                "household_code": persons["household_code"].to_numpy(),
                "method": method if feed == "poverty_members" else "id_exact",
                "probability": probability if feed == "poverty_members" else None,
                "match_weight": None,
                "anchor_feed": "hukou" if feed == "poverty_members" else None,
                "anchor_key": ("HK" + numbers.map("{:010d}".format)).to_numpy() if feed == "poverty_members" else None,
                "levels": None,
            }
        )
        _copy(engine, "links", links)
    label_counts = {c["name"]: len(c["labels"]) - 1 for c in model["comparisons"]}  # less the missing level
    members = rng.choice(n - 1, pairs, replace=False)
    others = members + 1  # a neighbour in the same household or village
    queue = pd.DataFrame(
        {
            "delivery_date": NEWEST,
            "feed": "poverty_members",
            "record_key": ("PM" + pd.Series(members + 1).map("{:010d}".format)).to_numpy(),
            "candidate_feed": "hukou",
            "candidate_key": ("HK" + pd.Series(others + 1).map("{:010d}".format)).to_numpy(),
            "probability": rng.uniform(0.35, 0.92, pairs),
            "levels": [json.dumps({name: int(rng.integers(-1, k)) for name, k in label_counts.items()}) for _ in range(pairs)],
            "status": "open",
        }
    )
    queue["match_weight"] = np.log2(queue["probability"] / (1 - queue["probability"]))
    _copy(engine, "review_queue", queue)
    # The link stage's summary of the night, which the night page reads instead of counting links.
    methods = pd.Series(method).value_counts()
    summary = {
        "delivery_date": NEWEST.isoformat(),
        "counts": {"rows": 2 * n, "persons": n, "households": int(persons["household_code"].nunique()), "review": pairs},
        "methods": {**{str(k): int(v) for k, v in methods.items()}, "id_exact": int(methods.get("id_exact", 0)) + n},
    }
    store.write_json(reports_dir / NEWEST.isoformat() / "link.json", summary)
    with engine.begin() as conn:
        conn.execute(
            text("insert into linkage_models (delivery_date, model) values (:d, :m)"), {"d": NEWEST, "m": json.dumps(model)}
        )
    sides = {
        "poverty_members": (
            members,
            queue["record_key"],
            {"member_no": None, "household_no": "household_code", "relation": None},
        ),
        "hukou": (
            others,
            queue["candidate_key"],
            {"person_no": None, "hukou_no": "household_code", "village_code": "village_code"},
        ),
    }
    for feed, (people, keys, extra) in sides.items():
        chosen = persons.iloc[people].reset_index(drop=True)
        rows = pd.DataFrame({"delivery_date": NEWEST, "row_no": np.arange(1, pairs + 1)})
        for column in FEEDS[feed].columns:
            if column in ("member_no", "person_no"):
                rows[column] = keys.to_numpy()
            elif extra.get(column):
                rows[column] = chosen[extra[column]].to_numpy()
            elif column in ("name", "id_number", "sex", "ethnicity", "birth_date"):
                rows[column] = chosen[column].to_numpy()
            elif column == "relation":
                rows[column] = "户主"
            elif column == "state":
                rows[column] = "正常"
        _copy(engine, feed_table(feed).name, rows)


# --- ledgers, users ------------------------------------------------------------------------------------


def build_ledgers(lives: pd.DataFrame, clue_rows: pd.DataFrame, data_dir, first: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(ledger_issues, ledger_imports): a ledger per county and day some of its clues were issued,
    and an import of a returned ledger every fifth day per county."""
    issued = pd.DataFrame({"county": clue_rows["county_code"], "day": lives["issue"]})
    issued = issued[np.isfinite(issued["day"])].groupby(["county", "day"]).size().reset_index(name="clues")
    by = np.where(issued["county"] == USERS["bench-county"][1], "bench-county", "county-" + issued["county"])
    dates = [first + dt.timedelta(days=int(d)) for d in issued["day"]]
    issues = pd.DataFrame(
        {
            "county_code": issued["county"],
            "issue_date": dates,
            "file": [str(data_dir / "ledgers" / c / f"{c}-{d}.xlsx") for c, d in zip(issued["county"], dates, strict=True)],
            "clues": issued["clues"],
            "issued_by": by,
            "issued_at": [dt.datetime.combine(d, dt.time(9, 30)) for d in dates],
        }
    )
    returned = issues[[d.toordinal() % 5 == 0 for d in issues["issue_date"]]].reset_index(drop=True)
    imports = pd.DataFrame(
        {
            "file_sha256": [hashlib.sha256(f.encode()).hexdigest() for f in returned["file"]],
            "file_name": [Path(f).name for f in returned["file"]],
            "user_name": returned["issued_by"],
            "imported_at": [t + dt.timedelta(days=6, hours=5) for t in returned["issued_at"]],
            "rows": returned["clues"],
            "applied": (returned["clues"] * 0.9).astype(int),
            "unchanged": (returned["clues"] * 0.08).astype(int),
            "rejected": returned["clues"] - (returned["clues"] * 0.9).astype(int) - (returned["clues"] * 0.08).astype(int),
            "report": [str(data_dir / "reports" / "imports" / f"import-{i + 1}.xlsx") for i in range(len(returned))],
        }
    )
    return issues, imports


def add_users(engine) -> None:
    for name, (role, region, department) in USERS.items():
        add_user(engine, name, PASSWORD, role, region, department=department, display_name=f"基准{role}")


# --- the whole fill ------------------------------------------------------------------------------------

REGION_COLUMNS = {
    "区划代码": "code",
    "名称": "name",
    "级别": "level",
    "是否贫困村": "is_poor_village",
    "贫困村出列年度": "poor_village_exit_year",
    "距县城公里数": "km_to_county_seat",
}


def fill(settings, clues: int, nights: int, seed: int, review_pairs: int = 300) -> None:
    """Migrate the store `settings` name and fill it; prints each step's time and what the tables hold."""
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    first = NEWEST - dt.timedelta(days=nights - 1)
    engine = store.connect(settings)
    _say(started, "schema migrated")
    regions = pd.read_csv(settings.regions_seed, dtype=str).rename(columns=REGION_COLUMNS)
    store.replace_region_reference(engine, regions, source="bench_site")
    villages = regions.loc[regions["level"] == "village", "code"].to_numpy()
    persons, households = build_people(rng, villages, clues, first)
    _copy(engine, "households", households)
    _copy(engine, "persons", persons)
    _say(started, f"{len(persons):,} persons in {len(households):,} households")
    rules = load_rules()
    lives = build_lives(rng, rules, persons, households, clues, nights)
    clue_rows = build_clues(rng, rules, lives, persons, nights, first)
    _say(started, "clues built")
    _copy(engine, "clues", clue_rows)
    _say(started, f"{len(clue_rows):,} clues written: {clue_rows['status'].value_counts().to_dict()}")
    order = build_event_order(rng, lives, first)
    for events in build_events(order, lives, clue_rows):
        _copy(engine, "clue_events", events)
    times = order[2]
    _say(started, f"{len(times):,} clue events written ({len(times) / len(clue_rows):.1f} per clue)")
    counts, runs = build_history(rules, lives, clue_rows["village_code"], nights, first)
    _copy(engine, "night_counts", counts)
    _copy(engine, "rule_runs", runs)
    _say(started, f"{len(counts):,} night_counts rows, {len(runs):,} rule runs")
    dates = [first + dt.timedelta(days=d) for d in range(nights)]
    midnights = np.array([np.datetime64(d, "s") for d in dates])
    _copy(
        engine,
        "deliveries",
        pd.DataFrame(
            {
                "delivery_date": dates,
                "source_dir": [f"/data/drop/{d}" for d in dates],
                "ingested_at": [dt.datetime.combine(d, dt.time(1)) for d in dates],
            }
        ),
    )
    _copy(
        engine,
        "nights",
        pd.DataFrame(
            {
                "delivery_date": dates,
                "opened_at": [dt.datetime.combine(d, dt.time(1)) for d in dates],
                "last_event_id": np.searchsorted(times, midnights, side="left"),
            }
        ),
    )
    _copy(engine, "feed_loads", build_feed_loads(clues, nights, first))
    write_base_map_night(engine, rng, persons, review_pairs, settings.reports_dir)
    _say(started, "feed loads, deliveries, the newest night's links and review queue written")
    issues, imports = build_ledgers(lives, clue_rows, settings.data_dir, first)
    _copy(engine, "ledger_issues", issues)
    _copy(engine, "ledger_imports", imports)
    add_users(engine)
    _say(started, f"{len(issues):,} ledger issues, {len(imports):,} imports, {len(USERS)} users")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        tables = conn.execute(
            text(
                "select relname, pg_size_pretty(pg_total_relation_size(relid)) from pg_stat_user_tables "
                "where schemaname = current_schema() order by pg_total_relation_size(relid) desc"
            )
        ).all()
        # As autovacuum leaves tables in steady use: statistics, and the visibility map for index-only
        # scans. Table by table: a bare VACUUM would go through every schema of the database.
        for name, _size in tables:
            conn.execute(text(f'vacuum analyze "{name}"'))
        _say(started, "vacuum analyze")
        sizes = [(name, conn.execute(text(f'select count(*) from "{name}"')).scalar(), size) for name, size in tables]
    for name, rows, size in sizes:
        if rows:
            print(f"    {name:24} {rows:>12,} rows  {size:>8}")
    overdue = clue_rows["status"].isin(OPEN_STATES) & (clue_rows["deadline"] < NEWEST)
    print(f"    overdue on {NEWEST}: {int(overdue.sum()):,} clues; re-opened {int(clue_rows['reopen_count'].sum()):,}")
