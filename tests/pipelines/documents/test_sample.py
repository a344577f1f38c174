"""The cross-check sample (交叉检查抽样, Anhui 2019 scheme) on hand-made data: the draw's pieces on
tiny frames with exact expectations, then a whole county in a store (测试县 522790) drawn with a
fixed seed, its workbook, its row in the store, and the `bidui sample` command.

测试县 522790: four townships (甲 101, 乙 102, 丙 103, 丁 104), two villages each. Poor villages:
甲一村, 乙一村, 丙二村. Non-poor, by registered persons (2 per household): 丙一村 10, 甲二村 8, 乙二村 6,
丁一村 2, 丁二村 0, so the pool of 'non-poor villages with the most registered persons' is
丙一村 and 甲二村; 丁二村, with none, is never drawn. Households are written per village as a string of strata (A exited 2026,
B exited 2024, C identified 2025 not exited, D not exited, R 返贫, O exited 2018: in no stratum).
"""

from __future__ import annotations

import datetime as dt
import functools
import re

import numpy as np
import openpyxl
import pandas as pd
import pytest

from pipelines import store
from pipelines.access import Scope
from pipelines.documents.sample import make_sample, sample_rules
from pipelines.documents.sample_draw import (
    SCHEME_FALLBACKS,
    STRATUM_FALLBACKS,
    draw_households,
    draw_villages,
    household_strata,
    non_poor_pool,
)

NIGHT = dt.date(2026, 11, 20)
YEAR = 2026
COUNTY = "522790"
TOWNSHIPS = {"522790101": "甲镇", "522790102": "乙镇", "522790103": "丙镇", "522790104": "丁镇"}
# code: (name, poor, km to the county seat, strata of its registered households, general households)
VILLAGES = {
    "522790101201": ("甲一村", "是", 30.0, "AAAAABBBBBBCCCDDDRO", 6),
    "522790101202": ("甲二村", "否", 10.0, "ABBC", 4),
    "522790102201": ("乙一村", "是", 50.0, "ABBBBBDR", 2),
    "522790102202": ("乙二村", "否", 20.0, "BBD", 4),
    "522790103201": ("丙一村", "否", 40.0, "AABBD", 4),
    "522790103202": ("丙二村", "是", 5.0, "AAAABBBBCCDD", 4),
    "522790104201": ("丁一村", "否", 25.0, "A", 4),
    "522790104202": ("丁二村", "否", 15.0, "", 3),
}
STRATUM_FIELDS = {  # status, identified year, exit year
    "A": ("已脱贫", "2015", "2026"),
    "B": ("已脱贫", "2014", "2024"),
    "C": ("未脱贫", "2025", None),
    "D": ("未脱贫", "2016", None),
    "R": ("返贫", "2015", "2019"),
    "O": ("已脱贫", "2014", "2018"),
}


def _id(village: str, number: int) -> str:
    return f"{village[:6]}1970{number % 12 + 1:02d}{number % 28 + 1:02d}{number:04d}"


