"""The demo delivery generator end to end: determinism, files per contract, messiness, truth."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

from pipelines.catalog.feeds import PERSON_FEEDS, load_feeds, normalise_header
from pipelines.demo import generate_delivery
from pipelines.demo.messiness import ID_KINDS, NAME_KINDS
from pipelines.demo.pools import traditional_table
from pipelines.ingest.readers import read_feed_file
from pipelines.standardise.dates import parse_dates
from pipelines.standardise.ids import id_statuses

pytestmark = pytest.mark.xdist_group("demo_generator")

FEEDS = load_feeds()
AS_OF = dt.date(2026, 11, 20)
SEED = 20261120
COMMITTED = Path(__file__).resolve().parents[3] / "seeds" / "demo" / AS_OF.isoformat()
RULES = [f"R{i:02d}" for i in range(1, 19)]


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    return generate_delivery(300, 7, tmp_path_factory.mktemp("small"), AS_OF)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """The 2,000-person delivery, made exactly as seeds/demo was."""
    return generate_delivery(2000, SEED, tmp_path_factory.mktemp("demo"), AS_OF)


def _files(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def _feed(delivery: Path, name: str) -> pd.DataFrame:
    path = next(delivery.glob(f"{name}.*"))
    frame = read_feed_file(path, FEEDS[name], 1 << 30).frame
    return frame[frame[FEEDS[name].key].notna()].reset_index(drop=True)


def _truth(delivery: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(delivery / "_truth" / f"{name}.csv", dtype=str, keep_default_na=False)


def _linked(delivery: Path, feed: str) -> dict[str, str]:
    links = _truth(delivery, "links")
    links = links[links["feed"] == feed]
    return dict(zip(links["record_key"], links["true_person_id"], strict=True))


def test_same_seed_gives_byte_identical_files(small, tmp_path):
    again = generate_delivery(300, 7, tmp_path, AS_OF)
    assert again.name == "2026-11-20"
    assert _files(again) == _files(small)


def test_another_seed_gives_other_people(small, tmp_path):
    other = generate_delivery(300, 8, tmp_path, AS_OF)
    assert (other / "hukou.csv").read_bytes() != (small / "hukou.csv").read_bytes()


def test_committed_demo_delivery_is_what_the_generator_makes(demo):
    committed = _files(COMMITTED)
    assert committed == _files(demo)
    assert sum(len(b) for b in committed.values()) < 2_000_000


def test_every_feed_is_delivered_with_contract_headers(small):
    for name, spec in FEEDS.items():
        path = next(small.glob(f"{name}.*"))
        table = read_feed_file(path, spec, 1 << 30)
        assert sorted(table.mapped.values()) == sorted(f.name for f in spec.fields), name
    assert (small / "regions.csv").read_bytes() == (COMMITTED.parents[1] / "regions.csv").read_bytes()


def test_headers_use_aliases_and_variants(small):
    raw = {name: _header_cells(small, name) for name in ("hukou", "poverty_households", "enterprise_registry")}
    assert {"姓　名", "户口状态", "注销日期"} <= set(raw["hukou"])
    assert {"户主", " 联系电话 ", "帮扶责任人"} <= set(raw["poverty_households"])
    assert "注册资本(万元)" in raw["enterprise_registry"]
    assert normalise_header("注册资本(万元)") == normalise_header("注册资本（万元）")


def _header_cells(delivery: Path, name: str) -> list[str]:
    data = (delivery / f"{name}.csv").read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030")
    return text.splitlines()[0].split(",")


def test_encodings_and_formats(small):
    assert (small / "poverty_households.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    with pytest.raises(UnicodeDecodeError):
        (small / "hukou.csv").read_bytes().decode("utf-8")
    (small / "medical_insurance.csv").read_bytes().decode("utf-8")
    assert (small / "poverty_members.xlsx").read_bytes()[:4] == b"PK\x03\x04"


def test_every_kind_of_messiness_occurs(demo):
    kinds = set(_truth(demo, "messiness")["kind"])
    expected = {*ID_KINDS, *NAME_KINDS, "swapped", "day_month_swap", "digit_slip", "stray_space", "off_list", "blank_row"}
    assert expected - kinds == set()
    text = "".join((demo / f"{n}.csv").read_bytes().decode("gb18030") for n in ("hukou", "school_enrolment"))
    text += "".join((demo / f"{n}.csv").read_text(encoding="utf-8-sig") for n in ("medical_insurance", "dangerous_housing"))
    for shape in (
        r",\d{4}-\d\d-\d\d,",
        r",\d{8},",
        r",\d{4}/\d{1,2}/\d{1,2},",
        r",\d{4}\.\d{1,2}\.\d{1,2},",
        r",\d{4}年\d{1,2}月\d{1,2}日,",
        r",5\.\d{5}E\+17,",
        r",'\d{17}",
    ):
        assert re.search(shape, text), shape


def test_xlsx_has_real_date_cells_and_mangled_numbers(demo):
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(demo / "poverty_members.xlsx")).get_sheet_by_index(0).to_python()
    cells = [c for row in rows[2:] for c in row]
    assert any(isinstance(c, dt.date) for c in cells)
    assert any(isinstance(c, float) and c > 1e17 for c in cells)
    assert rows[0][0] == "建档立卡贫困人口家庭成员信息表"


def test_logged_messiness_is_in_the_files(demo):
    log = _truth(demo, "messiness")
    members = _feed(demo, "poverty_members").set_index("member_no")
    traditional = "[" + "".join(traditional_table().values()) + "]"
    for kind, pattern in (("fullwidth", "[０-９]"), ("traditional", traditional), ("lower_x", "x$")):
        rows = log[(log["feed"] == "poverty_members") & (log["kind"] == kind)]
        field = rows["field"].iloc[0]
        values = members.loc[rows["record_key"], field].fillna("")
        assert values.str.contains(pattern).any(), kind


def test_links_cover_every_person_level_row(demo):
    links = _truth(demo, "links")
    assert not links.duplicated(["feed", "record_key"]).any()
    for name, spec in FEEDS.items():
        if name == "regions":
            continue
        keys = set(_feed(demo, name)[spec.key])
        assert set(links.loc[links["feed"] == name, "record_key"]) == keys, name
    assert set(PERSON_FEEDS) <= set(links["feed"])
    people = set(links.loc[links["feed"] == "hukou", "true_person_id"])
    assert len(people) == 2000 and set(links["true_person_id"]) <= people


def test_each_rule_has_expected_clues(small, demo):
    assert set(_truth(small, "clues")["rule"]) == set(RULES)
    counts = _truth(demo, "clues")["rule"].value_counts()
    assert counts.reindex(RULES, fill_value=0).min() >= 5


def _person_rows(demo: Path, feed: str) -> pd.DataFrame:
    """A feed's rows with their true person id."""
    frame = _feed(demo, feed)
    frame["person"] = frame[FEEDS[feed].key].map(_linked(demo, feed))
    return frame


