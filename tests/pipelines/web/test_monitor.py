"""The monitor pages on the site sample: trends, closure rates, drill-down, the night page, report
files and the release of held rules — each limited to the viewer's region and role."""

from __future__ import annotations

import datetime as dt
import json
import re

import pandas as pd
import pytest
from sqlalchemy import insert, select, update

from pipelines import store
from pipelines.access import Scope, add_user, load_user
from pipelines.clues import act, write_night_counts
from pipelines.rules.run import RuleRun
from pipelines.store.tables import clues, deliveries, feed_loads, links, review_queue, rule_releases, rule_runs
from pipelines.web.monitor_views import rank_by_closure

NEWEST = dt.date(2026, 11, 20)
WENGAN, DUYUN, XINJING = "522725", "522701", "522725101"


@pytest.fixture
def client_any(site_settings_any, site_sample):
    """client_for on the site sample in SQLite and in PostgreSQL (the pages' range and length()
    conditions must read the same on both)."""
    from fastapi.testclient import TestClient

    from pipelines.web import create_app

    app = create_app(site_settings_any)
    made: list[TestClient] = []

    def make(user_name: str) -> TestClient:
        client = TestClient(app, base_url="http://bidui.test")
        made.append(client)
        assert site_sample.sign_in(client, user_name).status_code == 303
        return client

    yield make
    for client in made:
        client.close()


def chart(html: str, chart_id: str) -> dict:
    """The JSON a page hands /static/bidui.js for one chart."""
    match = re.search(rf'<script type="application/json" id="{re.escape(chart_id)}">(.*?)</script>', html, re.S)
    assert match, f"no chart {chart_id} on the page"
    return json.loads(match.group(1))


def series(spec: dict) -> dict[str, list[int]]:
    return {s["name"]: s["data"] for s in spec["series"]}


def found_per_night(site_sample, prefix: str) -> list[int]:
    """Clues of the sample found in a region by each night (the last subject of each county from
    the second night on)."""
    late = ("PM-0004", "PM-0102")
    return [
        sum(1 for _r, key, village, *_ in site_sample.SUBJECTS if village.startswith(prefix) and (index > 0 or key not in late))
        for index in range(len(site_sample.NIGHTS))
    ]


def row_of(rows: list[dict], code: str) -> dict:
    return next(r for r in rows if r["code"] == code)


# --- trends ----------------------------------------------------------------------------------


def test_the_prefecture_trend_sums_its_counties_night_by_night(client_any, site_sample):
    page = client_any("officer").get("/monitor")
    assert page.status_code == 200
    whole = chart(page.text, "trend-all")
    assert whole["kind"] == "line"
    assert whole["dates"] == [night.isoformat() for night in site_sample.NIGHTS]
    assert series(whole)["发现"] == found_per_night(site_sample, "5227") == [4, 6, 6]
    assert series(whole)["已销号"] == [0, 0, 0]
    assert series(chart(page.text, f"trend-{WENGAN}"))["发现"] == found_per_night(site_sample, WENGAN) == [3, 4, 4]
    assert series(chart(page.text, f"trend-{DUYUN}"))["发现"] == found_per_night(site_sample, DUYUN) == [1, 2, 2]
    assert "trend-522702" not in page.text  # 福泉市 has no clue: no chart, named among the quiet ones
    assert "福泉市" in page.text and f"/monitor/regions/{WENGAN}" in page.text
    assert "数据日期 2026-11-20" in page.text and "截至当晚" in page.text


def test_a_county_monitor_sees_its_county_and_its_townships_only(client_for, site_sample):
    page = client_for("wengan").get("/monitor")
    assert page.status_code == 200
    assert series(chart(page.text, "trend-all"))["发现"] == [3, 4, 4]
    assert series(chart(page.text, "trend-all"))["未销号（待处理）"] == [3, 4, 4]
    assert series(chart(page.text, f"trend-{XINJING}"))["发现"] == [3, 4, 4]
    assert f"trend-{DUYUN}" not in page.text and "都匀市" not in page.text
    data = client_for("wengan").get("/monitor?format=json").json()
    assert data["charts"][0]["spec"] == chart(page.text, "trend-all")
    assert row_of(data["children"], XINJING)["found"] == 4
    assert row_of(data["children"], "522725102")["found"] == 0  # 牛联镇, from the region reference
    assert all(row["code"].startswith(WENGAN) for row in data["children"])


