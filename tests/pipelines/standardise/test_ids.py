"""ID numbers: cleaning, status, decoding, and the vectorised frame. All numbers are synthetic.

Check digits below are worked out by hand from the GB 11643 weights
7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2 and the table "10X98765432" (index = sum mod 11):

  52270119900101123 -> 35+18+20+35+0+4+2+9+54+0+0+9+0+5+8+8+6 = 213, 213 mod 11 = 4 -> "8"
  52270119900101124 -> ... last product 4*2=8 instead of 6 -> 215, mod 11 = 6 -> "6"
  11010519491001004 -> 7+9+0+5+0+20+2+9+24+27+7+0+0+5+0+0+8 = 123, mod 11 = 2 -> "X"
  52270119901301123 (month 13) -> 238, mod 11 = 7 -> "5"
  52270119900230123 (30 Feb)   -> 247, mod 11 = 5 -> "7"
  11010518991231002 (year 1899) -> 196, mod 11 = 9 -> "3"
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from pipelines.standardise.ids import (
    STATUSES,
    birth_date_from_id,
    check_digit,
    check_digits,
    clean_id,
    id_birth_conflicts,
    id_status,
    id_statuses,
    region_from_id,
    sex_from_id,
    standardise_ids,
    upgrade_15_to_18,
)

MALE = "522701199001011238"
FEMALE = "522701199001011246"
WITH_X = "11010519491001004X"
MONTH_13 = "522701199013011235"
FEB_30 = "522701199002301237"
YEAR_1899 = "110105189912310023"
LEGACY = "522701900101123"  # upgrades to MALE: 522701 + 19 + 900101123 + check "8"


def test_hand_computed_check_digits_agree_with_the_function():
    assert check_digit("52270119900101123") == "8"
    assert check_digit("52270119900101124") == "6"
    assert check_digit("11010519491001004") == "X"
    digits = np.array([[int(c) for c in "52270119900101123"], [int(c) for c in "11010519491001004"]])
    assert check_digits(digits).tolist() == ["8", "X"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("５２２７０１１９９００１０１１２３８", MALE),  # full-width digits
        ("'522701199001011238", MALE),  # Excel text marker
        ("’522701199001011238", MALE),
        ('"522701199001011238"', MALE),
        (" 5227 0119 9001 0112 38 ", MALE),
        ("522701\u3000199001011238\u00a0", MALE),  # ideographic space, NBSP
        ("11010519491001004x", WITH_X),
        ("11010519491001004ｘ", WITH_X),  # full-width lower-case x
        (522701199001011238, MALE),  # an integer cell
        ("5.22701E+17", "5.22701E+17"),  # mangled stays as it is
        (None, ""),
        (float("nan"), ""),
        ("   ", ""),
    ],
)
def test_clean_id(raw, expected):
    assert clean_id(raw) == expected


@pytest.mark.parametrize(
    ("cleaned", "expected"),
    [
        (MALE, "valid"),
        (WITH_X, "valid"),
        ("", "empty"),
        ("5.22701E+17", "mangled"),
        ("5.22701199001011E+17", "mangled"),
        ("522701199001011238.0", "mangled"),
        (LEGACY, "legacy15"),
        ("52270119900101123", "bad_length"),
        ("5227011990010112388", "bad_length"),
        ("张三", "bad_length"),
        ("52270119900101123A", "bad_chars"),
        ("5227011990O1011238", "bad_chars"),  # letter O for zero
        ("52270190010112", "bad_length"),
        ("52270190010A123", "bad_chars"),
        ("522701199001011239", "bad_checksum"),
        (MONTH_13, "bad_birthdate"),
        (FEB_30, "bad_birthdate"),
        (YEAR_1899, "bad_birthdate"),
        ("522701901301123", "bad_birthdate"),  # legacy number, month 13
    ],
)
def test_id_status(cleaned, expected):
    assert id_status(cleaned) == expected


def test_mangled_number_is_not_repaired():
    frame = standardise_ids(pd.Series(["5.22701E+17", 5.22701199001011e17]))
    assert frame["id_status"].tolist() == ["mangled", "mangled"]
    assert frame["id18"].tolist() == [None, None]
    assert frame["id_clean"].tolist() == ["5.22701E+17", "5.22701199001011E+17"]


def test_upgrade_15_to_18():
    assert upgrade_15_to_18(LEGACY) == MALE


def test_decoding_an_id():
    assert birth_date_from_id(MALE) == dt.date(1990, 1, 1)
    assert sex_from_id(MALE) == "男"
    assert sex_from_id(FEMALE) == "女"
    assert sex_from_id(WITH_X) == "女"
    assert region_from_id(WITH_X) == "110105"
    assert birth_date_from_id(WITH_X) == dt.date(1949, 10, 1)
    # A legacy number reads the same as its upgrade; its 15th digit (3) is odd.
    assert birth_date_from_id(LEGACY) == dt.date(1990, 1, 1)
    assert sex_from_id(LEGACY) == "男"
    assert region_from_id(LEGACY) == "522701"
    assert (birth_date_from_id(FEB_30), sex_from_id(FEB_30), region_from_id(FEB_30)) == (None, None, None)


def test_standardise_ids_frame():
    raw = pd.Series(
        ["'522701199001011238", "11010519491001004x", LEGACY, None, "5.22701E+17", FEB_30, "522701199001011239"],
        index=[10, 11, 12, 13, 14, 15, 16],
    )
    expected = pd.DataFrame(
        {
            "id_clean": [MALE, WITH_X, LEGACY, "", "5.22701E+17", FEB_30, "522701199001011239"],
            "id_status": ["valid", "valid", "legacy15", "empty", "mangled", "bad_birthdate", "bad_checksum"],
            "id18": [MALE, WITH_X, MALE, None, None, None, None],
            "id_birth_date": ["1990-01-01", "1949-10-01", "1990-01-01", None, None, None, None],
            "id_sex": ["男", "女", "男", None, None, None, None],
            "id_region": ["522701", "110105", "522701", None, None, None, None],
        },
        index=raw.index,
        dtype=object,
    )
    pdt.assert_frame_equal(standardise_ids(raw), expected)
    pdt.assert_series_equal(id_statuses(raw), expected["id_status"])


def test_vectorised_statuses_match_the_scalar_ones():
    rng = np.random.default_rng(7)
    first17 = rng.integers(0, 10, size=(200, 17))
    first17[:, 6:8] = [1, 9]
    first17[::5, 10:12] = [1, 3]  # month 13 with a correct check digit: bad_birthdate
    good = ["".join(map(str, row)) + c for row, c in zip(first17.tolist(), check_digits(first17), strict=True)]
    # Every third number gets a wrong check character.
    wrong = {"X": "0", **{str(d): str((d + 1) % 10) for d in range(10)}}
    raw = [s[:17] + wrong[s[17]] if i % 3 == 0 else s for i, s in enumerate(good)]
    frame = standardise_ids(pd.Series(raw))
    assert frame["id_status"].tolist() == [id_status(clean_id(s)) for s in raw]
    assert set(frame["id_status"]) <= set(STATUSES)
    assert {"valid", "bad_checksum", "bad_birthdate"} <= set(frame["id_status"])
    valid = frame[frame["id_status"] == "valid"]
    assert valid["id_birth_date"].tolist() == [birth_date_from_id(s).isoformat() for s in valid["id_clean"]]
    assert valid["id_sex"].tolist() == [sex_from_id(s) for s in valid["id_clean"]]


def test_empty_series():
    frame = standardise_ids(pd.Series([], dtype=object))
    assert list(frame.columns) == ["id_clean", "id_status", "id18", "id_birth_date", "id_sex", "id_region"]
    assert len(frame) == 0


def test_id_birth_conflicts_flag_a_valid_id_that_contradicts_the_row():
    # Each ID's check digit is right; only the birth date it encodes is in question.
    agrees, contradicts, legacy = "52272519900101001", "52272519851231002", "522725851231003"
    ids = pd.Series([agrees + check_digit(agrees), contradicts + check_digit(contradicts), legacy, None, "123"])
    births = pd.Series(["1990-01-01", "1990-01-01", "1985-12-30", "1990-01-01", "1990-01-01"])
    assert id_birth_conflicts(ids, births).tolist() == [None, "1985-12-31", "1985-12-31", None, None]


def test_id_birth_conflicts_ignore_rows_without_a_usable_birth_date():
    first17 = "52272519851231002"
    ids = pd.Series([first17 + check_digit(first17)] * 3, index=[7, 8, 9])
    births = pd.Series([None, "1990/01/01", "1985-12-31"], index=[7, 8, 9])
    pdt.assert_series_equal(
        id_birth_conflicts(ids, births), pd.Series([None, None, None], index=[7, 8, 9], dtype=object, name="id_birth_date")
    )
