"""The monthly bulletin (月通报) on hand-made data: five counties over three months of night_counts,
a registry snapshot and ledgers issued and returned; exact scores, ranks, bottom three, consecutive
bottom placements and talks, the comparison with last month, the files and the command.

Counties: A 都匀市 522701, B 福泉市 522702, C 荔波县 522722, D 贵定县 522723, E 瓮安县 522725.
Registered persons A 100, B 200, C 100, D 100, E 50 (×1000 indicators are scale-free: min–max).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from pipelines import store
from pipelines.documents import build_bulletin, make_bulletin, previous_month_of
from pipelines.documents.bulletin import (
    TALK_DEPUTY,
    TALK_PRINCIPAL,
    load_month_figures,
    load_weights,
    parse_month,
)
from pipelines.documents.bulletin import build_ranking as rank
from pipelines.documents.bulletin_make import load_stored_bulletin
from pipelines.errors import BiduiError
from pipelines.store.tables import clue_events, ledger_rows, night_counts

A, B, C, D, E = "522701", "522702", "522722", "522723", "522725"
REGISTERED = {A: 100, B: 200, C: 100, D: 100, E: 50}
SEED_REGIONS = Path(__file__).resolve().parents[3] / "seeds" / "regions.csv"
WEIGHTS = {"closure_rate": 30.0, "overdue_per_k": 25.0, "return_rate": 20.0, "reopen_rate": 15.0, "found_per_k": 10.0}
# county: (found, closed, overdue, reopened) on a night; open = found - closed
NOVEMBER = {A: (10, 8, 0, 0), B: (40, 20, 4, 4), C: (20, 4, 4, 2), E: (20, 10, 1, 4)}  # D: no clue at all
OCTOBER = {A: (10, 9, 0, 0), B: (10, 9, 0, 0), C: (20, 0, 5, 2), D: (10, 5, 1, 0), E: (20, 5, 2, 2)}
SEPTEMBER = {A: (5, 0, 3, 1), B: (5, 0, 3, 1), C: (10, 0, 5, 2), D: (5, 5, 0, 0), E: (5, 5, 0, 0)}
# Ledgers of November: clues issued, of which returned by a ledger import
LEDGERS = {A: (10, 10), B: (40, 20), C: (20, 5), E: (20, 10)}


def _figures(registered: int, found: int, closed: int, overdue: int, reopened: int, issued: int, returned: int) -> dict:
    return {
        "registered": registered,
        "found": found,
        "open": found - closed,
        "closed": closed,
        "overdue": overdue,
        "reopened": reopened,
        "issued": issued,
        "returned": returned,
    }


# --- the ranking itself (no store) ----------------------------------------------------------------


def test_scores_ranks_and_bottom_three_by_the_printed_definition():
    figures = {
        A: _figures(1000, 10, 8, 0, 0, 10, 10),
        B: _figures(2000, 40, 20, 4, 4, 40, 20),
        C: _figures(1000, 20, 4, 4, 2, 20, 5),
        D: _figures(1000, 0, 0, 0, 0, 0, 0),
        E: _figures(500, 20, 10, 1, 4, 20, 10),
    }
    rows = rank(figures, WEIGHTS)
    # closure .8/.5/.2/—/.5 → 100/50/0/100/50; overdue‰ 0/2/4/0/2 → 100/50/0/100/50; return 1/.5/.25/—/.5
    # → 100/33.33/0/100/33.33; reopen 0/.1/.1/—/.2 → 100/50/50/100/0; found‰ 10/20/20/0/40 → 75/50/50/100/0
    assert [(r["county_code"], r["score"], r["rank"], r["bottom"]) for r in rows] == [
        (D, 100.0, 1, False),
        (A, 97.5, 2, False),
        (B, 46.67, 3, True),
        (E, 34.17, 4, True),
        (C, 12.5, 5, True),
    ]
    by = {r["county_code"]: r for r in rows}
    assert (by[B]["return_rate_scaled"], by[E]["reopen_rate_scaled"], by[A]["found_per_k_scaled"]) == (33.3333, 0.0, 75.0)
    assert by[D]["closure_rate"] is None and by[E]["overdue_per_k"] == 2.0


def test_ties_share_a_rank_and_a_tie_at_the_border_is_all_in_the_bottom_three():
    only_closure = dict.fromkeys(WEIGHTS, 0.0) | {"closure_rate": 1.0}

    def closing(*closed: int) -> list[tuple[str, int, bool]]:
        figures = {code: _figures(100, 10, n, 0, 0, 0, 0) for code, n in zip((A, B, C, D, E), closed, strict=True)}
        return [(r["county_code"], r["rank"], r["bottom"]) for r in rank(figures, only_closure)]

    assert closing(9, 8, 5, 5, 2) == [(A, 1, False), (B, 2, False), (C, 3, True), (D, 3, True), (E, 5, True)]
    assert closing(9, 5, 5, 3, 2) == [(A, 1, False), (B, 2, True), (C, 2, True), (D, 4, True), (E, 5, True)]
    three = {code: _figures(100, 10, n, 0, 0, 0, 0) for code, n in zip((A, B, C), (9, 5, 2), strict=True)}
    assert [r["bottom"] for r in rank(three, only_closure)] == [False, False, False]


def test_the_month_and_the_weights_are_checked_in_chinese(sqlite_settings, tmp_path):
    assert (parse_month("2026-02").first, parse_month("2026-02").last) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert parse_month("2026-11").previous().label == "2026-10" and parse_month("2026-01").previous().label == "2025-12"
    assert previous_month_of(dt.date(2026, 12, 5)) == "2026-11" and previous_month_of(dt.date(2027, 1, 5)) == "2026-12"
    for bad in ("2026-13", "202611", "2026-1"):
        with pytest.raises(BiduiError, match="YYYY-MM"):
            parse_month(bad)
    assert load_weights(sqlite_settings) == WEIGHTS
    config = tmp_path / "bulletin.toml"
    config.write_text("[weights]\nclosure_rate = 1\nspeed = 2\n", encoding="utf-8")
    with pytest.raises(BiduiError, match="不认识的指标：speed"):
        load_weights(store_settings(sqlite_settings, config))


def test_a_broken_weights_file_is_named_with_its_line_in_chinese(sqlite_settings, tmp_path):
    config = tmp_path / "bulletin.toml"
    config.write_text("[weights]\nclosure_rate = \n", encoding="utf-8")
    with pytest.raises(BiduiError) as raised:
        load_weights(store_settings(sqlite_settings, config))
    assert str(raised.value) == f"读不了月通报配置 {config}：TOML 格式有误（第 2 行第 16 列），请对照内置的示例改正"
    with pytest.raises(BiduiError, match="读不了月通报配置 .*nowhere.toml：文件不存在$"):
        load_weights(store_settings(sqlite_settings, tmp_path / "nowhere.toml"))


def store_settings(settings, config: Path):
    from dataclasses import replace

    return replace(settings, bulletin_config=config)


# --- on a store -------------------------------------------------------------------------------------


def _count_rows(day: dt.date, counts: dict) -> list[dict]:
    rows = []
    for code, (found, closed, overdue, reopened) in counts.items():
        values = {
            "found": found,
            "open": found - closed,
            "closed": closed,
            "cleared": 0,
            "overdue": overdue,
            "reopened": reopened,
        }
        rows.append({"delivery_date": day, "region_code": code, "rule": "*", **values})
        # Rows the bulletin must not read: one rule alone, and a township.
        rows.append({"delivery_date": day, "region_code": code, "rule": "R05", **{**values, "found": 999}})
        rows.append({"delivery_date": day, "region_code": code + "101", "rule": "*", **{**values, "found": 999}})
    return rows


def _registry(engine) -> None:
    households, members = [], []
    for code, persons in REGISTERED.items():
        for n in range(persons // 5):  # households of five
            households.append({"row_no": len(households) + 1, "household_no": f"H{code}{n:03d}", "village_code": code + "101201"})
            for m in range(5):
                members.append({"row_no": len(members) + 1, "member_no": f"M{code}{n:03d}{m}", "household_no": f"H{code}{n:03d}"})
    load = {"status": "loaded", "rows": 0}
    day = dt.date(2026, 9, 1)
    store.write_snapshot(engine, "poverty_households", day, pd.DataFrame(households), load)
    store.write_snapshot(engine, "poverty_members", day, pd.DataFrame(members), load)
    # A newer registry delivered after November does not count for November.
    late = pd.DataFrame([{**m, "row_no": i + 1} for i, m in enumerate(members + members)])
    store.write_snapshot(engine, "poverty_members", dt.date(2026, 12, 2), late, load)


def _ledgers(engine) -> None:
    rows, events = [], []
    event_id = 1000
    for code, (issued, returned) in LEDGERS.items():
        for n in range(issued):
            clue = f"R{code[-2:]}-{n:06d}"
            rows.append(
                {
                    "county_code": code,
                    "issue_date": dt.date(2026, 11, 2),
                    "clue_id": clue,
                    "status_issued": "issued",
                    "event_id": 1,
                    "locked": "{}",
                }
            )
            event_id += 1
            # returned: an event of an imported ledger in November; the others only a web move, or a
            # ledger return after the month
            source, at = (
                ("ledger", dt.datetime(2026, 11, 30, 23, 59))
                if n < returned
                else (("web", dt.datetime(2026, 11, 20)) if n % 2 else ("ledger", dt.datetime(2026, 12, 1, 0, 1)))
            )
            events.append(
                {
                    "event_id": event_id,
                    "clue_id": clue,
                    "action": "verify",
                    "from_status": "issued",
                    "to_status": "verified",
                    "at": at,
                    "user_name": "u",
                    "role": "county",
                    "source": source,
                }
            )
    with store.write_transaction(engine) as conn:
        conn.execute(ledger_rows.insert(), rows)
        conn.execute(clue_events.insert(), events)


@pytest.fixture
def bulletin_store(sqlite_settings):
    """Three months of county counts (September, October, November, with a mid-November night the
    bulletin must not read), the registry and November's ledgers; no bulletin made yet."""
    engine = store.connect(sqlite_settings)
    regions = pd.read_csv(SEED_REGIONS, dtype=str).rename(
        columns={
            "区划代码": "code",
            "名称": "name",
            "级别": "level",
            "是否贫困村": "is_poor_village",
            "贫困村出列年度": "poor_village_exit_year",
            "距县城公里数": "km_to_county_seat",
        }
    )
    store.replace_region_reference(engine, regions.where(regions.notna(), None), source="regions.csv")
    rows = (
        _count_rows(dt.date(2026, 9, 30), SEPTEMBER)
        + _count_rows(dt.date(2026, 10, 31), OCTOBER)
        + _count_rows(dt.date(2026, 11, 15), {A: (99, 0, 9, 9)})
        + _count_rows(dt.date(2026, 11, 29), NOVEMBER)
        + _count_rows(dt.date(2026, 12, 1), {C: (1, 1, 0, 0)})
    )
    with store.write_transaction(engine) as conn:
        conn.execute(night_counts.insert(), rows)
    _registry(engine)
    _ledgers(engine)
    return sqlite_settings