def county_night(settings, day: dt.date, renamed: dict[str, str] | None = None) -> None:
    """One night of the hand-made county above: region reference, the poverty snapshots, the hukou
    snapshot of the general households (each head 户主 of their 户号) and the base map of that night
    (every registered household in it too, linked, so it is not a general household). `renamed`:
    person id → the head's name that night (in the hukou row and so in the base map)."""
    renamed = renamed or {}
    engine = store.connect(settings)
    regions = [{"code": "522790000000", "name": "测试县", "level": "county"}]
    regions += [{"code": f"{t}000", "name": n, "level": "township"} for t, n in TOWNSHIPS.items()]
    regions += [
        {"code": c, "name": n, "level": "village", "is_poor_village": poor, "km_to_county_seat": km}
        for c, (n, poor, km, _s, _g) in VILLAGES.items()
    ]
    store.replace_region_reference(engine, pd.DataFrame(regions), source="hand-made")
    store.record_delivery(engine, day, "hand-made")
    poverty, members, hukou, links, people, homes = [], [], [], [], [], []
    number = 0
    for village, (_name, _poor, _km, strata, general) in VILLAGES.items():
        for i, stratum in enumerate(strata, start=1):
            number += 1
            no = f"{village}{i:04d}"
            status, identified, exit_year = STRATUM_FIELDS[stratum]
            head_id = _id(village, number)
            poverty.append(
                {
                    "row_no": number,
                    "household_no": no,
                    "head_name": f"户主{no[-6:]}",
                    "head_id": head_id,
                    "village_code": village,
                    "identified_year": identified,
                    "status": status,
                    "exit_year": exit_year,
                    "size": "2",
                }
            )
            for m in (1, 2):
                members.append(
                    {"row_no": 2 * number + m, "member_no": f"{no}-{m}", "household_no": no, "name": f"成员{no[-6:]}{m}"}
                )
            code = f"H{village}{i:04d}"
            homes.append(
                {"household_code": code, "household_key": f"hukou:HK{no}", "hukou_no": f"HK{no}", "village_code": village}
            )
            links.append(("poverty_households", no, f"P{number:09d}", code, "id_exact", 1.0, None, None, None, None))
        for g in range(1, general + 1):
            number += 1
            code, person, hukou_no = f"H{village}{9000 + g}", f"P{number:09d}", f"HKG{village}{g}"
            name, id_number = renamed.get(person, f"农户{village[-3:]}{g}"), _id(village, number)
            homes.append(
                {
                    "household_code": code,
                    "household_key": f"hukou:{hukou_no}",
                    "hukou_no": hukou_no,
                    "village_code": village,
                    "head_person_id": person,
                }
            )
            people.append({"person_id": person, "household_code": code, "name": name, "id_number": id_number})
            hukou.append(
                {
                    "row_no": number,
                    "person_no": f"HKP{number}",
                    "id_number": id_number,
                    "name": name,
                    "hukou_no": hukou_no,
                    "relation": "户主",
                    "village_code": village,
                    "state": "正常",
                }
            )
            links.append(("hukou", f"HKP{number}", person, code, "singleton", 1.0, None, None, None, None))
    store.write_snapshot(engine, "poverty_households", day, pd.DataFrame(poverty), load=dict(status="loaded", rows=len(poverty)))
    store.write_snapshot(engine, "poverty_members", day, pd.DataFrame(members), load=dict(status="loaded", rows=len(members)))
    store.write_snapshot(engine, "hukou", day, pd.DataFrame(hukou), load=dict(status="loaded", rows=len(hukou)))
    person_columns = [c for c in store.PERSON_COLUMNS if c not in ("first_seen", "last_seen")]
    household_columns = [c for c in store.HOUSEHOLD_COLUMNS if c not in ("first_seen", "last_seen")]
    store.write_base_map(
        engine,
        day,
        pd.DataFrame(links, columns=store.LINK_COLUMNS),
        pd.DataFrame(people, columns=person_columns).astype(object),
        pd.DataFrame(homes, columns=household_columns).astype(object),
        pd.DataFrame(columns=store.REVIEW_COLUMNS),
        {},
    )


def build_county(settings) -> None:
    """The hand-made county above on NIGHT."""
    county_night(settings, NIGHT)


# --- the pieces -----------------------------------------------------------------------------


def test_each_household_falls_in_one_stratum_by_status_and_years():
    frame = pd.DataFrame(
        {
            "status": ["已脱贫", "已脱贫", "已脱贫", "未脱贫", "未脱贫", "返贫", "已脱贫", "已脱贫"],
            "exit_year": ["2026", "2023", "2022", None, None, "2019", "2026", ""],
            "identified_year": ["2014", "2014", "2014", "2025", "2024", "2015", "2026", "2014"],
        }
    )
    assert household_strata(frame, 2026).tolist() == ["A", "B", None, "C", "D", "R", "A", None]


def test_the_non_poor_pool_is_the_upper_half_by_registered_persons_with_ties_at_the_cut():
    villages = pd.DataFrame(
        {
            "village_code": ["v1", "v2", "v3", "v4", "v5", "v6"],
            "poor": [False, False, False, False, True, False],
            "registered": [10, 8, 8, 2, 50, 0],
        }
    )
    assert non_poor_pool(villages)["village_code"].tolist() == ["v1", "v2", "v3"]


def _village_frame(rows):
    return pd.DataFrame(rows, columns=["village_code", "poor", "registered", "distance"])


