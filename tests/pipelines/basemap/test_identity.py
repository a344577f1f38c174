"""Stable person IDs and household codes across nights (pipelines.basemap.identity)."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.basemap.identity import (
    assign_household_codes,
    assign_person_ids,
    format_person_id,
    match_rows,
    next_person_number,
    person_number,
    unique_rows,
)
from pipelines.errors import BiduiError


def _records(*rows: tuple[str, str, int]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["feed", "record_key", "cluster"])


def _previous(*rows: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["feed", "record_key", "person_id"])


def _ids(result: pd.DataFrame) -> dict[int, tuple[str, bool]]:
    return {int(c): (p, bool(k)) for c, p, k in result[["cluster", "person_id", "kept"]].itertuples(index=False)}


def test_person_id_format_round_trips():
    assert format_person_id(42) == "P000000042"
    assert person_number("P000000042") == 42
    assert next_person_number(["P000000007", "P000000012", None]) == 13
    assert next_person_number([]) == 1
    with pytest.raises(BiduiError):
        format_person_id(10**9)


def test_first_night_numbers_clusters_in_the_order_of_their_first_row():
    records = _records(("hukou", "H2", 20), ("hukou", "H1", 10), ("medical_insurance", "M1", 20))
    result = assign_person_ids(records, _previous(), next_number=5)
    assert _ids(result) == {10: ("P000000006", False), 20: ("P000000005", False)}


def test_cluster_keeps_the_id_most_of_its_records_had():
    records = _records(("hukou", "a", 1), ("medical_insurance", "b", 1), ("school_enrolment", "c", 1))
    previous = _previous(
        ("medical_insurance", "b", "P000000001"), ("school_enrolment", "c", "P000000001"), ("hukou", "a", "P000000002")
    )
    assert _ids(assign_person_ids(records, previous, next_number=3)) == {1: ("P000000001", True)}


def test_hukou_record_wins_a_tie_within_a_cluster():
    records = _records(("medical_insurance", "m", 1), ("hukou", "h", 1))
    previous = _previous(("medical_insurance", "m", "P000000004"), ("hukou", "h", "P000000003"))
    assert _ids(assign_person_ids(records, previous, next_number=5)) == {1: ("P000000003", True)}


def test_split_cluster_with_more_old_records_keeps_the_id():
    records = _records(("hukou", "h", 1), ("medical_insurance", "m1", 2), ("medical_insurance", "m2", 2))
    previous = _previous(
        ("hukou", "h", "P000000001"), ("medical_insurance", "m1", "P000000001"), ("medical_insurance", "m2", "P000000001")
    )
    assert _ids(assign_person_ids(records, previous, next_number=2)) == {
        1: ("P000000002", False),
        2: ("P000000001", True),
    }


def test_split_with_equal_claims_goes_to_the_hukou_holder():
    records = _records(("medical_insurance", "m", 1), ("hukou", "h", 2))
    previous = _previous(("hukou", "h", "P000000001"), ("medical_insurance", "m", "P000000001"))
    assert _ids(assign_person_ids(records, previous, next_number=9)) == {
        1: ("P000000009", False),
        2: ("P000000001", True),
    }


def test_split_with_equal_claims_and_no_hukou_goes_to_the_larger_cluster():
    records = _records(("school_enrolment", "s", 1), ("medical_insurance", "m", 2), ("vehicles", "new", 2))
    previous = _previous(("school_enrolment", "s", "P000000001"), ("medical_insurance", "m", "P000000001"))
    assert _ids(assign_person_ids(records, previous, next_number=9)) == {
        1: ("P000000009", False),
        2: ("P000000001", True),
    }


def test_loser_of_a_conflict_takes_its_next_best_unclaimed_id():
    records = _records(
        ("medical_insurance", "a", 1),
        ("medical_insurance", "b", 1),
        ("medical_insurance", "c", 1),
        ("school_enrolment", "d", 2),
        ("school_enrolment", "e", 2),
        ("school_enrolment", "f", 2),
    )
    previous = _previous(
        ("medical_insurance", "a", "P000000001"),
        ("medical_insurance", "b", "P000000001"),
        ("medical_insurance", "c", "P000000002"),
        ("school_enrolment", "d", "P000000001"),
        ("school_enrolment", "e", "P000000001"),
        ("school_enrolment", "f", "P000000001"),
    )
    assert _ids(assign_person_ids(records, previous, next_number=3)) == {
        1: ("P000000002", True),
        2: ("P000000001", True),
    }


def test_merged_clusters_keep_one_id_and_retire_the_other():
    records = _records(("hukou", "h", 7), ("medical_insurance", "m", 7), ("vehicles", "v", 8))
    previous = _previous(("hukou", "h", "P000000001"), ("medical_insurance", "m", "P000000002"))
    assert _ids(assign_person_ids(records, previous, next_number=3)) == {
        7: ("P000000001", True),
        8: ("P000000003", False),
    }


def test_records_gone_since_last_night_do_not_matter():
    records = _records(("hukou", "h", 1))
    previous = _previous(("hukou", "gone", "P000000001"), ("hukou", "h", "P000000002"))
    assert _ids(assign_person_ids(records, previous, next_number=3)) == {1: ("P000000002", True)}


def test_household_codes_stay_with_their_key_and_new_ones_count_on_per_village():
    tonight = pd.DataFrame(
        {
            "household_key": ["hukou:1", "hukou:2", "poverty:9", "hukou:3", "hukou:2"],
            # hukou:1 moved village since its code was issued: the code stays.
            "village_code": ["522725102299", "522725102203", None, "522725102204", "522725102203"],
        }
    )
    existing = pd.DataFrame(
        {"household_key": ["hukou:1", "hukou:0"], "household_code": ["H5227251022030001", "H5227251022030005"]}
    )
    result = assign_household_codes(tonight, existing)
    assert result.to_dict("list") == {
        "household_key": ["hukou:1", "hukou:2", "hukou:3", "poverty:9"],
        "household_code": ["H5227251022030001", "H5227251022030006", "H5227251022040001", "H0000000000000001"],
        "new": [False, True, True, True],
    }


def test_household_codes_on_an_empty_store():
    tonight = pd.DataFrame({"household_key": ["hukou:b", "hukou:a"], "village_code": ["522725102203"] * 2})
    result = assign_household_codes(tonight, pd.DataFrame(columns=["household_key", "household_code"]))
    assert result["household_code"].tolist() == ["H5227251022030001", "H5227251022030002"]


def test_a_village_out_of_household_numbers_is_an_error():
    tonight = pd.DataFrame({"household_key": ["hukou:new"], "village_code": ["522725102203"]})
    existing = pd.DataFrame({"household_key": ["hukou:old"], "household_code": ["H5227251022039999"]})
    with pytest.raises(BiduiError, match="户编码序号已用尽"):
        assign_household_codes(tonight, existing)


def test_unique_rows_drops_rows_without_a_key_and_repeats_within_a_feed():
    frame = pd.DataFrame(
        {
            "feed": ["hukou", "hukou", "school_enrolment", "hukou", "hukou"],
            "record_key": ["a", "b", "a", None, "a"],
            "n": range(5),
        }
    )
    assert unique_rows(frame)["n"].tolist() == [0, 1, 2]
    clean = frame.iloc[:3]
    assert unique_rows(clean) is clean


def test_match_rows_finds_the_same_feed_and_key():
    left = pd.DataFrame({"feed": ["hukou", "school_enrolment", "hukou", "vehicles"], "record_key": ["a", "a", "c", "a"]})
    right = pd.DataFrame({"feed": ["school_enrolment", "hukou", "hukou"], "record_key": ["a", "c", "a"]})
    assert match_rows(left, right).tolist() == [2, 0, 1, -1]