def test_a_month_is_read_from_its_last_night_the_registry_and_ledgers_of_its_end(bulletin_store):
    night, figures = load_month_figures(store.connect(bulletin_store), parse_month("2026-11"))
    assert night == dt.date(2026, 11, 29)
    assert figures == {
        A: _figures(100, 10, 8, 0, 0, 10, 10),
        B: _figures(200, 40, 20, 4, 4, 40, 20),
        C: _figures(100, 20, 4, 4, 2, 20, 5),
        D: _figures(100, 0, 0, 0, 0, 0, 0),  # no clue, but persons in the registry: ranked
        E: _figures(50, 20, 10, 1, 4, 20, 10),
    }
    assert load_month_figures(store.connect(bulletin_store), parse_month("2026-08")) == (None, {})


EXPECTED_NOVEMBER = [
    # county, score, rank, bottom, consecutive, talk, last month's rank, rank change
    (D, 100.0, 1, False, 0, "", 3, 2),
    (A, 97.5, 2, False, 0, "", 2, 0),
    (B, 46.67, 3, True, 1, "", 1, -2),
    (E, 34.17, 4, True, 2, TALK_DEPUTY, 4, 0),
    (C, 12.5, 5, True, 3, TALK_PRINCIPAL, 5, 0),
]


def _summary(bulletin) -> list[tuple]:
    return [
        (r["county_code"], r["score"], r["rank"], r["bottom"], r["consecutive"], r["talk"], r["previous_rank"], r["rank_change"])
        for r in bulletin.rows
    ]


