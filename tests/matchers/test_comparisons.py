"""Comparison levels on tiny inputs: every method's exact int8 levels, missing values included.

Jaro-Winkler values (rapidfuzz, the textbook figures): martha/marhta 0.961, massey/massie 0.933,
dwayne/duane 0.840.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from matchers.comparisons import ComparisonSpec, build_comparison_vectors, compare_levels

ID = "522701199001011238"
ID_ONE_DIGIT = "522701199001011239"  # last digit changed
ID_TRANSPOSED = "522701199001011283"  # last two digits exchanged
ID_THREE_EDITS = "522701199001019999"


def levels(spec: ComparisonSpec, a: list, b: list) -> list[int]:
    result = compare_levels(spec, pd.Series(a, dtype=object), pd.Series(b, dtype=object))
    assert result.dtype == np.int8
    return result.tolist()


def test_exact_with_missing_and_blank_values():
    spec = ComparisonSpec("sex", "sex")
    assert levels(spec, ["男", "男", None, " ", np.nan], ["男", "女", "男", "女", "女"]) == [1, 0, -1, -1, -1]


def test_jaro_winkler_levels():
    spec = ComparisonSpec("given", "given", method="jaro_winkler", levels=(1.0, 0.95, 0.88))
    assert levels(
        spec,
        ["jones", "martha", "massey", "dwayne", None],
        ["jones", "marhta", "massie", "duane", "x"],
    ) == [3, 2, 1, 0, -1]


def test_levenshtein_levels_on_id_numbers():
    spec = ComparisonSpec("id", "id", method="levenshtein", levels=(0, 1, 2))
    assert levels(spec, [ID] * 4 + [""], [ID, ID_ONE_DIGIT, ID_TRANSPOSED, ID_THREE_EDITS, ID]) == [3, 2, 1, 0, -1]


def test_damerau_levenshtein_counts_a_transposition_as_one_edit():
    spec = ComparisonSpec("id", "id", method="damerau_levenshtein", levels=(0, 1))
    assert levels(spec, [ID, ID, ID], [ID_ONE_DIGIT, ID_TRANSPOSED, ID_THREE_EDITS]) == [1, 1, 0]


def test_date_levels_exact_swap_one_digit_transposed():
    spec = ComparisonSpec("birth", "birth", method="date", levels=("exact", "day_month_swap", "one_digit", "transposed_digits"))
    assert levels(
        spec,
        ["1990-01-02", "1990-03-04", "1990-01-02", "1990-01-12", "1990-01-02", "1990-05-05", None],
        ["19900102", "1990-04-03", "1991-01-02", "1990-01-21", "1985-07-30", "1990-05-05", "1990-01-02"],
    ) == [4, 3, 2, 1, 0, 4, -1]


def test_date_levels_accept_timestamps_and_follow_the_listed_order():
    spec = ComparisonSpec("birth", "birth", method="date", levels=("exact", "one_digit"))
    a = pd.Series(pd.to_datetime(["1990-01-02", "1990-03-04", None]))
    b = pd.Series(["1990-01-02", "1990-04-03", "1990-01-02"], dtype=object)
    # Without a day_month_swap level a swapped date is just different.
    assert compare_levels(spec, a, b).tolist() == [2, 0, -1]


def test_numeric_levels_fall_back_to_text_equality():
    spec = ComparisonSpec("number", "number", method="numeric", levels=(0, 1))
    assert levels(spec, ["12", "12", "12", "12a", "12a", None], ["12.0", "13", "20", "12a", "12b", "1"]) == [2, 1, 0, 2, 0, -1]


def test_level_labels_are_generated_and_can_be_given():
    spec = ComparisonSpec("id", "id", method="levenshtein", levels=(0, 1))
    assert spec.level_labels() == {-1: "缺失", 0: "不一致", 1: "编辑距离 ≤ 1", 2: "完全一致"}
    named = ComparisonSpec("sex", "sex", labels=("性别不同", "性别相同"))
    assert named.level_labels() == {-1: "缺失", 0: "性别不同", 1: "性别相同"}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"method": "soundex", "levels": (1,)},
        {"method": "exact", "levels": (1,)},
        {"method": "jaro_winkler", "levels": ()},
        {"method": "jaro_winkler", "levels": (0.8, 0.9)},
        {"method": "levenshtein", "levels": (2, 1)},
        {"method": "date", "levels": ("exact", "same_week")},
        {"method": "exact", "labels": ("只有一个",)},
    ],
)
def test_bad_specs_are_refused(kwargs):
    with pytest.raises(ValueError):
        ComparisonSpec("x", "x", **kwargs)


def test_comparison_vectors_for_linked_pairs():
    left = pd.DataFrame({"name": ["martha", "jones", None], "id": [ID, ID, ID]}, index=["a1", "a2", "a3"])
    right = pd.DataFrame({"full_name": ["marhta", "smith"], "id": [ID_ONE_DIGIT, ID]}, index=["b1", "b2"])
    pairs = pd.MultiIndex.from_tuples([("a1", "b1"), ("a2", "b2"), ("a3", "b1")])
    specs = [
        ComparisonSpec("name", "name", "full_name", method="jaro_winkler", levels=(1.0, 0.95)),
        ComparisonSpec("id", "id", method="levenshtein", levels=(0, 1)),
    ]
    expected = pd.DataFrame({"name": [1, 0, -1], "id": [1, 2, 1]}, index=pairs, dtype=np.int8)
    pdt.assert_frame_equal(build_comparison_vectors(pairs, left, right, specs), expected)


def test_comparison_vectors_within_one_frame_in_chunks():
    frame = pd.DataFrame({"sex": ["男", "女", "男", None]}, index=["r1", "r2", "r3", "r4"])
    pairs = pd.MultiIndex.from_tuples([("r1", "r2"), ("r1", "r3"), ("r2", "r4")])
    result = build_comparison_vectors(pairs, frame, None, [ComparisonSpec("sex", "sex")], chunk_size=2)
    pdt.assert_frame_equal(result, pd.DataFrame({"sex": [0, 1, -1]}, index=pairs, dtype=np.int8))


def test_no_pairs_give_an_empty_int8_frame():
    frame = pd.DataFrame({"sex": ["男"]}, index=["r1"])
    empty = pd.MultiIndex.from_tuples([], names=["a", "b"])
    result = build_comparison_vectors(empty, frame, None, [ComparisonSpec("sex", "sex")])
    assert result.shape == (0, 1) and result["sex"].dtype == np.int8
