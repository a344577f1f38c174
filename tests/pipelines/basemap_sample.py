"""A hand-made night for the base-map tests (loaded by tests/pipelines/conftest.py and tests/pipelines/cli/test_main.py): person rows, a LinkResult as pipelines.link.linker returns it,
and the snapshots the base map reads facts from. All synthetic.

Persons: 张三 (hukou H1, poverty member PM1, poverty household head PH1, medical insurance MI1),
李四 (hukou H2, minimum living ML1), 王五 (poverty member PM2 only, no hukou row), 赵六 (vehicle
owner V1 only). 张三 and 李四 share 户号 HK1; 王五 is in 张三's poverty household PH1.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from matchers.classification import ComparisonLevels, FellegiSunter
from pipelines import store
from pipelines.link.linker import CLUSTER_LINK_COLUMNS, REVIEW_CANDIDATE_COLUMNS
from pipelines.link.stage import Linker

DAY = dt.date(2026, 11, 20)
VILLAGE = "522725102203"
ID_ZHANG = "522725199001011234"
ID_LI = "522725199202021240"
ID_WANG = "522725201003031211"

ROW_COLUMNS = [
    "feed",
    "record_key",
    "role",
    "name",
    "name_norm",
    "name_pinyin",
    "name_initials",
    "id_raw",
    "id_clean",
    "id_status",
    "id18",
    "birth_date",
    "id_birth_date",
    "sex",
    "id_sex",
    "village_code",
    "household_ref",
]


def _row(feed, key, role, name, norm, id18, birth, id_birth, sex, id_sex, village, ref) -> dict:
    status = "valid" if id18 else "empty"
    return dict(
        feed=feed,
        record_key=key,
        role=role,
        name=name,
        name_norm=norm,
        name_pinyin=None,
        name_initials=None,
        id_raw=id18,
        id_clean=id18,
        id_status=status,
        id18=id18,
        birth_date=birth,
        id_birth_date=id_birth,
        sex=sex,
        id_sex=id_sex,
        village_code=village,
        household_ref=ref,
    )


def person_rows() -> pd.DataFrame:
    return pd.DataFrame(
        [
            _row("hukou", "H1", "person", "张三", "张三", ID_ZHANG, "1990-01-01", "1990-01-01", "男", "男", VILLAGE, "hukou:HK1"),
            # 李四's police record lacks a birth date; minimum living's ID gives it.
            _row("hukou", "H2", "person", "李四", "李四", None, None, None, "女", None, VILLAGE, "hukou:HK1"),
            _row(
                "poverty_members",
                "PM1",
                "person",
                "張三",
                "张三",
                ID_ZHANG,
                "1990-01-01",
                "1990-01-01",
                "男",
                "男",
                VILLAGE,
                "poverty:PH1",
            ),
            _row(
                "poverty_households",
                "PH1",
                "household_head",
                "张三",
                "张三",
                ID_ZHANG,
                None,
                "1990-01-01",
                None,
                "男",
                VILLAGE,
                "poverty:PH1",
            ),
            _row(
                "medical_insurance",
                "MI1",
                "person",
                "张 三",
                "张三",
                ID_ZHANG,
                None,
                "1990-01-01",
                None,
                "男",
                "522725102299",
                None,
            ),
            _row(
                "poverty_members",
                "PM2",
                "person",
                "王五",
                "王五",
                ID_WANG,
                None,
                "2010-03-03",
                None,
                "男",
                VILLAGE,
                "poverty:PH1",
            ),
            _row("vehicles", "V1", "owner", "赵六", "赵六", None, None, None, None, None, None, None),
            _row("minimum_living", "ML1", "person", "李四", "李四", ID_LI, None, "1992-02-02", None, "女", VILLAGE, "case:C1"),
        ],
        columns=ROW_COLUMNS,
    )


def model_dict() -> dict:
    """A two-comparison Fellegi–Sunter model with its thresholds, as pipelines.link.linker stores it."""
    model = FellegiSunter(
        [
            ComparisonLevels("name", {-1: "缺失", 0: "不同", 1: "拼音相同", 2: "完全一致"}),
            ComparisonLevels("birth_date", {-1: "缺失", 0: "不同", 1: "完全一致"}),
        ],
        m={"name": [0.02, 0.08, 0.9], "birth_date": [0.1, 0.9]},
        u={"name": [0.9, 0.09, 0.01], "birth_date": [0.99, 0.01]},
        prior=0.1,
    )
    return {**model.to_dict(), "upper": 0.9, "lower": 0.5}


@dataclass
class FakeLinkResult:
    links: pd.DataFrame
    review: pd.DataFrame
    model: dict
    stats: dict = field(default_factory=dict)


def link_result(clusters: dict[str, int] | None = None) -> FakeLinkResult:
    """The linker's answer for person_rows(); `clusters` renumbers clusters by record key."""
    nan = float("nan")
    links = pd.DataFrame(
        [
            ("hukou", "H1", 1, "id_exact", 1.0, nan, None, None, None),
            ("hukou", "H2", 2, "singleton", 1.0, nan, None, None, None),
            ("poverty_members", "PM1", 1, "id_exact", 1.0, nan, "hukou", "H1", None),
            ("poverty_households", "PH1", 1, "id_exact", 1.0, nan, "hukou", "H1", None),
            ("medical_insurance", "MI1", 1, "id_exact", 1.0, nan, "hukou", "H1", None),
            ("poverty_members", "PM2", 3, "singleton", 1.0, nan, None, None, None),
            ("vehicles", "V1", 4, "singleton", 1.0, nan, None, None, None),
            # weight log2(90) + log2(1/9) = log2(10): probability 10/11
            ("minimum_living", "ML1", 2, "probabilistic", 0.909091, 3.321928, "hukou", "H2", '{"name": 2, "birth_date": -1}'),
        ],
        columns=CLUSTER_LINK_COLUMNS,
    )
    if clusters:
        links["cluster"] = links["record_key"].map(clusters).fillna(links["cluster"]).astype("int64")
    review = pd.DataFrame(
        [("vehicles", "V1", "hukou", "H2", 0.502513, 0.0145, '{"name": 2, "birth_date": 0}')], columns=REVIEW_CANDIDATE_COLUMNS
    )
    return FakeLinkResult(links, review, model_dict(), {"candidate_pairs": 12, "seconds": {"blocking": 0.01}})