def test_bottom_placements_in_a_row_call_for_talks_and_the_month_is_compared_with_the_last(bulletin_store):
    # No bulletin was made before: October (bottom D, E, C) and September (bottom A, B, C) are
    # ranked the same way from their own nights; August has no night and ends the count.
    bulletin = build_bulletin(store.connect(bulletin_store), parse_month("2026-11"), WEIGHTS)
    assert bulletin.last_night == dt.date(2026, 11, 29)
    assert _summary(bulletin) == EXPECTED_NOVEMBER
    by = {r["county_code"]: r for r in bulletin.rows}
    assert (by[B]["found_change"], by[B]["closed_change"], by[C]["overdue_change"]) == (30, 11, -1)
    assert by[A]["closure_rate_change"] == pytest.approx(-0.1)
    assert by[A]["county"] == "都匀市" and [r["county"] for r in bulletin.bottom] == ["福泉市", "瓮安县", "荔波县"]
    october = build_bulletin(store.connect(bulletin_store), parse_month("2026-10"), WEIGHTS)
    assert [(r["county_code"], r["rank"], r["consecutive"], r["talk"]) for r in october.rows] == [
        (B, 1, 0, ""),
        (A, 2, 0, ""),
        (D, 3, 1, ""),
        (E, 4, 1, ""),
        (C, 5, 2, TALK_DEPUTY),
    ]
    september = build_bulletin(store.connect(bulletin_store), parse_month("2026-09"), WEIGHTS)
    assert september.previous is None and {r["rank_change"] for r in september.rows} == {None}
    with pytest.raises(BiduiError, match="2026年8月没有任何一晚的比对结果"):
        build_bulletin(store.connect(bulletin_store), parse_month("2026-08"), WEIGHTS)