def test_one_poor_village_only_is_made_up_from_the_pool_and_the_fall_back_is_stated():
    villages = _village_frame(
        [
            ("522790101201", True, 9, 30.0),  # the only poor village
            ("522790102201", False, 9, 20.0),  # pool (9, 8): upper half of 9, 8, 1
            ("522790103201", False, 8, 20.0),
            ("522790104201", False, 1, 20.0),  # rest
        ]
    )
    drawn, notes = draw_villages(villages, np.random.default_rng(1), {"522790104201": "丁一村"})
    assert sorted((v.village_code, v.kind, v.drawn_for) for v in drawn) == [
        ("522790101201", "poor", "poor"),
        ("522790102201", "non_poor", "non_poor"),
        ("522790103201", "non_poor", "non_poor"),
        ("522790104201", "non_poor", "poor"),
    ]
    assert notes == ["可抽的建档立卡贫困村（各在不同乡镇）不足 2 个，从其他非贫困村中补抽丁一村"]


def test_a_county_of_two_townships_draws_the_second_village_of_a_township_and_says_so():
    villages = _village_frame(
        [("522790101201", True, 3, 30.0), ("522790101202", False, 3, 20.0), ("522790102201", True, 3, 10.0)]
    )
    drawn, notes = draw_villages(villages, np.random.default_rng(3))
    assert sorted(v.village_code for v in drawn) == ["522790101201", "522790101202", "522790102201"]
    assert "可抽的建档立卡贫困人口较多的非贫困村不足 2 个，全县已无可抽的村，少抽 1 个" in notes
    assert any("与已抽村同一乡镇" in n for n in notes)


def test_remote_villages_are_drawn_more_often():
    villages = _village_frame([("522790101201", True, 3, 1.0), ("522790102201", True, 3, 1.0), ("522790103201", True, 3, 98.0)])
    remote = sum(
        "522790103201" in [v.village_code for v in draw_villages(villages, np.random.default_rng(s))[0][:1]] for s in range(200)
    )
    assert remote > 150  # 98 / 100 of the first draws in expectation


def _households(strata: str) -> pd.DataFrame:
    return pd.DataFrame({"code": [f"h{i:02d}" for i in range(len(strata))], "stratum": list(strata), "head_name": "某"})


def test_short_strata_are_made_up_by_the_scheme_and_every_fall_back_is_stated():
    # A 1 (needs 4), B 5, C none, D 3, E 4, two 返贫: B and D keep one each after their own draw.
    drawn, notes = draw_households(_households("ABBBBBDDDEEEERR"), np.random.default_rng(0), 2026, "乙一村")
    by_slot = pd.Series([h.drawn_for for h in drawn]).value_counts().to_dict()
    assert by_slot == {"A": 3, "B": 4, "D": 2, "E": 4, "R": 2}
    assert sorted((h.drawn_for, h.stratum) for h in drawn if h.drawn_for != h.stratum) == [("A", "B"), ("A", "D")]
    assert [h.code for h in drawn if h.stratum == "R"] == ["h13", "h14"]
    assert notes == [
        "乙一村：2026年脱贫户仅 1 户（应抽 4 户），从2023—2025年脱贫户补抽 1 户，从未脱贫户补抽 1 户，仍少 1 户",
        "乙一村：2025—2026年新识别贫困户仅 0 户（应抽 2 户），仍少 2 户",
    ]


def test_no_newly_identified_household_takes_not_exited_ones_as_the_scheme_says():
    drawn, notes = draw_households(_households("AAAABBBBDDDDEEEE"), np.random.default_rng(5), 2026, "甲一村")
    assert len(drawn) == 16 and {h.code for h in drawn} == {f"h{i:02d}" for i in range(16)}
    assert [(h.drawn_for, h.stratum) for h in drawn].count(("C", "D")) == 2
    assert notes == ["甲一村：2025—2026年新识别贫困户仅 0 户（应抽 2 户），从未脱贫户补抽 2 户"]


def test_with_neither_newly_identified_nor_not_exited_both_take_exited_2016_2018_as_the_scheme_says():
    # Year 2019 names the strata as the scheme does. B 10: its own 4, then 2 for 新识别, 2 for 未脱贫.
    drawn, notes = draw_households(_households("AAAA" + "B" * 10 + "EEEE"), np.random.default_rng(2), 2019, "甲一村")
    assert sorted((h.drawn_for, h.stratum) for h in drawn if h.drawn_for != h.stratum) == [("C", "B")] * 2 + [("D", "B")] * 2
    assert len(drawn) == 16
    assert notes == [
        "甲一村：2018—2019年新识别贫困户仅 0 户（应抽 2 户），从2016—2018年脱贫户补抽 2 户",
        "甲一村：未脱贫户仅 0 户（应抽 2 户），从2016—2018年脱贫户补抽 2 户",
    ]


