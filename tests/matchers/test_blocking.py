"""Blocking rules on tiny frames: the exact candidate pairs each rule and their union give."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from matchers.blocking import (
    Block,
    Prefix,
    SortedNeighbourhood,
    Substring,
    Suffix,
    build_candidate_pairs,
    build_random_pairs,
    build_rule_pairs,
    make_pairs,
    pair_positions,
)

LEFT = pd.DataFrame(
    {
        "given": ["ann", "bob", "cy", "dee", None],
        "surname": ["lee", "kim", "lee", "", "kim"],
        "id": ["110105194910010", "522701199001011", None, "522701199001019", "110105194910099"],
    },
    index=pd.Index(["a1", "a2", "a3", "a4", "a5"], name="rec"),
)
RIGHT = pd.DataFrame(
    {
        "given": ["lee", "bob", "cy", "zed"],
        "surname": ["ann", "kim", "lea", "lee"],
        "id": ["110105194910010", "", "522701199001011", "999999999999999"],
    },
    index=pd.Index(["b1", "b2", "b3", "b4"], name="rec"),
)


def test_block_on_one_column_links_equal_keys_and_never_blank_ones():
    pairs = build_rule_pairs(LEFT, RIGHT, Block(on="surname"))
    assert list(pairs) == [("a1", "b4"), ("a2", "b2"), ("a3", "b4"), ("a5", "b2")]
    assert list(pairs.names) == ["rec_1", "rec_2"]


def test_block_with_right_on_catches_swapped_names():
    rule = Block(on=["given", "surname"], right_on=["surname", "given"])
    assert list(build_rule_pairs(LEFT, RIGHT, rule)) == [("a1", "b1")]


def test_block_on_two_columns_needs_both():
    assert list(build_rule_pairs(LEFT, RIGHT, Block(on=["given", "surname"]))) == [("a2", "b2")]


def test_prefix_blocks_on_the_first_characters_and_skips_missing_ids():
    pairs = build_rule_pairs(LEFT, RIGHT, Prefix("id", 6))
    assert list(pairs) == [("a1", "b1"), ("a2", "b3"), ("a4", "b3"), ("a5", "b1")]


def test_prefix_catches_a_one_digit_typo_after_the_cut():
    # a4 differs from b3 only in its last digit.
    assert ("a4", "b3") in set(build_rule_pairs(LEFT, RIGHT, Prefix("id", 14)))
    assert ("a4", "b3") not in set(build_rule_pairs(LEFT, RIGHT, Block(on="id")))


def test_suffix_and_substring_keys_inside_a_block():
    rule = Block(on=[Substring("id", 0, 6), Suffix("id", 3)])
    assert list(build_rule_pairs(LEFT, RIGHT, rule)) == [("a1", "b1"), ("a2", "b3")]


def test_sorted_neighbourhood_pairs_keys_within_the_window():
    # Distinct surnames of both sides sorted: ann, kim, lea, lee (blank is missing).
    # Window 3 reaches one value each way: kim meets ann, kim, lea; lee meets lea, lee.
    pairs = build_rule_pairs(LEFT, RIGHT, SortedNeighbourhood(on="surname", window=3))
    assert list(pairs) == [
        ("a1", "b3"),
        ("a1", "b4"),
        ("a2", "b1"),
        ("a2", "b2"),
        ("a2", "b3"),
        ("a3", "b3"),
        ("a3", "b4"),
        ("a5", "b1"),
        ("a5", "b2"),
        ("a5", "b3"),
    ]


def test_sorted_neighbourhood_window_must_be_odd():
    with pytest.raises(ValueError):
        SortedNeighbourhood(on="surname", window=4)


def test_union_of_rules_lists_each_pair_once_in_position_order():
    pairs = build_candidate_pairs(LEFT, RIGHT, [Block(on="surname"), Prefix("id", 6)])
    assert list(pairs) == [
        ("a1", "b1"),
        ("a1", "b4"),
        ("a2", "b2"),
        ("a2", "b3"),
        ("a3", "b4"),
        ("a4", "b3"),
        ("a5", "b1"),
        ("a5", "b2"),
    ]


def test_dedup_gives_only_i_before_j_and_no_self_pairs():
    pairs = build_candidate_pairs(LEFT, None, [Block(on="surname"), Prefix("id", 6)])
    assert list(pairs) == [("a1", "a3"), ("a1", "a5"), ("a2", "a4"), ("a2", "a5")]


def test_dedup_keeps_an_asymmetric_rule_in_either_orientation():
    frame = pd.DataFrame({"given": ["lee", "x", "ann"], "surname": ["ann", "y", "lee"]}, index=["r1", "r2", "r3"])
    rule = Block(on=["given", "surname"], right_on=["surname", "given"])
    assert list(build_candidate_pairs(frame, None, [rule])) == [("r1", "r3")]


def test_duplicate_index_is_refused():
    with pytest.raises(ValueError):
        build_candidate_pairs(LEFT.set_axis(["a1", "a1", "a3", "a4", "a5"]), RIGHT, [Block(on="surname")])


def test_random_pairs_are_seeded_distinct_and_ordered_when_deduplicating():
    first = build_random_pairs(LEFT, None, 50, seed=3)
    again = build_random_pairs(LEFT, None, 50, seed=3)
    assert list(first) == list(again)
    a, b = pair_positions(first, LEFT)
    assert (a < b).all()
    assert len(first) == len(set(first)) == 10  # 50 draws cover all 5 * 4 / 2 pairs


def test_random_pairs_from_an_empty_side_are_none():
    # A night that delivered one feed has no other department's rows to draw from.
    assert len(build_random_pairs(LEFT.iloc[:0], RIGHT, 50, seed=3)) == 0
    assert len(build_random_pairs(LEFT, RIGHT.iloc[:0], 50, seed=3)) == 0


def test_pair_positions_of_foreign_pairs_and_make_pairs_round_trip():
    foreign = pd.MultiIndex.from_tuples([("a3", "b2"), ("a1", "b4")])
    a, b = pair_positions(foreign, LEFT, RIGHT)
    assert a.tolist() == [2, 0] and b.tolist() == [1, 3]
    assert list(make_pairs(a, b, LEFT, RIGHT)) == [("a3", "b2"), ("a1", "b4")]
    with pytest.raises(KeyError):
        pair_positions(pd.MultiIndex.from_tuples([("zz", "b1")]), LEFT, RIGHT)


def test_numbers_as_keys_are_blocked_as_text():
    left = pd.DataFrame({"postcode": [2000, 2600, np.nan]}, index=[1, 2, 3])
    right = pd.DataFrame({"postcode": ["2600", "2000"]}, index=[7, 8])
    assert list(build_rule_pairs(left, right, Prefix("postcode", 3))) == [(1, 8), (2, 7)]