def test_the_site_shows_a_stored_bulletin_with_the_same_change_since_last_month_as_its_files(bulletin_store, tmp_path):
    engine = store.connect(bulletin_store)
    made = make_bulletin(bulletin_store, "2026-11", "officer", out_dir=tmp_path / "11", pdf=False).bulletin
    shown = load_stored_bulletin(engine, "2026-11")
    assert shown is not None and shown["previous_label"] == "2026年10月"
    changed = ("rank_change", "score_change", "found_change", "closed_change", "overdue_change", "closure_rate_change")
    assert [[r[k] for k in ("county_code", *changed)] for r in shown["rows"]] == [
        [r[k] for k in ("county_code", *changed)] for r in made.rows
    ]
    by = {r["county_code"]: r for r in shown["rows"]}
    assert (by[B]["found_change_text"], by[B]["closed_change_text"], by[C]["overdue_change_text"]) == ("+30", "+11", "-1")
    assert by[A]["closure_rate_change_text"] == "-10.0 个百分点"
    assert {r["rank_change_text"] for r in shown["rows"]} <= {"持平"} | {
        f"{w} {n} 位" for w in ("上升", "下降") for n in range(1, 5)
    }
    assert load_stored_bulletin(engine, "2026-09") is None


def test_a_stored_bulletin_is_what_later_months_count_from_and_making_one_again_changes_nothing(bulletin_store, tmp_path):
    engine = store.connect(bulletin_store)
    make_bulletin(bulletin_store, "2026-10", "officer", out_dir=tmp_path / "10", pdf=False)
    october = store.load_bulletin_ranks(engine, "2026-10")
    assert [(r["county_code"], r["rank"], r["bottom"], r["consecutive"]) for r in october] == [
        (B, 1, False, 0),
        (A, 2, False, 0),
        (D, 3, True, 1),
        (E, 4, True, 1),
        (C, 5, True, 2),
    ]
    # A stored month's counts are taken as they were stored: rewrite October's to check they are read.
    with store.write_transaction(engine) as conn:
        conn.execute(night_counts.delete().where(night_counts.c.delivery_date == dt.date(2026, 9, 30)))
    first = make_bulletin(bulletin_store, "2026-11", "officer", out_dir=tmp_path / "11", pdf=False)
    assert _summary(first.bulletin) == EXPECTED_NOVEMBER
    stored = store.load_bulletin_ranks(engine, "2026-11")
    again = make_bulletin(bulletin_store, "2026-11", "officer", out_dir=tmp_path / "11", pdf=False)
    assert _summary(again.bulletin) == EXPECTED_NOVEMBER and store.load_bulletin_ranks(engine, "2026-11") == stored
    assert [(r["county_code"], r["score"], r["rank"], r["consecutive"]) for r in stored] == [
        (code, score, rank_, streak) for code, score, rank_, _b, streak, *_ in EXPECTED_NOVEMBER
    ]
    record = store.load_bulletin(engine, "2026-11")
    assert (record["last_night"], record["made_by"], record["weights"]) == (dt.date(2026, 11, 29), "officer", WEIGHTS)
    assert record["files"] == ["月通报-2026-11.html", "月通报-2026-11.xlsx"]
    assert [b["month"] for b in store.list_bulletins(engine, 10)] == ["2026-11", "2026-10"]