def test_without_exited_this_year_the_slot_takes_exited_2016_2018_as_the_scheme_says():
    drawn, notes = draw_households(_households("B" * 8 + "CCDDEEEE"), np.random.default_rng(4), 2019, "乙一村")
    assert sorted((h.drawn_for, h.stratum) for h in drawn if h.drawn_for != h.stratum) == [("A", "B")] * 4
    assert {h.code for h in drawn} == {f"h{i:02d}" for i in range(16)}
    assert notes == ["乙一村：2019年脱贫户仅 0 户（应抽 4 户），从2016—2018年脱贫户补抽 4 户"]


def test_the_scheme_s_own_fall_backs_lead_each_chain_in_the_scheme_s_order():
    for slot, named in SCHEME_FALLBACKS.items():
        assert [s for s in STRATUM_FALLBACKS[slot] if s in named] == list(named), slot
    # What comes before a source the scheme names is a stratum its condition has empty: 未脱贫户
    # takes 新识别's leftovers first, but the scheme speaks only when there are no 新识别 at all.
    assert STRATUM_FALLBACKS["A"][0] == "B" and STRATUM_FALLBACKS["C"][:2] == ("D", "B")
    assert STRATUM_FALLBACKS["D"][:2] == ("C", "B") and STRATUM_FALLBACKS["E"] == ()


def test_the_rules_quote_the_scheme_and_mark_what_bidui_decided_where_it_is_silent():
    rules = sample_rules(2019, "区划参考")
    assert rules[5] == (
        "补抽（方案规定）：抽查村没有2018—2019年新识别贫困户的，抽查未脱贫户；既没有2018—2019年新识别贫困户也没有"
        "未脱贫户的，抽查2016—2018年脱贫户；没有2019年脱贫户的，抽查2016—2018年脱贫户"
    )
    assert rules[6] == (
        "补抽（方案未规定，本系统的做法）：某类户少于应抽户数（不只是一户也没有）时同样补足；各类的补抽顺序为："
        "2019年脱贫户不足时依次从2016—2018年脱贫户、未脱贫户、一般农户补抽（其中从2016—2018年脱贫户补抽为方案规定，"
        "其余为本系统的做法）；2016—2018年脱贫户不足时依次从2019年脱贫户、未脱贫户、一般农户补抽（方案未规定，"
        "均为本系统的做法）；2018—2019年新识别贫困户不足时依次从未脱贫户、2016—2018年脱贫户、一般农户补抽（其中从"
        "未脱贫户、2016—2018年脱贫户补抽为方案规定，其余为本系统的做法）；未脱贫户不足时依次从2018—2019年新识别"
        "贫困户、2016—2018年脱贫户、一般农户补抽（其中从2016—2018年脱贫户补抽为方案规定，其余为本系统的做法）；"
        "几类同时不足时按2019年脱贫户、2016—2018年脱贫户、2018—2019年新识别贫困户、未脱贫户的次序补抽，先补的类先用"
        "其他类剩余的户"
    )
    assert rules[7].startswith("返贫户（方案规定“抽查村中有返贫户的，实行全覆盖调查”）：抽中村的返贫户全部列入")
    assert rules[8] == (
        "村民小组（方案规定“从1个贫困村和1个非贫困村中分别抽取1个村民小组，实行全覆盖调查”）：本样本未抽取——"
        "各部门报送的数据中没有村民小组（组）字段，无法按组抽取，请考核组在现场确定村民小组"
    )
    assert all("方案" in r or "本系统" in r for r in rules[:-1])


# --- a county in the store --------------------------------------------------------------------