def test_the_trend_of_one_rule(client_for):
    client = client_for("officer")
    whole = chart(client.get("/monitor?rule=R05").text, "trend-all")
    assert series(whole)["发现"] == [3, 3, 3]  # PM-0001, PM-0002 (瓮安县) and PM-0101 (都匀市)
    assert "R05" in whole["title"]
    missing = client.get("/monitor?rule=R99")
    assert missing.status_code == 404 and "没有规则 R99" in missing.text


def test_before_the_first_night_the_pages_say_there_are_no_results_yet(sqlite_settings, cheap_passwords, site_sample):
    from fastapi.testclient import TestClient

    from pipelines.web import create_app

    engine = store.connect(sqlite_settings)
    store.replace_region_reference(engine, site_sample.regions_frame(), source="regions.csv")
    add_user(engine, "officer", site_sample.SITE_PASSWORD, "prefecture", "5227")
    with TestClient(create_app(sqlite_settings), base_url="http://bidui.test") as client:
        assert site_sample.sign_in(client, "officer").status_code == 303
        for path in ("/monitor", "/monitor/closure", "/monitor/night"):
            page = client.get(path)
            assert page.status_code == 200, path
            assert "还没有比对结果" in page.text
        assert "还没有比对结果" in client.get(f"/monitor/regions/{WENGAN}").text


# --- closure rates ---------------------------------------------------------------------------


def close_one_clue(settings, site_sample) -> str:
    """Walk R05's first clue of 太沟村 to 已销号 as its village, township and county would, and
    recount the newest night."""
    engine = store.connect(settings)
    with engine.connect() as conn:
        clue_id, status = conn.execute(
            select(clues.c.clue_id, clues.c.status).where((clues.c.rule == "R05") & (clues.c.subject_key == "PM-0001"))
        ).one()

    def scope(name: str) -> Scope:
        return Scope.from_user(load_user(engine, name))

    if status == "new":
        act(engine, scope("wengan"), clue_id, "issue")
    act(engine, scope("taigou"), clue_id, "verify", {"verdict": "属实", "verified_by": "张村官", "verified_on": "2026-11-21"})
    act(engine, scope("taigou"), clue_id, "rectify", {"rectification": "已补录学籍", "rectified_on": "2026-11-22"})
    act(engine, scope("xinjing"), clue_id, "sign", {"signed_by": "李镇长", "signed_on": "2026-11-23"})
    act(engine, scope("wengan"), clue_id, "approve")
    write_night_counts(engine, site_sample.NIGHTS[-1])
    return clue_id


def test_closing_a_clue_raises_the_closure_rate_of_its_regions_and_rule(client_for, site_settings, site_sample):
    before = client_for("wengan").get("/monitor/closure?format=json").json()
    assert row_of(before["regions"], XINJING)["closure_rate"] == 0.0
    close_one_clue(site_settings, site_sample)

    county = client_for("wengan").get("/monitor/closure")
    assert county.status_code == 200
    assert "销号率 = 已销号 ÷ 发现" in county.text
    data = client_for("wengan").get("/monitor/closure?format=json").json()
    assert data["totals"]["closed"] == 1 and data["totals"]["found"] == 4
    assert row_of(data["regions"], XINJING)["closure_rate"] == 0.25
    assert row_of(data["rules"], "R05")["closure_rate"] == 0.5  # one of 瓮安县's two R05 clues
    assert row_of(data["rules"], "R06")["closure_rate"] == 0.0
    assert row_of(data["rules"], "R01")["closure_rate"] is None  # nothing found: not ranked
    assert chart(county.text, "closure-rules")["percent"] is True
    assert "25.0%" in county.text

    prefecture = client_for("officer").get("/monitor/closure?format=json").json()
    assert [r["code"] for r in prefecture["regions"][:2]] == [WENGAN, DUYUN]  # ranked, best first
    assert row_of(prefecture["regions"], WENGAN)["closure_rate"] == 0.25
    assert row_of(prefecture["regions"], DUYUN)["closure_rate"] == 0.0
    assert row_of(prefecture["rules"], "R05")["closure_rate"] == pytest.approx(1 / 3)
    bars = prefecture["charts"][0]["spec"]
    assert bars["labels"] == ["瓮安县", "都匀市"] and bars["series"][0]["data"] == [25.0, 0.0]
    trend = chart(client_for("officer").get("/monitor").text, "trend-all")
    assert series(trend)["已销号"] == [0, 0, 1]