def _sheet(path: Path, name: str) -> list[tuple]:
    book = openpyxl.load_workbook(path, read_only=True)
    return [tuple(row) for row in book[name].iter_rows(values_only=True)]


def test_the_bulletin_files_html_pdf_and_xlsx_hold_the_same_tables(bulletin_store, pdf_pages):
    result = make_bulletin(bulletin_store, "2026-11", "officer")
    out = bulletin_store.data_dir / "bulletins" / "2026-11"
    assert result.out_dir == out
    assert sorted(p.name for p in out.iterdir()) == ["月通报-2026-11.html", "月通报-2026-11.pdf", "月通报-2026-11.xlsx"]
    ranks = _sheet(out / "月通报-2026-11.xlsx", "排名")
    assert ranks[:3] == [
        ("2026年11月农村人口与防返贫监测数据比对月通报", None, None, None, None, None, None, None, None, None),
        ("数据截至 2026-11-29", None, None, None, None, None, None, None, None, None),
        ("排名", "县", "县代码", "综合得分", "上月排名", "名次变化", "得分变化", "排名后三", "连续靠后次数", "约谈"),
    ]
    assert [r[:6] + r[7:] for r in ranks[3:]] == [
        (1, "贵定县", D, 100, 3, "上升 2 位", None, None, None),
        (2, "都匀市", A, 97.5, 2, "持平", None, None, None),
        (3, "福泉市", B, 46.67, 1, "下降 2 位", "是", 1, None),
        (4, "瓮安县", E, 34.17, 4, "持平", "是", 2, TALK_DEPUTY),
        (5, "荔波县", C, 12.5, 5, "持平", "是", 3, TALK_PRINCIPAL),
    ]
    indicators = _sheet(out / "月通报-2026-11.xlsx", "指标")
    header = indicators[3]
    assert header[:12] == (
        "县",
        "县代码",
        "建档立卡人数",
        "发现线索",
        "发现线索较上月",
        "已销号",
        "未办结",
        "超期线索",
        "超期线索较上月",
        "重新打开",
        "台账下发线索",
        "台账已交回",
    )
    row_b = dict(zip(header, indicators[3 + 3], strict=True))
    assert row_b == {
        "县": "福泉市",
        "县代码": B,
        "建档立卡人数": 200,
        "发现线索": 40,
        "发现线索较上月": 30,
        "已销号": 20,
        "未办结": 20,
        "超期线索": 4,
        "超期线索较上月": 4,
        "重新打开": 4,
        "台账下发线索": 40,
        "台账已交回": 20,
        "销号率": 0.5,
        "超期线索（每千人）": 20,
        "台账回收率": 0.5,
        "重新打开率": 0.1,
        "问题线索（每千人）": 200,
        "销号率较上月（百分点）": -40,
    }
    assert _sheet(out / "月通报-2026-11.xlsx", "连续排名靠后")[3:] == [
        ("福泉市", B, 3, 1, None),
        ("瓮安县", E, 4, 2, TALK_DEPUTY),
        ("荔波县", C, 5, 3, TALK_PRINCIPAL),
    ]
    definitions = _sheet(out / "月通报-2026-11.xlsx", "定义")
    assert definitions[2] == ("指标", "权重", "方向", "定义")
    assert [r[:3] for r in definitions[3:8]] == [
        ("销号率", "30", "越高越好"),
        ("超期线索（每千人）", "25", "越低越好"),
        ("台账回收率", "20", "越高越好"),
        ("重新打开率", "15", "越低越好"),
        ("问题线索（每千人）", "10", "越低越好"),
    ]
    html = (out / "月通报-2026-11.html").read_text(encoding="utf-8")
    assert "综合得分 = 各指标得分的加权平均" in html and 'class="overdue"' in html
    assert html.count('<tr class="bottom">') == 3 + 3  # ranking and the consecutive table
    pdf = out / "月通报-2026-11.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    pages = pdf_pages(pdf)
    assert len(pages) == 2
    text = "".join(pages)
    for words in ("月通报", "荔波县", TALK_PRINCIPAL, "签字"):
        assert words in text, words
    assert ["第1页共2页" in "".join(p.split()) for p in pages] == [True, False]