def _subjects(demo: Path, rule: str) -> set[str]:
    clues = _truth(demo, "clues")
    return set(clues.loc[clues["rule"] == rule, "subject_key"])


def _ages(frame: pd.DataFrame) -> pd.Series:
    """Approximate age in years on the data date."""
    return (pd.Timestamp(AS_OF) - pd.to_datetime(parse_dates(frame["birth_date"]))).dt.days / 365.25


def test_rule_truth_spot_checks(demo):
    hukou = _person_rows(demo, "hukou").set_index("person")
    members = _person_rows(demo, "poverty_members").set_index("member_no")
    for rule, states in (("R01", {"死亡"}), ("R02", {"迁出", "出国（境）定居", "其他注销"})):
        persons = members.loc[sorted(_subjects(demo, rule)), "person"]
        assert set(hukou.loc[persons, "state"].str.strip()) <= states, rule

    age = _ages(hukou)
    r05 = members.loc[sorted(_subjects(demo, "R05")), "person"]
    assert age[r05].between(6, 16).all()

    households = _feed(demo, "poverty_households").set_index("household_no")
    r10 = households.loc[sorted(_subjects(demo, "R10"))]
    assert (r10["identified_year"] == r10["exit_year"]).all()

    ids = id_statuses(members.loc[sorted(_subjects(demo, "R17")), "id_number"])
    assert (ids != "valid").all()

    housing = _feed(demo, "dangerous_housing").set_index("appraisal_no")
    r13 = housing.loc[sorted(_subjects(demo, "R13"))]
    assert set(r13["grade"].str.strip()) <= {"C", "D"} and set(r13["renovation"].str.strip()) <= {"未改造", "在建"}
    assert not set(_person_rows(demo, "dangerous_housing").set_index("appraisal_no").loc[r13.index, "person"]) & set(
        members["person"]
    )

    living = _person_rows(demo, "minimum_living")
    r12 = living[living["case_no"].isin(_subjects(demo, "R12"))]
    assert set(r12["state"].str.strip()) == {"在保"} and not set(r12["person"]) & set(members["person"])