def test_the_bottom_three_are_marked_only_when_more_than_three_are_ranked():
    def rows(*rates):
        return [{"code": f"C{i}", "closure_rate": rate} for i, rate in enumerate(rates)]

    ranked = rank_by_closure(rows(0.5, None, 0.9, 0.1, 0.3, 0.7))
    assert [r["code"] for r in ranked] == ["C2", "C5", "C0", "C4", "C3", "C1"]
    assert [r["rank"] for r in ranked] == [1, 2, 3, 4, 5, None]
    assert [r["bottom"] for r in ranked] == [False, False, True, True, True, False]
    assert not any(r["bottom"] for r in rank_by_closure(rows(0.2, 0.1, 0.0)))
    tied = rank_by_closure(rows(0.9, 0.5, 0.1, 0.1, 0.1, 0.1))
    assert [r["rank"] for r in tied] == [1, 2, 3, 3, 3, 3]
    assert [r["bottom"] for r in tied] == [False, False, True, True, True, True]  # all four share the bottom
    assert not any(r["bottom"] for r in rank_by_closure(rows(0.0, 0.0, 0.0, 0.0, 0.0)))  # nobody is behind anybody


# --- drill-down ------------------------------------------------------------------------------


def test_the_drill_down_goes_from_the_prefecture_to_a_villages_clues(client_any, site_sample):
    client = client_any("officer")
    prefecture = client.get("/monitor/regions/5227?format=json").json()
    assert prefecture["totals"]["found"] == 6
    assert row_of(prefecture["children"], WENGAN)["found"] == 4
    assert row_of(prefecture["children"], "522702")["found"] == 0  # 福泉市: in the reference, no clue
    county = client.get(f"/monitor/regions/{WENGAN}?format=json").json()
    assert county["totals"]["found"] == 4 and row_of(county["children"], XINJING)["found"] == 4
    township = client.get(f"/monitor/regions/{XINJING}?format=json").json()
    assert row_of(township["children"], site_sample.TAIGOU)["found"] == 3
    assert row_of(township["children"], site_sample.ZHEBAN)["found"] == 1
    assert [c["code"] for c in township["breadcrumbs"]] == ["5227", WENGAN, XINJING]
    page = client.get(f"/monitor/regions/{site_sample.TAIGOU}")
    assert page.status_code == 200
    assert f'href="/clues?village={site_sample.TAIGOU}"' in page.text
    assert '<a href="/monitor/regions/522725101">新井镇</a>' in page.text
    village = client.get(f"/monitor/regions/{site_sample.TAIGOU}?format=json").json()
    assert {r["code"]: r["found"] for r in village["rules"]} == {"R05": 2, "R13": 1}


def test_a_county_monitors_breadcrumbs_start_at_its_county(client_for, site_sample):
    township = client_for("wengan").get(f"/monitor/regions/{XINJING}?format=json").json()
    assert [c["code"] for c in township["breadcrumbs"]] == [WENGAN, XINJING]


