"""The checks particular to one feed, each on a clean 3-row frame with one problem added."""

from __future__ import annotations


def test_poverty_households_exit_before_identification_and_empty_household(run_checks, short):
    result = run_checks(
        "poverty_households",
        {
            2: {"identified_year": "2016", "exit_year": "2015"},
            3: {"size": "0"},
            4: {"status": "已脱贫", "exit_year": None},
        },
    )
    assert short(result) == [
        ("K0", 2, "exit_year", "order", "warning", "脱贫年度（2015）早于识别年度（2016）"),
        ("K1", 3, "size", "number_range", "error", "家庭人口数应不小于 1：0"),
        ("K2", 4, "exit_year", "required_if", "warning", "脱贫状态为“已脱贫”，但脱贫年度为空"),
    ]
    assert result.bad_rows == 1


def test_poverty_households_exit_year_may_be_empty(run_checks, short):
    assert short(run_checks("poverty_households", {2: {"exit_year": None}})) == []


def test_dangerous_housing_finished_renovation_needs_a_completion_date_after_appraisal(run_checks, short):
    result = run_checks(
        "dangerous_housing",
        {
            2: {"renovation": "已竣工", "completed_on": None},
            3: {"renovation": "已验收", "appraised_on": "2020-05-01", "completed_on": "2019-12-31"},
            4: {"renovation": "在建", "completed_on": None},
        },
    )
    assert short(result) == [
        ("K0", 2, "completed_on", "required_if", "warning", "改造状态为“已竣工”，但竣工日期为空"),
        ("K1", 3, "completed_on", "order", "warning", "竣工日期（2019-12-31）早于鉴定日期（2020-05-01）"),
    ]
    assert (result.bad_rows, result.rejected) == (0, False)


def test_hukou_death_needs_a_date_not_before_birth(run_checks, short):
    result = run_checks(
        "hukou",
        {
            2: {"state": "死亡", "changed_on": None},
            # the ID (522725 20010304 112, check digit 7) agrees with the changed birth date
            3: {"state": "迁出", "birth_date": "2001-03-04", "id_number": "522725200103041127", "changed_on": "2000-01-01"},
        },
    )
    assert short(result) == [
        ("K0", 2, "changed_on", "required_if", "warning", "人口状态为“死亡”，但变动日期为空"),
        ("K1", 3, "changed_on", "order", "warning", "变动日期（2000-01-01）早于出生日期（2001-03-04）"),
    ]


def test_illness_diagnosed_after_the_data_date_is_an_error(run_checks, short):
    result = run_checks("illness_registry", {3: {"diagnosed_on": "2026-11-21"}})
    assert short(result) == [
        ("K1", 3, "diagnosed_on", "date_range", "error", "确诊日期超出合理范围（1900-01-01 至 2026-11-20）：2026-11-21"),
    ]


def test_birth_date_in_the_future_or_impossible_is_an_error(run_checks, short):
    result = run_checks("poverty_members", {2: {"birth_date": "2030-01-01"}, 4: {"birth_date": "2021-02-29"}})
    assert short(result) == [
        ("K0", 2, "birth_date", "date_range", "error", "出生日期超出合理范围（1900-01-01 至 2026-11-20）：2030-01-01"),
        ("K2", 4, "birth_date", "date_format", "error", "出生日期不是有效日期：2021-02-29"),
    ]


def test_medical_insurance_year_before_1990_is_an_error(run_checks, short):
    result = run_checks("medical_insurance", {2: {"year": "1989"}})
    assert short(result) == [("K0", 2, "year", "year_range", "error", "参保年度超出合理范围（1990 至 2026）：1989")]


def test_enterprise_credit_code_shape_is_a_warning(run_checks, short):
    result = run_checks("enterprise_registry", {3: {"credit_code": "91522725MA6H1234O"}})
    assert short(result) == [
        (
            "91522725MA6H1234O",
            3,
            "credit_code",
            "credit_code_format",
            "warning",
            "统一社会信用代码格式不符（应为 18 位）：91522725MA6H1234O",
        ),
    ]


def test_regions_code_shape_and_level(run_checks, short):
    result = run_checks(
        "regions",
        {
            2: {"code": "52272000000"},
            3: {"code": "522721102000"},
            4: {"level": "village", "code": "522722102203"},
        },
    )
    assert short(result) == [
        ("52272000000", 2, "code", "region_format", "error", "区划代码应为 12 位数字：52272000000"),
        ("52272000000", 2, "code", "region_level", "warning", "区划代码与级别（县级）不符：52272000000"),
        ("522721102000", 3, "code", "region_level", "warning", "区划代码与级别（县级）不符：522721102000"),
    ]
