"""The real linker (pipelines.link.linker) on hard cases placed into the seed delivery's person rows.

The seed delivery gives the model a realistic night to learn from; the hand-made rows live in a
county the seed does not have (522799), so the only candidates they find there are each other.
Every person here is made up.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines import store
from pipelines.evaluate.links import evaluate_delivery
from pipelines.ingest.delivery import ingest_delivery
from pipelines.link.linker import CLUSTER_LINK_COLUMNS, REVIEW_CANDIDATE_COLUMNS, link_person_rows
from pipelines.link.person_rows import build_person_rows, load_person_snapshots, standardise_person_rows
from pipelines.settings import load_settings
from pipelines.standardise.ids import check_digit

SEED = Path(__file__).resolve().parents[3] / "seeds" / "demo" / "2026-11-20"
DAY = dt.date(2026, 11, 20)
VILLAGE = "522799101201"


def make_id(birth: str, sequence: str, region: str = "522799") -> str:
    first17 = region + birth + sequence
    return first17 + check_digit(first17)


ID_WEI_1 = make_id("19800305", "011")
ID_WEI_2 = make_id("19850712", "031")
ID_MING = make_id("20120601", "011")  # twins: same birth date, neighbouring sequence numbers
ID_HONG = make_id("20120601", "022")
ID_SI = make_id("19700102", "042")
ID_WU = make_id("19720203", "051")
ID_LIU = make_id("19900909", "071")  # 赵六's police record has no ID; other departments know it
ID_JING = make_id("19950505", "082")
ID_BA = make_id("19880808", "091")
JING_TYPO = ID_JING[:9] + str((int(ID_JING[9]) + 3) % 10) + ID_JING[10:]

RAW_COLUMNS = ["feed", "record_key", "role", "name", "id_raw", "birth_date", "sex", "village_code", "household_ref", "period"]


def _raw(feed, key, name, id_raw, birth=None, sex=None, village=VILLAGE, household=None, period=None, role="person"):
    return dict(
        feed=feed,
        record_key=key,
        role=role,
        name=name,
        id_raw=id_raw,
        birth_date=birth,
        sex=sex,
        village_code=village,
        household_ref=household,
        period=period,
    )


HAND_ROWS = [
    _raw("hukou", "T-H1", "王伟", ID_WEI_1, "1980-03-05", "男", household="hukou:THK1"),
    _raw("hukou", "T-H2", "王伟", ID_WEI_2, "1985-07-12", "男", household="hukou:THK2"),
    _raw("hukou", "T-H3", "王小明", ID_MING, "2012-06-01", "男", household="hukou:THK3"),
    _raw("hukou", "T-H4", "王小红", ID_HONG, "2012-06-01", "女", household="hukou:THK3"),
    _raw("hukou", "T-H5", "李四", ID_SI, "1970-01-02", "女", household="hukou:THK4"),
    _raw("hukou", "T-H6", "李五", ID_WU, "1972-02-03", "男", household="hukou:THK4"),
    _raw("hukou", "T-H7", "赵六", None, "1990-09-09", "男", household="hukou:THK5"),
    _raw("hukou", "T-H8", "陈静", ID_JING, "1995-05-05", "女", household="hukou:THK6"),
    # 重名: a 王伟 insured without an ID could be either neighbour.
    _raw("medical_insurance", "T-MI-WW", "王伟", None, period="2026"),
    # The second 王伟's poverty record has no ID but his birth date.
    _raw("poverty_members", "T-PM-WW2", "王伟", None, "1985-07-12", "男", village=None, household="poverty:TPH1"),
    # Twins: only the given name tells them apart.
    _raw("poverty_members", "T-PM-MING", "王小明", None, "2012-06-01", "男", village=None, household="poverty:TPH2"),
    _raw("school_enrolment", "T-SE-HONG", "王小红", None, "2012-06-01", "女"),
    # A mistyped ID (bad check digit) on an otherwise agreeing row.
    _raw("minimum_living", "T-ML-JING", "陈静", JING_TYPO, household="case:TC1"),
    # 李四's poverty record carries her husband's valid ID (R18): name and birth date are hers.
    _raw("poverty_members", "T-PM-SI", "李四", ID_WU, "1970-01-02", "女", village=None, household="poverty:TPH3"),
    # 赵六's ID is known to two departments though his police record lacks it.
    _raw("medical_insurance", "T-MI-LIU", "赵六", ID_LIU, period="2026"),
    _raw("illness_registry", "T-IL-LIU", "赵六", ID_LIU, village=None),
    # Nobody else has 孙八: a person of his own.
    _raw("vehicles", "T-V-BA", "孙八", ID_BA, village=None, role="owner"),
]


@pytest.fixture(scope="module")
def seed_rows(tmp_path_factory) -> pd.DataFrame:
    settings = load_settings(environ={}, data_dir=tmp_path_factory.mktemp("link") / "data", show_progress=False)
    ingest_delivery(settings, SEED)
    return build_person_rows(load_person_snapshots(store.connect(settings), DAY))


@pytest.fixture(scope="module")
def rows(seed_rows) -> pd.DataFrame:
    hand = standardise_person_rows(pd.DataFrame(HAND_ROWS, columns=RAW_COLUMNS))
    return pd.concat([seed_rows, hand], ignore_index=True)


def _link(rows, decisions=None):
    result = link_person_rows(rows, decisions, load_settings(environ={}))
    links = result.links.copy()
    links.index = links["feed"] + "/" + links["record_key"].astype(str)
    return result, links


@pytest.fixture(scope="module")
def linked(rows):
    return _link(rows)


def _same(links, a: str, b: str) -> bool:
    return links.at[a, "cluster"] == links.at[b, "cluster"]


def test_links_hold_one_row_per_input_row_in_order(rows, linked):
    result, links = linked
    assert list(result.links.columns) == CLUSTER_LINK_COLUMNS and list(result.review.columns) == REVIEW_CANDIDATE_COLUMNS
    assert len(links) == len(rows)
    assert (result.links["record_key"].astype(str).to_numpy() == rows["record_key"].astype(str).to_numpy()).all()
    assert result.links["probability"].between(0, 1).all()
    assert set(result.links["method"]) <= {"id_exact", "probabilistic", "review_decision", "singleton"}


def test_same_name_neighbours_without_more_go_to_review_not_to_either(linked):
    result, links = linked
    row = "medical_insurance/T-MI-WW"
    assert not _same(links, row, "hukou/T-H1") and not _same(links, row, "hukou/T-H2")
    queued = result.review[result.review["record_key"] == "T-MI-WW"]
    assert set(queued["candidate_key"]) == {"T-H1", "T-H2"}
    assert queued["probability"].between(0.2, 0.8).all()


def test_a_birth_date_settles_which_same_name_neighbour(linked):
    _, links = linked
    assert _same(links, "poverty_members/T-PM-WW2", "hukou/T-H2")
    assert links.at["poverty_members/T-PM-WW2", "method"] == "probabilistic"
    assert links.at["poverty_members/T-PM-WW2", "probability"] >= 0.99


def test_twins_are_told_apart_by_their_given_names(linked):
    _, links = linked
    assert _same(links, "poverty_members/T-PM-MING", "hukou/T-H3")
    assert _same(links, "school_enrolment/T-SE-HONG", "hukou/T-H4")
    assert not _same(links, "hukou/T-H3", "hukou/T-H4")


def test_a_mistyped_id_still_links_by_its_other_fields(linked):
    _, links = linked
    assert _same(links, "minimum_living/T-ML-JING", "hukou/T-H8")


def test_a_borrowed_id_links_to_the_named_person_not_the_id_holder(linked):
    _, links = linked
    assert _same(links, "poverty_members/T-PM-SI", "hukou/T-H5")
    assert not _same(links, "poverty_members/T-PM-SI", "hukou/T-H6")


def test_an_id_the_police_record_lacks_joins_that_record_by_name_and_village(linked):
    _, links = linked
    assert _same(links, "medical_insurance/T-MI-LIU", "illness_registry/T-IL-LIU")
    assert _same(links, "medical_insurance/T-MI-LIU", "hukou/T-H7")


def test_a_person_nobody_else_knows_stays_alone(linked):
    _, links = linked
    cluster = links.at["vehicles/T-V-BA", "cluster"]
    assert (links["cluster"] == cluster).sum() == 1
    assert links.at["vehicles/T-V-BA", "method"] == "singleton"


def test_no_person_holds_two_valid_ids(rows, linked):
    _, links = linked
    ids = pd.DataFrame(
        {
            "cluster": links["cluster"].to_numpy(),
            "id18": rows["id18"].to_numpy(),
            "settled": links["method"].isin(["id_exact", "singleton"]).to_numpy(),
        }
    )
    settled = ids[ids["settled"] & ids["id18"].notna()]
    assert settled.groupby("cluster")["id18"].nunique().max() == 1


def _decision(row_feed, row_key, feed, key, decision):
    return {"feed": row_feed, "record_key": row_key, "candidate_feed": feed, "candidate_key": key, "decision": decision}


def test_reviewer_decisions_are_obeyed(rows):
    decisions = pd.DataFrame(
        [
            _decision("medical_insurance", "T-MI-WW", "hukou", "T-H1", "same"),
            _decision("poverty_members", "T-PM-WW2", "hukou", "T-H2", "different"),
        ]
    )
    result, links = _link(rows, decisions)
    assert _same(links, "medical_insurance/T-MI-WW", "hukou/T-H1")
    assert links.at["medical_insurance/T-MI-WW", "method"] == "review_decision"
    assert not _same(links, "poverty_members/T-PM-WW2", "hukou/T-H2")
    assert "T-MI-WW" not in set(result.review["record_key"])


def test_a_decision_joining_two_valid_ids_is_refused(rows):
    decisions = pd.DataFrame([_decision("hukou", "T-H1", "hukou", "T-H2", "same")])
    result, links = _link(rows, decisions)
    assert not _same(links, "hukou/T-H1", "hukou/T-H2")
    assert result.stats["counts"]["conflicts_refused"] == 1


@pytest.mark.slow
def test_the_seed_delivery_scores_well_above_the_exact_id_join(tmp_path):
    settings = load_settings(environ={}, data_dir=tmp_path / "data", show_progress=False)
    scores = evaluate_delivery(settings, SEED)
    assert scores["linkage"]["precision"] >= 0.999
    assert scores["linkage"]["recall"] >= 0.995
    assert scores["linkage"]["f1"] > scores["exact_id_join"]["f1"] + 0.01
    assert scores["blocking_stats"]["pair_completeness"] >= 0.99
    assert np.isclose(scores["blocking_stats"]["reduction_ratio"], 1.0, atol=0.01)