# Seed 8 on 测试县: 甲一村 (poor) has more households than every quota, so its draw is the seed's.
SEED = 8
JIA_YI = "522790101201"
EXPECTED_VILLAGES = ["甲一村", "丙二村", "乙二村", "丁一村"]  # never 丁二村: no registered person
EXPECTED_JIA_YI = [
    *(f"{JIA_YI}{n:04d}" for n in (1, 2, 3, 5)),  # 2026年脱贫户: 4 of 0001–0005
    *(f"{JIA_YI}{n:04d}" for n in (6, 7, 9, 10)),  # 2023—2025年脱贫户: 4 of 0006–0011
    *(f"{JIA_YI}{n:04d}" for n in (12, 13)),  # 新识别: 2 of 0012–0014
    *(f"{JIA_YI}{n:04d}" for n in (15, 16)),  # 未脱贫: 2 of 0015–0017
    *(f"H{JIA_YI}{9000 + g}" for g in (3, 4, 5, 6)),  # 一般农户: 4 of 6 (never a registered household's)
    f"{JIA_YI}0018",  # 返贫户, always
]
COUNTY_SCOPE = Scope("xian", "county", COUNTY)
# A sample without its PDF (WeasyPrint takes seconds): the printable copy's own tests make one.
draw = functools.partial(make_sample, pdf=False)


@pytest.fixture
def county(settings):
    build_county(settings)
    return settings


def _codes(sample, name):
    village = next(v for v in sample["drawn"]["villages"] if v["name"] == name)
    return [h["code"] for h in sample["drawn"]["households"] if h["village_code"] == village["village_code"]]


def test_a_seed_draws_exactly_these_villages_and_households_and_records_how(county, tmp_path):
    sample = draw(store.connect(county), county, COUNTY_SCOPE, COUNTY, YEAR, SEED, out=tmp_path / "s.xlsx")
    drawn = sample["drawn"]
    assert [v["name"] for v in drawn["villages"]] == EXPECTED_VILLAGES
    assert [v["kind"] for v in drawn["villages"]] == ["建档立卡贫困村"] * 2 + ["建档立卡贫困人口较多的非贫困村"] * 2
    assert len({v["township_code"] for v in drawn["villages"]}) == 4
    assert _codes(sample, "甲一村") == EXPECTED_JIA_YI
    assert (sample["seed"], sample["data_date"], sample["year"], sample["user_name"]) == (SEED, NIGHT, YEAR, "xian")
    assert drawn["households_date"] == "2026-11-20" and drawn["link_date"] == "2026-11-20"
    assert any("随机种子" in r or "可重复" in r for r in drawn["rules"])
    # 甲二村 and 丙一村 (the pool) share townships with 甲一村 and 丙二村: two non-poor villages from the rest.
    assert drawn["fallbacks"][:2] == [
        "可抽的建档立卡贫困人口较多的非贫困村（各在不同乡镇）不足 2 个，从其他非贫困村中补抽乙二村",
        "可抽的建档立卡贫困人口较多的非贫困村（各在不同乡镇）不足 2 个，从其他非贫困村中补抽丁一村",
    ]
    assert "丁一村：2026年脱贫户仅 1 户（应抽 4 户），仍少 3 户" in drawn["fallbacks"]
    assert (sample["villages"], sample["households"]) == (4, 17 + 16 + 7 + 5)


def test_the_same_seed_gives_the_same_sample_and_another_seed_another(county, tmp_path):
    engine = store.connect(county)
    first = draw(engine, county, COUNTY_SCOPE, COUNTY, YEAR, SEED, out=tmp_path / "a.xlsx")
    again = draw(engine, county, COUNTY_SCOPE, COUNTY, YEAR, SEED, out=tmp_path / "b.xlsx")
    other = draw(engine, county, COUNTY_SCOPE, COUNTY, YEAR, 7, out=tmp_path / "c.xlsx")
    assert again["drawn"] == first["drawn"]
    assert again["sample_id"] == first["sample_id"]  # the same draw is stored once
    assert [v["name"] for v in other["drawn"]["villages"]] == ["乙一村", "丙二村", "甲二村", "丁一村"]
    assert other["sample_id"] != first["sample_id"]
    assert [s["sample_id"] for s in store.list_samples(engine, COUNTY, 10)] == [other["sample_id"], first["sample_id"]]


def test_the_relapsed_households_of_the_sampled_villages_are_all_added(county, tmp_path):
    sample = draw(store.connect(county), county, COUNTY_SCOPE, COUNTY, YEAR, 7, out=tmp_path / "s.xlsx")
    relapsed = [h["code"] for h in sample["drawn"]["households"] if h["stratum"] == "返贫户（全覆盖）"]
    assert relapsed == ["5227901022010008"]  # 乙一村's; 甲一村 (not drawn with seed 7) keeps its own out
    assert _codes(sample, "乙一村")[-1] == "5227901022010008"