@pytest.mark.parametrize(
    ("user", "path"),
    [
        ("duyun", f"/monitor/regions/{WENGAN}"),
        ("duyun", f"/monitor/regions/{XINJING}101"),
        ("wengan", "/monitor/regions/5227"),
        ("wengan", f"/monitor/regions/{DUYUN}"),
        ("taigou", "/monitor"),
        ("xinjing", "/monitor/closure"),
        ("edu", "/monitor"),
        ("wengan", "/monitor/night"),
        ("auditor", "/monitor/held"),
        ("wengan", "/monitor/reports/2026-11-20/validation.html"),
    ],
)
def test_pages_outside_the_viewers_region_or_role_are_forbidden(client_for, user, path):
    response = client_for(user).get(path)
    assert response.status_code == 403
    assert "无权" in response.text or "不在您的管辖范围内" in response.text


@pytest.mark.parametrize("code", ["52272", "5227251", "abcd", "52272510120", "5227251012011", "522%0A", "５２２７"])
def test_a_malformed_region_code_is_not_found(client_for, code):
    response = client_for("officer").get(f"/monitor/regions/{code}")
    assert response.status_code == 404
    assert "4、6、9 或 12 位数字" in response.text


def test_an_auditor_reads_the_monitor_pages_of_its_region(client_for, site_settings, site_sample):
    client = client_for("auditor")
    assert series(chart(client.get("/monitor").text, "trend-all"))["发现"] == [4, 6, 6]
    assert client.get(f"/monitor/regions/{WENGAN}").status_code == 200
    add_user(store.connect(site_settings), "taigou-audit", site_sample.SITE_PASSWORD, "auditor", site_sample.TAIGOU)
    village = client_for("taigou-audit")
    page = village.get("/monitor")
    assert page.status_code == 200
    assert series(chart(page.text, "trend-all"))["发现"] == found_per_night(site_sample, site_sample.TAIGOU) == [2, 3, 3]
    closure = village.get("/monitor/closure?format=json").json()
    assert closure["regions"] == [] and row_of(closure["rules"], "R13")["found"] == 1
    assert village.get(f"/monitor/regions/{site_sample.TAIGOU}").status_code == 200
    assert village.get(f"/monitor/regions/{site_sample.ZHEBAN}").status_code == 403


# --- the night page and its reports ------------------------------------------------------------


def add_night_records(settings) -> None:
    """A delivery of the newest night: one feed loaded, one rejected, three linked rows and one
    open review pair."""
    engine = store.connect(settings)
    with engine.begin() as conn:
        conn.execute(
            insert(deliveries).values(
                delivery_date=NEWEST, source_dir="/drop/2026-11-20", ingested_at=dt.datetime(2026, 11, 21, 1)
            )
        )
        conn.execute(
            insert(feed_loads),
            [
                {"delivery_date": NEWEST, "feed": "hukou", "status": "loaded", "rows": 2000, "bad_rows": 3, "message": None},
                {
                    "delivery_date": NEWEST,
                    "feed": "school_enrolment",
                    "status": "rejected",
                    "rows": 10,
                    "bad_rows": 10,
                    "message": "缺少必需字段：证件号码",
                },
            ],
        )
        conn.execute(
            insert(links),
            [
                {
                    "delivery_date": NEWEST,
                    "feed": "hukou",
                    "record_key": "H1",
                    "person_id": "P000000001",
                    "household_code": "HA",
                    "method": "id_exact",
                },
                {
                    "delivery_date": NEWEST,
                    "feed": "poverty_members",
                    "record_key": "PM-0001",
                    "person_id": "P000000001",
                    "household_code": "HA",
                    "method": "id_exact",
                },
                {
                    "delivery_date": NEWEST,
                    "feed": "hukou",
                    "record_key": "H2",
                    "person_id": "P000000002",
                    "household_code": "HB",
                    "method": "singleton",
                },
            ],
        )
        conn.execute(
            insert(review_queue).values(
                delivery_date=NEWEST,
                feed="hukou",
                record_key="H2",
                candidate_feed="hukou",
                candidate_key="H1",
                probability=0.5,
                status="open",
            )
        )