def test_the_command_makes_the_bulletin_for_the_data_officer_only(bulletin_store, make_officer, tmp_path):
    from pipelines.access import add_user
    from pipelines.cli.main import app

    officer = make_officer(bulletin_store)
    add_user(store.connect(bulletin_store), "wengan", "wengan-secret-2026", "county", "522725")
    county_password = tmp_path / "wengan.password"
    county_password.write_text("wengan-secret-2026\n", encoding="utf-8")
    env = {
        "BIDUI_DATA_DIR": str(bulletin_store.data_dir),
        "BIDUI_DATABASE_URL": bulletin_store.database_url,
        "BIDUI_PROGRESS": "0",
    }
    out = tmp_path / "out"
    done = CliRunner().invoke(app, ["bulletin", "--month", "2026-11", "--out", str(out), "--no-pdf", *officer], env=env)
    assert done.exit_code == 0, done.output
    assert "2026年11月月通报：数据截至 2026-11-29，参加排名 5 个县。" in done.output
    assert f"第 5 名 荔波县（{C}）综合得分 12.50（排名后三），连续 3 次排名靠后，{TALK_PRINCIPAL}" in done.output
    assert sorted(p.name for p in out.iterdir()) == ["月通报-2026-11.html", "月通报-2026-11.xlsx"]
    assert store.load_bulletin(store.connect(bulletin_store), "2026-11")["made_by"] == "officer"
    refused = CliRunner().invoke(
        app, ["bulletin", "--month", "2026-10", "--user", "wengan", "--password-file", str(county_password)], env=env
    )
    assert refused.exit_code == 1 and "生成月通报" in refused.output and "Traceback" not in refused.output
    bad = CliRunner().invoke(app, ["bulletin", "--month", "2026-13", *officer], env=env)
    assert bad.exit_code == 1 and "应为 YYYY-MM" in bad.output
    empty = CliRunner().invoke(app, ["bulletin", "--month", "2026-08", *officer], env=env)
    assert empty.exit_code == 1 and "没有任何一晚的比对结果" in empty.output
    assert store.load_bulletin(store.connect(bulletin_store), "2026-10") is None


def test_the_scheduled_run_makes_last_months_bulletin_as_the_system(bulletin_store):
    from pipelines.documents import run_monthly_bulletin

    done = run_monthly_bulletin(bulletin_store, dt.date(2026, 12, 5))
    assert (done["month"], done["last_night"]) == ("2026-11", "2026-11-29")
    assert [Path(f).name for f in done["files"]] == ["月通报-2026-11.html", "月通报-2026-11.pdf", "月通报-2026-11.xlsx"]
    assert store.load_bulletin(store.connect(bulletin_store), "2026-11")["made_by"] == "system"


# --- review R3 -------------------------------------------------------------------------------------