def test_the_workbook_has_the_about_sheet_a_sheet_per_village_and_the_relapsed_with_ids_masked(county, tmp_path):
    out = tmp_path / "sample.xlsx"
    draw(store.connect(county), county, COUNTY_SCOPE, COUNTY, YEAR, SEED, out=out)
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["说明", "1-甲一村", "2-丙二村", "3-乙二村", "4-丁一村", "返贫户"]
    about = {row[0]: row[1] for row in book["说明"].iter_rows(min_row=4, values_only=True)}
    assert about["随机种子"] == "8" and about["数据日期"] == "2026-11-20" and about["考核年度"] == "2026"
    assert "安徽省2019年" in about["抽样方案"]
    notes = [row[1] for row in book["说明"].iter_rows(min_row=4, values_only=True) if row[0] == "补抽说明"]
    assert notes[0].endswith("补抽乙二村")
    village = list(book["1-甲一村"].iter_rows(min_row=3, values_only=True))
    assert village[0] == (
        "序号",
        "抽样类别",
        "户的类别",
        "户编号",
        "户主姓名",
        "户主身份证号",
        "识别年度",
        "脱贫年度",
        "脱贫状态",
        "家庭人口数",
    )
    assert [r[3] for r in village[1:]] == EXPECTED_JIA_YI[:-1]
    assert village[1][1:3] == ("2026年脱贫户", "2026年脱贫户")
    assert village[1][5] == "522790********0001"  # masked for a county user without full IDs
    assert village[-1][8] == "一般农户"
    relapsed = list(book["返贫户"].iter_rows(min_row=3, values_only=True))
    assert [r[0] for r in relapsed[1:]] == ["甲一村"] and relapsed[1][4] == f"{JIA_YI}0018"


def test_the_printable_sample_is_written_beside_the_workbook_as_html_and_pdf(county, tmp_path, pdf_pages):
    out = tmp_path / "抽样.xlsx"
    sample = make_sample(store.connect(county), county, COUNTY_SCOPE, COUNTY, YEAR, SEED, out=out)
    files = {kind: tmp_path / f"抽样.{kind}" for kind in ("xlsx", "html", "pdf")}
    assert sample["documents"] == {kind: str(path) for kind, path in files.items()}
    assert sorted(p.name for p in tmp_path.glob("抽样.*")) == ["抽样.html", "抽样.pdf", "抽样.xlsx"]

    html = files["html"].read_text(encoding="utf-8")
    assert "<title>测试县（522790）2026年交叉检查抽样</title>" in html
    assert re.findall(r"<h2>(第 \d 村：[^<]+)</h2>", html) == [
        "第 1 村：甲镇甲一村",
        "第 2 村：丙镇丙二村",
        "第 3 村：乙镇乙二村",
        "第 4 村：丁镇丁一村",
    ]
    jia_yi = html[html.index("第 1 村：甲镇甲一村") : html.index("第 2 村：")]
    assert re.findall(r'<td class="nowrap">(H?\d{16})</td>', jia_yi) == EXPECTED_JIA_YI  # the 16 and its 返贫户
    assert "522790********0001" in jia_yi and "522790197002020001" not in html  # masked as for the workbook
    for text in ("随机种子", "安徽省2019年", "补抽（方案规定）", "本样本未抽取", "从其他非贫困村中补抽乙二村"):
        assert text in html, text

    assert files["pdf"].read_bytes().startswith(b"%PDF")
    pages = [" ".join(page.split()) for page in pdf_pages(files["pdf"])]
    # The account of the draw takes two pages; each village starts a page of its own and fits on it.
    assert len(pages) == 6
    assert pages[0].startswith("测试县（522790）2026年交叉检查抽样 数据日期 2026-11-20 · 随机种子 8 一、抽样说明")
    assert all(f"第 {n} 页 共 6 页" in page for n, page in enumerate(pages, start=1))
    assert [page[: page.index(" 村 乡镇")] for page in pages[2:]] == [
        "第 1 村：甲镇甲一村",
        "第 2 村：丙镇丙二村",
        "第 3 村：乙镇乙二村",
        "第 4 村：丁镇丁一村",
    ]
    assert "1 2026年脱贫户 2026年脱贫户 5227901012010001 户主010001 522790********0001 2015 2026 已脱贫 2" in pages[2]
    assert "抽样人（签字）： 日期： 年 月 日 复核人（签字）： 日期： 年 月 日 考核组组长（签字）：" in pages[-1]


