"""The base map (底图) built from a hand-made LinkResult, and the link stage's storage."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from pipelines import store
from pipelines.basemap.build import build_base_map, build_facts
from pipelines.basemap.households import assign_households
from pipelines.errors import BiduiError
from pipelines.link.linker import CLUSTER_LINK_COLUMNS, REVIEW_CANDIDATE_COLUMNS
from pipelines.link.person_rows import build_person_rows
from pipelines.link.stage import Linker, link_night
from pipelines.store.tables import households, linkage_models, links, persons, review_decisions, review_queue

H = "H5227251022030001"


def _facts(sample) -> pd.DataFrame:
    return build_facts(sample.SNAPSHOTS)


def _empty(*columns: str) -> pd.DataFrame:
    return pd.DataFrame(columns=list(columns))


def _first_night(sample):
    return build_base_map(
        sample.person_rows(),
        sample.link_result(),
        _empty("feed", "record_key", "person_id"),
        1,
        _empty("household_key", "household_code"),
        _facts(sample),
    )


def _plain(frame: pd.DataFrame) -> list[dict]:
    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()} for r in frame.to_dict("records")]


def test_persons_take_identity_from_hukou_and_facts_from_their_department(night_sample):
    base = _first_night(night_sample)
    none = {"enrolment_state": None, "enrolment_source": None, "illness_kind": None, "illness_source": None}
    assert _plain(base.persons) == [
        {
            "person_id": "P000000001",
            "household_code": H,
            "name": "张三",
            "name_source": "hukou:H1",
            "id_number": night_sample.ID_ZHANG,
            "id_source": "hukou:H1",
            "sex": "男",
            "sex_source": "hukou:H1",
            "birth_date": "1990-01-01",
            "birth_source": "hukou:H1",
            "ethnicity": "汉族",
            "ethnicity_source": "hukou:H1",
            "village_code": night_sample.VILLAGE,
            "village_source": "hukou:H1",
            "hukou_state": "正常",
            "hukou_state_source": "hukou:H1",
            "insured_state": "正常参保",
            "insured_source": "medical_insurance:MI1",
            **none,
            "assistance_kind": None,
            "assistance_source": None,
        },
        {
            # hukou has no ID number or birth date for 李四: minimum living's row gives them.
            "person_id": "P000000002",
            "household_code": H,
            "name": "李四",
            "name_source": "hukou:H2",
            "id_number": night_sample.ID_LI,
            "id_source": "minimum_living:ML1",
            "sex": "女",
            "sex_source": "hukou:H2",
            "birth_date": "1992-02-02",
            "birth_source": "minimum_living:ML1",
            "ethnicity": "苗族",
            "ethnicity_source": "hukou:H2",
            "village_code": night_sample.VILLAGE,
            "village_source": "hukou:H2",
            "hukou_state": "正常",
            "hukou_state_source": "hukou:H2",
            "insured_state": None,
            "insured_source": None,
            **none,
            "assistance_kind": "农村低保",
            "assistance_source": "minimum_living:ML1",
        },
        {
            "person_id": "P000000003",
            "household_code": H,
            "name": "王五",
            "name_source": "poverty_members:PM2",
            "id_number": night_sample.ID_WANG,
            "id_source": "poverty_members:PM2",
            "sex": "男",
            "sex_source": "poverty_members:PM2",
            "birth_date": "2010-03-03",
            "birth_source": "poverty_members:PM2",
            "ethnicity": "苗族",
            "ethnicity_source": "poverty_members:PM2",
            "village_code": night_sample.VILLAGE,
            "village_source": "poverty_members:PM2",
            "hukou_state": None,
            "hukou_state_source": None,
            "insured_state": None,
            "insured_source": None,
            **none,
            "assistance_kind": None,
            "assistance_source": None,
        },
        {
            "person_id": "P000000004",
            "household_code": None,
            "name": "赵六",
            "name_source": "vehicles:V1",
            "id_number": None,
            "id_source": None,
            "sex": None,
            "sex_source": None,
            "birth_date": None,
            "birth_source": None,
            "ethnicity": None,
            "ethnicity_source": None,
            "village_code": None,
            "village_source": None,
            "hukou_state": None,
            "hukou_state_source": None,
            "insured_state": None,
            "insured_source": None,
            **none,
            "assistance_kind": None,
            "assistance_source": None,
        },
    ]


def test_one_household_code_for_the_registered_household_and_its_poverty_members(night_sample):
    base = _first_night(night_sample)
    assert _plain(base.households) == [
        {
            "household_code": H,
            "household_key": "hukou:HK1",
            "hukou_no": "HK1",
            "village_code": night_sample.VILLAGE,
            "head_person_id": "P000000001",
        },
    ]


def test_links_carry_person_household_method_and_probability(night_sample):
    base = _first_night(night_sample)
    got = base.links[["feed", "record_key", "person_id", "household_code", "method", "probability", "anchor_key"]]
    got = got.sort_values(["feed", "record_key"])
    assert [tuple(r) for r in got.itertuples(index=False)] == [
        ("hukou", "H1", "P000000001", H, "id_exact", 1.0, None),
        ("hukou", "H2", "P000000002", H, "singleton", 1.0, None),
        ("medical_insurance", "MI1", "P000000001", H, "id_exact", 1.0, "H1"),
        ("minimum_living", "ML1", "P000000002", H, "probabilistic", 0.909091, "H2"),
        ("poverty_households", "PH1", "P000000001", H, "id_exact", 1.0, "H1"),
        ("poverty_members", "PM1", "P000000001", H, "id_exact", 1.0, "H1"),
        ("poverty_members", "PM2", "P000000003", H, "singleton", 1.0, None),
        ("vehicles", "V1", "P000000004", None, "singleton", 1.0, None),
    ]
    assert base.counts == {
        "rows": 8,
        "persons": 4,
        "persons_kept": 0,
        "persons_new": 4,
        "households": 1,
        "households_new": 1,
        "review_pairs": 1,
    }


def test_review_pairs_already_decided_are_marked_so(night_sample):
    decisions = pd.DataFrame(
        [("hukou", "H2", "vehicles", "V1", "different")],
        columns=["feed", "record_key", "candidate_feed", "candidate_key", "decision"],
    )
    base = build_base_map(
        night_sample.person_rows(),
        night_sample.link_result(),
        _empty("feed", "record_key", "person_id"),
        1,
        _empty("household_key", "household_code"),
        _facts(night_sample),
        decisions,
    )
    assert base.review[["feed", "record_key", "candidate_key", "status"]].values.tolist() == [["vehicles", "V1", "H2", "decided"]]
    assert _first_night(night_sample).review["status"].tolist() == ["open"]


def test_second_night_keeps_ids_and_codes_when_the_linker_renumbers(night_sample):
    first = _first_night(night_sample)
    rows = pd.concat(
        [
            night_sample.person_rows(),
            night_sample.person_rows().iloc[[6]].assign(feed="school_enrolment", record_key="S1", name="孙七", name_norm="孙七"),
        ],
        ignore_index=True,
    )
    result = night_sample.link_result({"H1": 50, "PM1": 50, "PH1": 50, "MI1": 50, "H2": 7, "ML1": 7, "PM2": 9, "V1": 3})
    result.links = pd.concat(
        [
            result.links,
            pd.DataFrame([dict(feed="school_enrolment", record_key="S1", cluster=11, method="singleton", probability=1.0)]),
        ],
        ignore_index=True,
    )
    second = build_base_map(
        rows,
        result,
        first.links[["feed", "record_key", "person_id"]],
        5,
        first.households[["household_key", "household_code"]],
        _facts(night_sample),
    )
    assert dict(zip(second.links["record_key"], second.links["person_id"])) == {
        **dict(zip(first.links["record_key"], first.links["person_id"])),
        "S1": "P000000005",
    }
    assert second.households["household_code"].tolist() == [H]
    assert (second.counts["persons_kept"], second.counts["households_new"]) == (4, 0)


# --- through the store ------------------------------------------------------------------------


def _dump(settings) -> dict[str, list[tuple]]:
    engine = store.connect(settings)
    tables = {
        "persons": (persons, [persons.c.person_id]),
        "households": (households, [households.c.household_code]),
        "links": (links, [links.c.delivery_date, links.c.feed, links.c.record_key]),
        "linkage_models": (linkage_models, [linkage_models.c.delivery_date]),
        "review_queue": (review_queue, [review_queue.c.delivery_date, review_queue.c.feed, review_queue.c.record_key]),
        "review_decisions": (review_decisions, [review_decisions.c.feed, review_decisions.c.record_key]),
    }
    with engine.connect() as conn:
        return {name: [tuple(r) for r in conn.execute(select(t).order_by(*order))] for name, (t, order) in tables.items()}


def test_linking_a_night_again_changes_nothing(linked_night, night_sample):
    before = _dump(linked_night)
    assert len(before["links"]) == 8 and len(before["persons"]) == 4 and len(before["review_queue"]) == 1
    summary = link_night(linked_night, night_sample.DAY, linker=night_sample.RecordingLinker().as_linker())
    assert _dump(linked_night) == before
    assert summary.counts["persons_kept"] == 4
    assert summary.methods == {"id_exact": 4, "probabilistic": 1, "singleton": 3}


def test_stored_base_map_reads_back(linked_night, night_sample):
    engine = store.connect(linked_night)
    stored = store.load_persons(engine)
    assert stored[["person_id", "name", "first_seen", "last_seen"]].values.tolist() == [
        [f"P00000000{i}", name, night_sample.DAY, night_sample.DAY] for i, name in enumerate(["张三", "李四", "王五", "赵六"], 1)
    ]
    assert store.load_linkage_model(engine, night_sample.DAY) == night_sample.model_dict()
    assert store.load_next_person_number(engine) == 5
    link = store.load_link(engine, "minimum_living", "ML1")
    assert (link["delivery_date"], link["person_id"], link["match_weight"], link["levels"]) == (
        night_sample.DAY,
        "P000000002",
        3.321928,
        '{"name": 2, "birth_date": -1}',
    )


def test_reviewer_decisions_are_stored_and_given_to_every_later_night(linked_night, night_sample):
    engine = store.connect(linked_night)
    store.write_review_decision(engine, "vehicles", "V1", "hukou", "H2", "same", "审核员甲")
    # The same pair the other way round replaces the decision instead of adding a second one.
    store.write_review_decision(engine, "hukou", "H2", "vehicles", "V1", "different", "审核员乙")
    assert store.load_review_queue(engine, status="open").empty
    linker = night_sample.RecordingLinker()
    for day in (night_sample.DAY + dt.timedelta(days=1), night_sample.DAY + dt.timedelta(days=2)):
        night_sample.write_snapshots(linked_night, day)
        link_night(linked_night, day, linker=linker.as_linker())
    assert [d.values.tolist() for d in linker.decisions] == [[["vehicles", "V1", "hukou", "H2", "different"]]] * 2
    decided = store.load_review_queue(engine, status=None)
    assert decided[["feed", "record_key", "status"]].values.tolist() == [["vehicles", "V1", "decided"]]


def test_relinking_an_older_night_leaves_newer_values(linked_night, night_sample):
    later = night_sample.DAY + dt.timedelta(days=1)
    night_sample.write_snapshots(linked_night, later)
    renamed = night_sample.person_rows()
    renamed.loc[renamed["record_key"] == "H1", ["name", "name_norm"]] = "张叁"
    link_night(linked_night, later, linker=night_sample.RecordingLinker(rows=renamed).as_linker())
    link_night(linked_night, night_sample.DAY, linker=night_sample.RecordingLinker().as_linker())
    person = store.load_person(store.connect(linked_night), "P000000001")
    assert (person["name"], person["first_seen"], person["last_seen"]) == ("张叁", night_sample.DAY, later)


def test_a_night_never_ingested_cannot_be_linked(settings, night_sample):
    with pytest.raises(BiduiError, match="还没有载入记录"):
        link_night(settings, night_sample.DAY, linker=night_sample.RecordingLinker().as_linker())


def test_a_night_without_person_rows_links_nothing(settings, night_sample):
    night_sample.write_snapshots(settings)
    empty = night_sample.person_rows().iloc[0:0]
    summary = link_night(settings, night_sample.DAY, linker=night_sample.RecordingLinker(rows=empty).as_linker())
    assert (summary.counts, summary.note) == ({"rows": 0}, "本晚没有可关联的人员记录")
    assert _dump(settings)["links"] == []


def test_the_link_stage_reads_each_person_snapshot_once(settings, night_sample, monkeypatch):
    night_sample.write_snapshots(settings)
    reads: list[str] = []

    def counted(load):
        def read(engine, feed, *args, **kwargs):
            reads.append(feed)
            return load(engine, feed, *args, **kwargs)

        return read

    monkeypatch.setattr(store, "load_snapshot", counted(store.load_snapshot))
    recording = night_sample.RecordingLinker()
    link_night(settings, night_sample.DAY, linker=Linker(build_person_rows, recording.as_linker().link))
    assert sorted(reads) == sorted(night_sample.SNAPSHOTS)
    persons = store.load_persons(store.connect(settings))
    assert set(persons["ethnicity_source"].dropna()) == {"hukou:H1", "hukou:H2", "poverty_members:PM2"}


def test_facts_are_the_keyed_rows_of_each_fact_giving_feed():
    snapshots = {
        "hukou": pd.DataFrame(
            {
                "person_no": ["H1", None, "H3"],
                "ethnicity": ["汉族", "苗族", None],
                "state": ["正常", "死亡", "迁出"],
                "relation": [None] * 3,
            }
        ),
        "medical_insurance": pd.DataFrame({"insured_no": ["M1"], "state": ["正常参保"]}),
        "vehicles": pd.DataFrame({"plate_no": ["V1"]}),
    }
    facts = build_facts(snapshots)
    assert facts[["feed", "record_key", "ethnicity", "hukou_state", "insured_state"]].to_dict("records") == [
        {"feed": "hukou", "record_key": "H1", "ethnicity": "汉族", "hukou_state": "正常", "insured_state": np.nan},
        {"feed": "hukou", "record_key": "H3", "ethnicity": None, "hukou_state": "迁出", "insured_state": np.nan},
        {
            "feed": "medical_insurance",
            "record_key": "M1",
            "ethnicity": np.nan,
            "hukou_state": np.nan,
            "insured_state": "正常参保",
        },
    ]


def test_households_follow_hukou_then_the_department_household_most_members_share():
    rows = pd.DataFrame(
        [
            ("hukou", "person", "hukou:A", "之子"),  # person 0
            ("poverty_members", "person", "poverty:P", "户主"),  # person 0
            ("hukou", "person", "hukou:A", "户主"),  # person 1
            ("poverty_members", "person", "poverty:P", "之女"),  # person 2: no hukou row, joins hukou:A
            ("minimum_living", "person", "case:C", None),  # person 3: nobody registered in case C
            ("poverty_households", "household_head", "poverty:Q", None),  # person 4
            ("vehicles", "owner", None, None),  # person 5: no household
        ],
        columns=["feed", "role", "household_ref", "relation"],
    )
    person = np.array([0, 0, 1, 2, 3, 4, 5])
    villages = pd.Series(["522725102203", "522725102203", "522725102299", None, "522725102204", None])
    home, found = assign_households(rows, rows["relation"].to_numpy(), person, villages)
    assert home.sort_index().to_dict() == {0: "hukou:A", 1: "hukou:A", 2: "hukou:A", 3: "case:C", 4: "poverty:Q"}
    assert found.astype(object).where(found.notna(), None).to_dict("list") == {
        "household_key": ["case:C", "hukou:A", "poverty:Q"],
        "hukou_no": [None, "A", None],
        "village_code": [None, "522725102203", "522725102204"],
        "head": [None, 1, 4],
    }


def test_a_model_with_numpy_values_is_stored_as_plain_json(settings, night_sample):
    engine = store.connect(settings)
    empty = pd.DataFrame()
    model = {"prior": np.float64(0.125), "m": np.array([0.25, 0.75]), "upper": 0.9}
    store.write_base_map(engine, night_sample.DAY, empty, empty, empty, empty, model)
    assert store.load_linkage_model(engine, night_sample.DAY) == {"prior": 0.125, "m": [0.25, 0.75], "upper": 0.9}


def test_links_of_mixed_value_types_are_stored_as_text(settings, night_sample):
    engine = store.connect(settings)
    empty = pd.DataFrame()
    links_frame = pd.DataFrame(
        {
            "feed": ["hukou", "hukou"],
            "record_key": [7, "B"],
            "person_id": ["P000000001", "P000000002"],
            "household_code": [None, "H5227251022030001"],
            "method": ["singleton", "id_exact"],
            "probability": [1.0, float("nan")],
            "match_weight": [float("nan"), 2.5],
            "anchor_feed": [None, "hukou"],
            "anchor_key": pd.Series([None, 7], dtype=object),
            "levels": [None, '{"name": 2}'],
        }
    )
    store.write_base_map(engine, night_sample.DAY, links_frame, empty, empty, empty, {})
    stored = store.load_links(engine, night_sample.DAY)
    assert _plain(stored) == [
        {
            "feed": "hukou",
            "record_key": "7",
            "person_id": "P000000001",
            "household_code": None,
            "method": "singleton",
            "probability": 1.0,
            "match_weight": None,
            "anchor_feed": None,
            "anchor_key": None,
            "levels": None,
        },
        {
            "feed": "hukou",
            "record_key": "B",
            "person_id": "P000000002",
            "household_code": "H5227251022030001",
            "method": "id_exact",
            "probability": None,
            "match_weight": 2.5,
            "anchor_feed": "hukou",
            "anchor_key": "7",
            "levels": '{"name": 2}',
        },
    ]


def test_the_linkers_frames_become_the_stored_rows(night_sample):
    # The base map puts the person and household where the linker has tonight's cluster, and gives
    # each review pair a status; nothing else differs.
    assert [c for c in CLUSTER_LINK_COLUMNS if c != "cluster"] == [
        c for c in store.LINK_COLUMNS if c not in ("person_id", "household_code")
    ]
    assert [*REVIEW_CANDIDATE_COLUMNS, "status"] == store.REVIEW_COLUMNS
    built = _first_night(night_sample)
    assert list(built.links.columns) == store.LINK_COLUMNS and list(built.review.columns) == store.REVIEW_COLUMNS