def test_the_registry_is_read_as_it_stood_on_the_last_night_as_the_bulletin_says(bulletin_store):
    # A registry delivered after November's last night (29th) but before the month's end (30th) came
    # with no night: the clues were counted against the registry of the 29th, and the bulletin
    # prints that the registry is the one in effect on the day of the last night.
    engine = store.connect(bulletin_store)
    members = store.load_snapshot(engine, "poverty_members", dt.date(2026, 9, 1), ["member_no", "household_no"])
    doubled = pd.DataFrame([{**m, "row_no": i + 1} for i, m in enumerate(members.to_dict("records") * 2)])
    store.write_snapshot(engine, "poverty_members", dt.date(2026, 11, 30), doubled, {"status": "loaded", "rows": 0})
    night, figures = load_month_figures(engine, parse_month("2026-11"))
    assert night == dt.date(2026, 11, 29)
    assert {code: f["registered"] for code, f in figures.items()} == REGISTERED
    lines = build_bulletin(engine, parse_month("2026-11"), WEIGHTS)
    from pipelines.documents.bulletin_make import _definition_lines

    assert "建档立卡人数为当日（2026-11-29）有效" in _definition_lines(lines)[0]


def test_a_month_not_yet_over_gets_no_bulletin(bulletin_store, tmp_path):
    # December has a night (the 1st) but is not over on the 8th: its figures would still change, and
    # the bulletin would print ledgers counted up to the 31st. Refused, nothing written or stored.
    with pytest.raises(BiduiError, match="2026年12月尚未结束"):
        make_bulletin(bulletin_store, "2026-12", "officer", out_dir=tmp_path / "12", pdf=False, today=dt.date(2026, 12, 8))
    with pytest.raises(BiduiError, match="2026年12月尚未结束"):
        make_bulletin(bulletin_store, "2026-12", "officer", out_dir=tmp_path / "12", pdf=False, today=dt.date(2026, 12, 31))
    assert not (tmp_path / "12").exists() and store.load_bulletin(store.connect(bulletin_store), "2026-12") is None
    done = make_bulletin(bulletin_store, "2026-12", "officer", out_dir=tmp_path / "12", pdf=False, today=dt.date(2027, 1, 1))
    assert done.bulletin.last_night == dt.date(2026, 12, 1)


def test_making_a_bulletin_again_without_pdf_leaves_no_stale_pdf_beside_it(bulletin_store, tmp_path):
    # The month was made before with a PDF (say, with other weights); made again without one, the
    # old PDF must not stay beside the new HTML and xlsx as if it were this bulletin's.
    out = tmp_path / "11"
    out.mkdir()
    (out / "月通报-2026-11.pdf").write_bytes(b"%PDF-1.7 an earlier bulletin")
    make_bulletin(bulletin_store, "2026-11", "officer", out_dir=out, pdf=False)
    assert sorted(p.name for p in out.iterdir()) == ["月通报-2026-11.html", "月通报-2026-11.xlsx"]


def test_a_relative_out_dir_is_stored_as_the_absolute_folder_the_site_serves_from(bulletin_store, tmp_path, monkeypatch):
    # `bidui bulletin --month 2026-11 --out 通报` in the officer's folder; the site runs elsewhere.
    monkeypatch.chdir(tmp_path)
    result = make_bulletin(bulletin_store, "2026-11", "officer", out_dir=Path("通报"), pdf=False)
    assert result.out_dir == tmp_path / "通报" and all(f.is_absolute() for f in result.files)
    assert store.load_bulletin(store.connect(bulletin_store), "2026-11")["out_dir"] == str(tmp_path / "通报")


def test_a_bulletin_whose_ranks_cannot_be_stored_leaves_the_earlier_files_as_they_were(bulletin_store, tmp_path, monkeypatch):
    # The site shows the stored ranks beside the files: new files over old ranks would disagree.
    out = tmp_path / "11"
    make_bulletin(bulletin_store, "2026-11", "officer", out_dir=out, pdf=False)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    class Later(dt.datetime):  # the new files would print another time of making
        @classmethod
        def now(cls, tz=None):
            return cls(2030, 1, 1, 8, 0, 0)

    monkeypatch.setattr("pipelines.documents.render.dt", type("Clock", (), {"datetime": Later}))
    monkeypatch.setattr(store, "write_bulletin", broken)
    with pytest.raises(RuntimeError):
        make_bulletin(bulletin_store, "2026-11", "another officer", out_dir=out, pdf=False)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