def test_a_sample_is_drawn_only_for_a_county_in_the_users_scope(county, tmp_path):
    from pipelines.errors import BiduiError

    engine = store.connect(county)
    with pytest.raises(BiduiError, match="不在用户 other 的管辖范围内"):
        draw(engine, county, Scope("other", "county", "522701"), COUNTY, YEAR, SEED, out=tmp_path / "x.xlsx")
    with pytest.raises(BiduiError, match="无权抽取交叉检查样本"):
        draw(engine, county, Scope("town", "township", "522790101"), COUNTY, YEAR, SEED, out=tmp_path / "x.xlsx")
    with pytest.raises(BiduiError, match="应以 .xlsx 结尾"):
        draw(engine, county, COUNTY_SCOPE, COUNTY, YEAR, SEED, out=tmp_path / "x.pdf")
    assert list(tmp_path.glob("x.*")) == [] and store.list_samples(engine, None, 10) == []


def test_the_sample_command_draws_writes_and_prints_the_fall_backs(county, tmp_path, cheap_passwords, monkeypatch):
    from typer.testing import CliRunner

    from pipelines.access import add_user
    from pipelines.cli import common
    from pipelines.cli.main import app

    add_user(store.connect(county), "xian", "xian-secret-2026", "county", COUNTY)
    (tmp_path / "pw").write_text("xian-secret-2026\n", encoding="utf-8")
    monkeypatch.setattr(common.console, "width", 300)
    out = tmp_path / "抽样.xlsx"
    env = {"BIDUI_DATA_DIR": str(county.data_dir), "BIDUI_DATABASE_URL": county.database_url, "BIDUI_PROGRESS": "0"}
    args = ["sample", "--county", COUNTY, "--year", "2026", "--seed", "8", "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--user", "xian", "--password-file", str(tmp_path / "pw")], env=env)
    assert result.exit_code == 0, result.output
    assert "测试县（522790）2026 年交叉检查抽样：随机种子 8，数据日期 2026-11-20" in result.output
    assert "第 1 村：甲镇甲一村（建档立卡贫困村），17 户" in result.output
    assert "补抽：丁一村：未脱贫户仅 0 户（应抽 2 户），仍少 2 户" in result.output
    written = [tmp_path / f"抽样.{kind}" for kind in ("xlsx", "html", "pdf")]
    assert [f"已写入 {path}" in result.output for path in written] == [True] * 3
    assert all(path.is_file() for path in written)
    # Drawn again without a PDF: the earlier PDF does not stay beside the new files as if it were theirs.
    again = CliRunner().invoke(app, [*args, "--no-pdf", "--user", "xian", "--password-file", str(tmp_path / "pw")], env=env)
    assert again.exit_code == 0, again.output
    assert "抽样.pdf" not in again.output and sorted(p.name for p in tmp_path.glob("抽样.*")) == ["抽样.html", "抽样.xlsx"]
    refused = CliRunner().invoke(
        app, [*args[:2], "522701", *args[3:], "--user", "xian", "--password-file", str(tmp_path / "pw")], env=env
    )
    assert refused.exit_code == 1 and "不在用户 xian 的管辖范围内" in refused.output


def test_a_distance_file_replaces_the_reference_distances(county, tmp_path):
    # 丙二村, the nearest poor village by the reference (5 km of 85), at 100000 km and the rest at 0
    # (weighted as 1 km): it is the first village drawn, whatever the seed.
    distances = {code: (100000.0 if code == "522790103202" else 0.0) for code in VILLAGES}
    engine = store.connect(county)
    for seed in range(1, 5):
        out = tmp_path / f"d{seed}.xlsx"
        sample = draw(engine, county, COUNTY_SCOPE, COUNTY, YEAR, seed, out=out, distances=distances, distance_source="测试")
        assert sample["drawn"]["villages"][0]["name"] == "丙二村", seed
    assert any("距离来源：测试" in r for r in sample["drawn"]["rules"])