def test_the_night_page_sums_up_loads_linkage_review_and_rules(client_for, site_settings):
    add_night_records(site_settings)
    client = client_for("officer")
    page = client.get("/monitor/night")
    assert page.status_code == 200
    assert "已拒收" in page.text and "缺少必需字段：证件号码" in page.text
    assert 'href="/review"' in page.text
    data = client.get("/monitor/night?format=json").json()
    assert data["day"] == "2026-11-20"
    assert {f["feed"]: f["status"] for f in data["feeds"]} == {"hukou": "loaded", "school_enrolment": "rejected"}
    assert data["rows"] == 2010 and data["bad_rows"] == 13
    # Without the link stage's summary the page counts the base map's persons and households seen
    # that night (the sample's six persons, no households), never millions of links.
    assert data["base_map"]["rows"] is None and data["base_map"]["methods"] == {}
    assert (data["base_map"]["persons"], data["base_map"]["households"]) == (6, 0)
    assert "link.json" in data["base_map"]["source"]
    assert data["review_open"] == 1
    assert {r["rule"]: r["status"] for r in data["rules"]} == {"R05": "ran", "R06": "ran", "R13": "ran"}
    assert data["rule_statuses"] == {"ran": 3}
    # The link stage's own summary of the night is read when it is there.
    store.write_json(
        site_settings.reports_dir / "2026-11-20" / "link.json",
        {"counts": {"rows": 5350, "persons": 2001, "households": 554}, "methods": {"id_exact": 5237, "singleton": 113}},
    )
    summary = client.get("/monitor/night?date=2026-11-20&format=json").json()
    assert summary["base_map"]["persons"] == 2001 and summary["base_map"]["source"] == "link.json"
    assert client.get("/monitor/night?date=2026-11-19").status_code == 404  # nothing delivered that night
    assert client.get("/monitor/night?date=20261120").status_code == 404


def test_report_files_are_served_from_the_allow_list_only(client_for, site_settings):
    from pipelines.reports import write_validation_report

    folder = site_settings.reports_dir / "2026-11-20"
    feeds = [{"feed": "hukou", "title": "公安·户籍人口", "status": "loaded", "rows": 2000, "bad_rows": 0}]
    write_validation_report("2026-11-20", feeds, pd.DataFrame(), folder)
    store.write_json(folder / "link.json", {"counts": {}})
    (folder / "notes.txt").write_text("not a report", encoding="utf-8")
    (site_settings.reports_dir / "secret.json").write_text("{}", encoding="utf-8")
    add_night_records(site_settings)
    client = client_for("officer")

    html = client.get("/monitor/reports/2026-11-20/validation.html")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "数据校验报告" in html.text
    assert "default-src 'self'" in html.headers["content-security-policy"]
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//", html.text)  # nothing from another host
    assert client.get("/monitor/reports/2026-11-20/link.json").headers["content-type"] == "application/json"
    csv = client.get("/monitor/reports/2026-11-20/validation_findings.csv")
    assert csv.headers["content-type"].startswith("text/csv") and "attachment" in csv.headers["content-disposition"]
    for path in (
        "/monitor/reports/2026-11-20/notes.txt",
        "/monitor/reports/2026-11-20/clues.json",  # allowed, but not written
        "/monitor/reports/2026-11-20/..%2Fsecret.json",
        "/monitor/reports/2026-11-20/..%2F..%2Fbidui.sqlite3",
        "/monitor/reports/..%2F2026-11-20/link.json",
        "/monitor/reports/2026-11-2/link.json",
        "/monitor/reports/2026-13-01/link.json",
    ):
        assert client.get(path).status_code == 404, path
    night = client.get("/monitor/night?date=2026-11-20")
    assert 'href="/monitor/reports/2026-11-20/validation.html"' in night.text


# --- held rules and their release ---------------------------------------------------------------


