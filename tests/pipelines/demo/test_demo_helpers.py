"""Small exact checks of the demo generator's building blocks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.demo.assets import credit_codes
from pipelines.demo.datetext import format_dates, from_ymd, ymd
from pipelines.demo.messiness import Profile, mess_dates, mess_ids, mess_names
from pipelines.demo.model import age_at, poverty_line, quota
from pipelines.demo.population import id_numbers
from pipelines.demo.regions import build_regions
from pipelines.standardise.ids import clean_id, id_status
from pipelines.standardise.names import normalise_name

DAYS = np.array(["2017-06-23", "1999-01-05", "NaT"], dtype="datetime64[D]")
IDS = np.array(["52272519900101123X", "522725199001011248"], dtype=object)
IDS15 = np.array(["522725900101123", "522725900101124"], dtype=object)


def _rng(seed: int = 1) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(seed))


def test_format_dates_in_every_contract_shape():
    shapes = [format_dates(DAYS, style).tolist() for style in range(5)]
    assert shapes == [
        ["2017-06-23", "1999-01-05", ""],
        ["20170623", "19990105", ""],
        ["2017/6/23", "1999/1/5", ""],
        ["2017.6.23", "1999.1.5", ""],
        ["2017年6月23日", "1999年1月5日", ""],
    ]


def test_ymd_round_trip():
    year, month, day = ymd(DAYS[:2])
    assert (year.tolist(), month.tolist(), day.tolist()) == ([2017, 1999], [6, 1], [23, 5])
    assert from_ymd(year, month, day).tolist() == DAYS[:2].tolist()


def test_age_in_whole_years_on_the_data_date():
    births = np.array(["2010-11-20", "2010-11-21", "2020-02-29"], dtype="datetime64[D]")
    assert age_at(births, np.datetime64("2026-11-20")).tolist() == [16, 15, 6]


def test_quota_has_a_floor_and_a_ceiling():
    assert [quota(1000, 0.01), quota(100, 0.01), quota(3, 0.5), quota(100, 0.01, 2)] == [10, 6, 3, 2]


def test_poverty_line_by_exit_year():
    assert poverty_line(np.array([2013, 2016, 2020, 2025])).tolist() == [2800, 3146, 4000, 4000]


def test_id_numbers_are_valid_unique_and_encode_sex():
    people = pd.DataFrame(
        {
            "county_code": ["522725"] * 4,
            "relation": ["户主", "之子", "之女", "之子"],
            "birth": np.array(["1990-01-01", "2015-03-04", "2015-03-04", "2015-03-04"], dtype="datetime64[D]"),
            "male": [True, True, False, True],
        }
    )
    id18, id15 = id_numbers(_rng(), people)
    assert [id_status(i) for i in id18] == ["valid"] * 4
    assert len(set(id18)) == 4
    assert [int(i[16]) % 2 for i in id18] == [1, 1, 0, 1]
    assert [i[6:14] for i in id18] == ["19900101", "20150304", "20150304", "20150304"]
    assert id15[0][:6] + "19" + id15[0][6:] == id18[0][:17]


def test_each_id_kind_looks_as_delivered():
    born = np.array([1980, 1980])
    looks = {
        kind: mess_ids(_rng(), IDS, IDS15, born, {kind: 1.0})[0].tolist()
        for kind in ("fullwidth", "apostrophe", "lower_x", "legacy15", "excel", "empty")
    }
    assert looks == {
        "fullwidth": ["５２２７２５１９９００１０１１２３Ｘ", "５２２７２５１９９００１０１１２４８"],
        "apostrophe": ["'52272519900101123X", "'522725199001011248"],
        "lower_x": ["52272519900101123x", "522725199001011248"],
        "legacy15": ["522725900101123", "522725900101124"],  # only for people born before 1985
        "excel": ["5.22725E+17", "5.22725E+17"],
        "empty": ["", ""],
    }
    assert mess_ids(_rng(), IDS, IDS15, born, {"excel": 1.0}, excel_numbers=True)[0].tolist() == [
        522725199001011000.0,
        522725199001011000.0,
    ]  # Excel keeps 15 significant digits
    assert mess_ids(_rng(), IDS, IDS15, np.array([1990, 1990]), {"legacy15": 1.0})[0].tolist() == IDS.tolist()


def test_id_typos_and_transpositions_fail_the_check_digit():
    for kind in ("typo", "transposed"):
        values, kinds = mess_ids(_rng(3), IDS, IDS15, np.array([1990, 1990]), {kind: 1.0})
        assert kinds.tolist() == [kind, kind]
        assert [id_status(clean_id(v)) for v in values] == ["bad_checksum", "bad_checksum"]


def test_cosmetic_id_noise_cleans_back_to_the_true_id():
    for kind in ("spaces", "fullwidth", "apostrophe", "lower_x"):
        values, _ = mess_ids(_rng(), IDS, IDS15, np.array([1990, 1990]), {kind: 1.0})
        assert [clean_id(v) for v in values] == IDS.tolist(), kind


def test_name_noise_normalises_back_except_homophones():
    names = np.array(["陈明华", "阿依古丽·买买提"], dtype=object)
    looks = {kind: mess_names(_rng(), names, {kind: 1.0})[0].tolist() for kind in ("traditional", "inner_space", "homophone")}
    assert looks["traditional"] == ["陳明華", "阿依古麗·买买提"]
    assert looks["inner_space"] == ["陈 明华", "阿依古丽 · 买买提"]
    assert looks["homophone"][1] == "阿依古丽·买买提" and looks["homophone"][0] in ("陈铭华", "陈明桦")
    dotted = mess_names(_rng(), names, {"dot_variant": 1.0})[0].tolist()
    assert dotted[0] == "陈明华" and dotted[1] in ("阿依古丽•买买提", "阿依古丽．买买提", "阿依古丽・买买提")
    for kind in ("traditional", "inner_space"):
        assert [normalise_name(n) for n in looks[kind]] == names.tolist()
    assert normalise_name(dotted[1]) == names[1]


def test_date_slips_say_another_date_and_never_the_future():
    profile = Profile(slips=0.5, date_styles=(1, 0, 0, 0, 0))
    days = np.array(["1980-03-05", "1990-07-21", "2001-11-30", "2026-11-19"], dtype="datetime64[D]")
    values, said, kinds = mess_dates(_rng(3), days, profile, False, np.datetime64("2026-11-20"))
    assert values.tolist() == format_dates(said, 0).tolist()
    assert (said[kinds != ""] != days[kinds != ""]).all() and (said[kinds == ""] == days[kinds == ""]).all()
    assert (kinds != "").any() and (said <= np.datetime64("2026-11-20")).all()
    swapped = kinds == "day_month_swap"
    assert (ymd(said[swapped])[1] == ymd(days[swapped])[2]).all()


def test_credit_codes_carry_the_gb32100_check_character():
    codes = credit_codes(_rng(), np.array(["91", "93"], dtype=object), np.array(["522701", "522732"], dtype=object))
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    for code in codes:
        total = sum(chars.index(c) * w for c, w in zip(code[:17], weights, strict=True))
        assert len(code) == 18 and code[17] == chars[(31 - total % 31) % 31]
    assert [c[:8] for c in codes] == ["91522701", "93522732"]


def test_regions_are_deterministic_and_shaped_per_contract():
    regions = build_regions()
    assert regions.equals(build_regions())
    assert regions["级别"].value_counts().to_dict() == {"village": 1504, "township": 100, "county": 12}
    assert regions["区划代码"].str.fullmatch(r"5227\d{8}").all() and regions["区划代码"].is_unique
    counties = regions[regions["级别"] == "county"]
    assert counties["区划代码"].str.endswith("000000").all() and "三都水族自治县" in set(counties["名称"])