def test_the_same_seed_and_data_date_draw_the_same_sample_after_later_nights(county, tmp_path):
    # Households first seen on a later night are not in the base map of the data date: drawing the
    # same seed for the same data date after them gives the same sample.
    from pipelines.store.tables import households

    engine = store.connect(county)
    first = draw(engine, county, COUNTY_SCOPE, COUNTY, YEAR, SEED, out=tmp_path / "a.xlsx", as_of=NIGHT)
    later = NIGHT + dt.timedelta(days=1)
    with engine.begin() as conn:
        conn.execute(
            households.insert(),
            [
                {
                    "household_code": f"H{JIA_YI}{9100 + g}",
                    "household_key": f"hukou:HKL{g}",
                    "hukou_no": f"HKL{g}",
                    "village_code": JIA_YI,
                    "first_seen": later,
                    "last_seen": later,
                }
                for g in range(1, 7)
            ],
        )
    again = draw(engine, county, COUNTY_SCOPE, COUNTY, YEAR, SEED, out=tmp_path / "b.xlsx", as_of=NIGHT)
    assert _codes(again, "甲一村") == EXPECTED_JIA_YI
    assert again["drawn"] == first["drawn"]


def test_the_heads_of_general_households_are_named_as_on_the_data_date(county, tmp_path):
    # 甲一村's 一般农户 H…9003 (head P000000022) is drawn with SEED; the next night its head is
    # renamed in the household register, and so in the base map. A sample of NIGHT still names the
    # head as NIGHT's register did; a sample of the next night names them as that night's does.
    later = NIGHT + dt.timedelta(days=1)
    county_night(county, later, renamed={"P000000022": "改名户主"})
    engine = store.connect(county)

    def head(sample):
        return next((h["head_name"], h["head_id"]) for h in sample["drawn"]["households"] if h["code"] == f"H{JIA_YI}9003")

    before = draw(engine, county, COUNTY_SCOPE, COUNTY, YEAR, SEED, out=tmp_path / "a.xlsx", as_of=NIGHT)
    after = draw(engine, county, COUNTY_SCOPE, COUNTY, YEAR, SEED, out=tmp_path / "b.xlsx", as_of=later)
    assert before["drawn"]["link_date"] == "2026-11-20" and after["drawn"]["link_date"] == "2026-11-21"
    assert head(before) == ("农户2013", "522790197011230022")
    assert head(after) == ("改名户主", "522790197011230022")


def test_a_distance_file_that_cannot_be_read_is_named_in_chinese(tmp_path):
    from pipelines.errors import BiduiError
    from pipelines.store.samples import read_distance_file

    saved_by_excel = tmp_path / "距离.csv"
    saved_by_excel.write_bytes("区划代码,公里\n522725101201,12\n".encode("gb18030"))
    with pytest.raises(BiduiError, match=r"读不了距离文件 .*：不是 UTF-8 编码（第 1 个字节起无法解码），请另存为 UTF-8$"):
        read_distance_file(saved_by_excel)
    empty = tmp_path / "空.csv"
    empty.write_bytes(b"")
    with pytest.raises(BiduiError, match=r"距离文件 .* 是空的$"):
        read_distance_file(empty)
    with pytest.raises(BiduiError, match=r"：文件不存在$"):
        read_distance_file(tmp_path / "没有.csv")


def test_a_distance_file_without_any_village_of_the_county_is_refused(county, tmp_path):
    # Saved by Excel, the codes read 5.2279E+11: not one village matches. The sample must not name
    # the file as its distance source while every village was weighted alike.
    from pipelines.errors import BiduiError

    engine = store.connect(county)
    mangled = {"5.2279E+11": 30.0, "522701101201": 12.0}
    with pytest.raises(BiduiError, match=r"^距离文件 距离.csv 中没有县 522790 任何一个村的距离"):
        draw(
            engine,
            county,
            COUNTY_SCOPE,
            COUNTY,
            YEAR,
            SEED,
            out=tmp_path / "s.xlsx",
            distances=mangled,
            distance_source="距离文件 距离.csv",
        )
    assert list(tmp_path.glob("s.*")) == [] and store.list_samples(engine, None, 10) == []


def test_a_sample_whose_row_cannot_be_stored_leaves_no_file(county, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(store, "write_sample", broken)
    with pytest.raises(RuntimeError):
        draw(store.connect(county), county, COUNTY_SCOPE, COUNTY, YEAR, SEED, out=tmp_path / "s.xlsx")
    assert list(tmp_path.glob("s.*")) == []