def hold(settings, rule: str = "R05", day: dt.date = NEWEST) -> None:
    with store.connect(settings).begin() as conn:
        conn.execute(
            update(rule_runs)
            .where((rule_runs.c.delivery_date == day) & (rule_runs.c.rule == rule))
            .values(status="held", fired=200, previous=3, message=f"规则 {rule} 今晚命中 200 条，上次为 3 条，已暂停下发")
        )


def rules_fire(monkeypatch, site_sample, extra=(), fail: Exception | None = None) -> None:
    """The night's rules, as run_rules would find them on a base map: the sample's subjects and
    `extra`; the night counts as linked."""
    from pipelines.rules import run as rules_run

    def run_rules(engine, settings, day, rules=None, progress=None):
        if fail is not None:
            raise fail
        frame = site_sample.fired([*site_sample.SUBJECTS, *extra])
        runs = [
            {"rule": r, "status": "ran", "fired": int((frame["rule"] == r).sum()), "seconds": 0.1, "message": None}
            for r in site_sample.DEADLINES
        ]
        return RuleRun(day, frame, runs)

    monkeypatch.setattr(rules_run, "run_rules", run_rules)
    monkeypatch.setattr(store, "latest_link_date", lambda engine, on_or_before=None: on_or_before)


def release_form(client, rule: str = "R05", day: str = "2026-11-20"):
    page = client.get("/monitor/held")
    assert page.status_code == 200
    token = re.search(
        rf'action="/monitor/held/{day}/{rule}/release"[^>]*>\s*<input type="hidden" name="csrf_token" value="([^"]+)"', page.text
    )
    assert token, f"no release button for {rule} on {day}"
    return page, token.group(1)


def releases(settings) -> list[dict]:
    with store.connect(settings).connect() as conn:
        return [dict(r) for r in conn.execute(select(rule_releases)).mappings()]