SNAPSHOTS = {
    "hukou": pd.DataFrame(
        {
            "person_no": ["H1", "H2"],
            "name": ["张三", "李四"],
            "ethnicity": ["汉族", "苗族"],
            "hukou_no": ["HK1", "HK1"],
            "relation": ["户主", "配偶"],
            "state": ["正常", "正常"],
        }
    ),
    "poverty_members": pd.DataFrame(
        {
            "member_no": ["PM1", "PM2"],
            "household_no": ["PH1", "PH1"],
            "ethnicity": ["汉族", "苗族"],
            "relation": ["户主", "其他"],
        }
    ),
    "medical_insurance": pd.DataFrame({"insured_no": ["MI1"], "state": ["正常参保"]}),
    "minimum_living": pd.DataFrame({"person_no": ["ML1"], "kind": ["农村低保"]}),
}


def write_snapshots(settings, day: dt.date = DAY) -> None:
    """Store the facts' snapshots as if the night had been ingested."""
    engine = store.connect(settings)
    for feed, frame in SNAPSHOTS.items():
        body = frame.assign(row_no=range(2, len(frame) + 2))
        store.write_snapshot(engine, feed, day, body, load=dict(status="loaded", rows=len(frame)))


class RecordingLinker:
    """A Linker stand-in that returns the hand-made night and remembers the decisions it was given."""

    def __init__(self, result: FakeLinkResult | None = None, rows: pd.DataFrame | None = None):
        self.result = result or link_result()
        self.rows = person_rows() if rows is None else rows
        self.decisions: list[pd.DataFrame | None] = []

    def as_linker(self) -> Linker:
        return Linker(build_rows=lambda snapshots: self.rows.copy(), link=self._link)

    def _link(self, rows, decisions, settings):
        self.decisions.append(None if decisions is None else decisions.copy())
        return self.result


def link_sample_night(settings) -> None:
    """Store the hand-made night and link it into the base map."""
    from pipelines.link.stage import link_night

    write_snapshots(settings)
    link_night(settings, DAY, linker=RecordingLinker().as_linker())