def test_near_misses_do_not_fire(demo):
    hukou = _person_rows(demo, "hukou").set_index("person")
    members = _person_rows(demo, "poverty_members")
    age = _ages(hukou)
    registered = set(members["person"])
    school = _person_rows(demo, "school_enrolment")
    in_school = set(school.loc[school["state"].str.strip().isin(["在读", "休学"]), "person"])
    teens_out = {p for p in registered if 16.1 < age[p] < 17.9 and p not in in_school}
    fired = set(members.loc[members["member_no"].isin(_subjects(demo, "R05")), "person"])
    assert teens_out and not teens_out & fired

    housing = _person_rows(demo, "dangerous_housing")
    safe = housing[housing["grade"].str.strip().isin(["A", "B"]) | housing["renovation"].str.strip().isin(["已竣工", "已验收"])]
    assert len(safe) and not set(safe["appraisal_no"]) & _subjects(demo, "R13")

    log = _truth(demo, "messiness")
    traditional = set(log.loc[(log["feed"] == "poverty_members") & (log["kind"] == "traditional"), "record_key"])
    noisy_ids = set(log.loc[(log["feed"] == "poverty_members") & (log["field"] == "id_number"), "record_key"])
    quiet = traditional - noisy_ids
    assert quiet and not quiet & _subjects(demo, "R18")


def test_population_has_hard_names_twins_and_namesakes(demo):
    hukou = _feed(demo, "hukou")
    names = hukou["name"]
    assert {"曾", "单", "解", "仇", "区", "查", "朴"} <= set(names.str[0])
    assert names.str.contains("·").any()
    twins = hukou[hukou.duplicated(["hukou_no", "birth_date"], keep=False) & hukou["relation"].isin(["之子", "之女"])]
    assert len(twins) >= 2 and not twins.duplicated(["hukou_no", "name"]).any()
    village_names = hukou.drop_duplicates(["hukou_no", "name"])
    namesakes = village_names[village_names.duplicated(["village_code", "name"], keep=False)]
    assert namesakes["hukou_no"].nunique() >= 2
    assert not hukou.duplicated(["hukou_no", "name"]).any()


def test_the_delivery_is_marked_complete_last_with_the_marker_the_night_waits_for(small):
    from pipelines.demo.delivery import READY_MARKER
    from pipelines.ingest import READY_MARKER as AWAITED

    assert READY_MARKER == AWAITED
    written = [p for p in small.rglob("*") if p.is_file()]
    assert max(written, key=lambda p: p.stat().st_mtime_ns).name == READY_MARKER