def test_releasing_a_held_rule_records_it_and_runs_the_nights_clues_again(
    client_any, site_settings_any, site_sample, monkeypatch
):
    site_settings = site_settings_any
    hold(site_settings)
    # 60 more subjects of R05 than the night before: the circuit breaker holds it again unless released.
    flood = [
        ("R05", f"PM-9{i:03d}", site_sample.TAIGOU, "教育", f"P9{i:08d}", f"新增{i}", f"52272520100101{i:04d}") for i in range(60)
    ]
    rules_fire(monkeypatch, site_sample, extra=flood)
    client = client_any("officer")
    page, token = release_form(client)
    assert 'data-confirm="确认放行规则 R05' in page.text and "今晚命中 200 条" in page.text

    response = client.post("/monitor/held/2026-11-20/R05/release", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/monitor/held"
    [release] = releases(site_settings)
    assert (release["rule"], release["released_by"], release["status"]) == ("R05", "officer", "done")
    assert "新增线索 60 条" in release["message"]
    with store.connect(site_settings).connect() as conn:
        status = conn.execute(
            select(rule_runs.c.status).where((rule_runs.c.delivery_date == NEWEST) & (rule_runs.c.rule == "R05"))
        ).scalar()
        flooded = conn.execute(select(clues.c.status).where(clues.c.subject_key.startswith("PM-9"))).scalars().all()
    assert status == "ran" and flooded == ["new"] * 60
    trend = chart(client.get("/monitor").text, "trend-all")
    assert series(trend)["发现"] == [4, 6, 66]  # the night's counts were written again
    after = client.get("/monitor/held")
    assert "没有被熔断暂停的规则" in after.text and "已完成" in after.text

    again = client.post("/monitor/held/2026-11-20/R05/release", data={"csrf_token": token})
    assert again.status_code == 409 and "没有被熔断暂停" in again.text


def test_a_release_without_the_csrf_token_or_by_a_county_is_refused(client_for, site_settings):
    hold(site_settings)
    officer = client_for("officer")
    officer.get("/monitor/held")
    assert officer.post("/monitor/held/2026-11-20/R05/release", data={}).status_code == 403
    assert officer.post("/monitor/held/2026-11-20/R05/release", data={"csrf_token": "forged"}).status_code == 403
    county = client_for("wengan")
    token = re.search(r'name="csrf_token" value="([^"]+)"', county.get("/monitor").text).group(1)
    assert county.post("/monitor/held/2026-11-20/R05/release", data={"csrf_token": token}).status_code == 403
    assert releases(site_settings) == []


def test_only_a_rule_held_on_the_newest_night_can_be_released(client_for, site_settings):
    hold(site_settings, "R05", dt.date(2026, 11, 19))
    client = client_for("officer")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/monitor/held").text).group(1)
    older = client.post("/monitor/held/2026-11-19/R05/release", data={"csrf_token": token})
    assert older.status_code == 409 and "只能放行最新一晚（2026-11-20）" in older.text
    not_held = client.post("/monitor/held/2026-11-20/R06/release", data={"csrf_token": token})
    assert not_held.status_code == 409 and "没有被熔断暂停" in not_held.text
    assert client.post("/monitor/held/2026-11-40/R05/release", data={"csrf_token": token}).status_code == 404
    assert releases(site_settings) == []


def test_a_release_whose_run_fails_is_recorded_as_failed_in_chinese(client_for, site_settings, site_sample, monkeypatch):
    from pipelines.errors import BiduiError

    hold(site_settings)
    rules_fire(monkeypatch, site_sample, fail=BiduiError("当晚的户籍数据不可读"))
    client = client_for("officer")
    _page, token = release_form(client)
    assert client.post("/monitor/held/2026-11-20/R05/release", data={"csrf_token": token}).status_code == 200
    [release] = releases(site_settings)
    assert release["status"] == "failed" and "当晚的户籍数据不可读" in release["message"]
    page = client.get("/monitor/held")
    assert "失败" in page.text and "当晚的户籍数据不可读" in page.text
    assert 'action="/monitor/held/2026-11-20/R05/release"' in page.text  # still held: it can be tried again


@pytest.mark.parametrize("rules", [("R05", "R05"), ("R05", "R06")], ids=["a double click", "two rules of one night"])
def test_two_releases_of_a_night_at_once_start_one_run(site_settings_any, race, rules):
    from pipelines.web import monitor_runs

    for rule in set(rules):
        hold(site_settings_any, rule)
    engine = store.connect(site_settings_any)
    outcomes = race(
        monitor_runs,
        "_running_releases",
        [lambda rule=rule: monitor_runs.start_release(engine, NEWEST, rule, "officer") for rule in rules],
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["NoneType", "ReleaseRefused"]
    assert "正在按放行规则" in str(next(o for o in outcomes if o is not None))
    assert [r["status"] for r in releases(site_settings_any)] == ["running"]


# --- as users meet them (review R2) ---------------------------------------------------------------


def count_cells(html: str, code: str) -> dict[str, str]:
    """The count cells of a region's row in a page's table, by their column heads."""
    table = next(t for t in html.split("<table")[1:] if f"（{code}）" in t)
    heads = re.findall(r'<th class="num">([^<]+)</th>', table.split("</thead>")[0])
    row = next(r for r in table.split("<tr")[1:] if f"（{code}）" in r)
    return dict(zip(heads, re.findall(r'<td class="num[^"]*">([^<]*)</td>', row), strict=False))


def test_the_count_tables_add_up_with_the_clues_cleared_by_data_and_say_when_moves_count(client_for, site_settings):
    engine = store.connect(site_settings)
    with engine.begin() as conn:
        conn.execute(update(clues).where(clues.c.clue_id == "R06-000001").values(status="cleared_by_data"))
    write_night_counts(engine, NEWEST)
    client = client_for("wengan")
    for path in ("/monitor", f"/monitor/regions/{WENGAN}", "/monitor/closure"):
        page = client.get(path).text
        cells = count_cells(page, XINJING)
        # 发现 4 = 未销号 3 + 已销号 0 + 数据已消除 1: the row adds up on the page itself.
        assert (cells["发现"], cells["未销号（待处理）"], cells["已销号"], cells.get("数据已消除")) == ("4", "3", "0", "1"), path
        assert "下一晚比对后计入" in page, path


def test_a_release_under_way_is_shown_with_no_second_release_button_and_the_page_refreshes_itself(client_for, site_settings):
    hold(site_settings, "R05")
    hold(site_settings, "R06")
    with store.connect(site_settings).begin() as conn:
        conn.execute(
            insert(rule_releases).values(
                delivery_date=NEWEST, rule="R05", released_by="officer", released_at=dt.datetime.now(), status="running"
            )
        )
    client = client_for("officer")
    page = client.get("/monitor/held").text
    held = page.split("最新一晚被熔断暂停的规则")[1].split("放行记录")[0]
    r05 = held.split("<td>R05 ")[1].split("</tr>")[0]
    assert "/R05/release" not in held and "正在放行" in r05  # not a button that only answers 409
    assert "/R06/release" not in held and "放行完成后" in held  # one release of a night at a time
    assert '<meta http-equiv="refresh"' in page and "自动刷新" in page
    with store.connect(site_settings).begin() as conn:
        conn.execute(update(rule_releases).values(status="done", message="已重新运行"))
    done = client.get("/monitor/held").text
    assert '<meta http-equiv="refresh"' not in done and 'action="/monitor/held/2026-11-20/R06/release"' in done


def test_a_rule_held_by_the_night_is_explained_on_the_site_without_a_command_line(
    client_for, site_settings, site_sample, monkeypatch
):
    from pipelines.clues import run_clue_night

    flood = [
        ("R05", f"PM-9{i:03d}", site_sample.TAIGOU, "教育", f"P9{i:08d}", f"新增{i}", f"52272520100101{i:04d}") for i in range(60)
    ]
    rules_fire(monkeypatch, site_sample, extra=flood)
    assert run_clue_night(site_settings, NEWEST).held == ["R05"]
    add_night_records(site_settings)
    client = client_for("officer")
    for path in ("/monitor/held", "/monitor/night"):
        page = client.get(path).text
        main = page.split("<main>")[1].split("</main>")[0]
        assert "今晚命中 63 条" in main and "bidui" not in main and "--release" not in main, path


def test_an_older_nights_review_pairs_are_not_linked_to_the_queue_of_the_newest(client_for, site_settings):
    add_night_records(site_settings)
    older = dt.date(2026, 11, 19)
    with store.connect(site_settings).begin() as conn:
        conn.execute(
            insert(deliveries).values(
                delivery_date=older, source_dir="/drop/2026-11-19", ingested_at=dt.datetime(2026, 11, 20, 1)
            )
        )
        conn.execute(
            insert(review_queue).values(
                delivery_date=older,
                feed="hukou",
                record_key="H9",
                candidate_feed="hukou",
                candidate_key="H8",
                probability=0.5,
                status="open",
            )
        )
    client = client_for("officer")
    page = client.get("/monitor/night?date=2026-11-19").text
    summary = page.split("<dt>候选配对审核</dt>")[1].split("</dd>")[0]
    assert "1 对" in summary and 'href="/review"' not in summary and "2026-11-20" in summary
    newest = client.get("/monitor/night?date=2026-11-20").text.split("<dt>候选配对审核</dt>")[1].split("</dd>")[0]
    assert 'href="/review"' in newest


def test_region_headings_read_as_chinese_without_doubled_codes_or_brackets(client_for):
    officer = client_for("officer")
    for path in ("/monitor", "/monitor/closure", "/monitor/regions/5227"):
        main = officer.get(path).text.split("<main>")[1]
        assert "5227（5227）" not in main and "全市（州）（5227）" in main, path
    county = client_for("wengan").get(f"/monitor/regions/{WENGAN}").text
    assert "（县（市））" not in county and "<h2>瓮安县 最近一晚（2026-11-20）</h2>" in county
