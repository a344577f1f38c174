"""Fellegi–Sunter scoring and explain on a hand-fitted model, storage, u estimation and EM.

The hand-fitted model has prior 0.2 and m/u ratios that are powers of two, so every weight is
exact:  prior weight log2(0.2 / 0.8) = -2
        name  m = (0.05, 0.15, 0.8), u = (0.8, 0.15, 0.05) -> weights -4, 0, +4
        birth m = (0.2, 0.8),        u = (0.8, 0.2)        -> weights -2, +2
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from matchers.classification import FellegiSunter, weight_to_probability
from matchers.comparisons import ComparisonSpec

SPECS = [
    ComparisonSpec("name", "name", method="jaro_winkler", levels=(1.0, 0.9)),
    ComparisonSpec("birth", "birth", method="exact"),
]
PAIRS = pd.MultiIndex.from_tuples([("a", "x"), ("b", "y"), ("c", "z")])
GAMMA = pd.DataFrame({"name": [2, 1, 0], "birth": [1, -1, 0]}, index=PAIRS, dtype=np.int8)


def hand_fitted() -> FellegiSunter:
    model = FellegiSunter.from_specs(SPECS, prior=0.2)
    model.fix("name", m=[0.05, 0.15, 0.8], u=[0.8, 0.15, 0.05])
    model.fix("birth", m=[0.2, 0.8], u=[0.8, 0.2])
    model.fixed_prior = True
    return model


def test_match_weights_and_probabilities():
    model = hand_fitted()
    pdt.assert_series_equal(model.match_weights(GAMMA), pd.Series([4.0, -2.0, -8.0], index=PAIRS, name="match_weight"))
    pdt.assert_series_equal(
        model.predict_proba(GAMMA),
        pd.Series([16 / 17, 0.25 / 1.25, 1 / 257], index=PAIRS, name="match_probability"),
    )
    assert list(model.predict(GAMMA, threshold=0.5)) == [("a", "x")]


def test_explain_lists_each_comparison_and_the_totals():
    explained = hand_fitted().explain(GAMMA.iloc[0])
    assert explained == {
        "comparisons": [
            {"name": "name", "level": 2, "label": "完全一致", "m": 0.8, "u": 0.05, "weight": 4.0},
            {"name": "birth", "level": 1, "label": "完全一致", "m": 0.8, "u": 0.2, "weight": 2.0},
        ],
        "prior": 0.2,
        "prior_weight": -2.0,
        "total_weight": 4.0,
        "probability": 16 / 17,
    }


def test_explain_gives_a_missing_value_no_weight():
    explained = hand_fitted().explain({"name": 1, "birth": -1})
    assert explained["comparisons"][1] == {"name": "birth", "level": -1, "label": "缺失", "m": None, "u": None, "weight": 0.0}
    assert explained["comparisons"][0]["label"] == "Jaro-Winkler 相似度 ≥ 0.9"
    assert explained["total_weight"] == -2.0
    assert explained["probability"] == pytest.approx(0.2, abs=1e-15)


def test_a_stored_model_scores_the_same_and_stays_fixed():
    stored = json.loads(json.dumps(hand_fitted().to_dict()))
    model = FellegiSunter.from_dict(stored)
    pdt.assert_series_equal(model.match_weights(GAMMA), hand_fitted().match_weights(GAMMA))
    assert model.explain(GAMMA.iloc[1]) == hand_fitted().explain(GAMMA.iloc[1])
    model.fit(GAMMA)
    assert model.m["name"].tolist() == [0.05, 0.15, 0.8] and model.prior == 0.2


def test_u_from_random_pairs_adds_half_a_pair_per_level():
    random_gamma = pd.DataFrame({"name": [0, 0, 0, 0, 0, 1, 1, 2, -1], "birth": [0] * 8 + [1]})
    model = FellegiSunter.from_specs(SPECS).estimate_u(random_gamma, fix=True)
    np.testing.assert_allclose(model.u["name"], np.array([5.5, 2.5, 1.5]) / 9.5)
    np.testing.assert_allclose(model.u["birth"], np.array([8.5, 1.5]) / 10.0)
    assert model.fixed_u == {"name", "birth"}


def test_wrong_number_of_probabilities_is_refused():
    with pytest.raises(ValueError):
        FellegiSunter.from_specs(SPECS).fix("birth", m=[0.1, 0.2, 0.7])


EM_SPECS = [*SPECS, ComparisonSpec("village", "village", method="exact")]


def simulated(seed: int, n: int = 40_000) -> pd.DataFrame:
    """Gamma vectors drawn from a known model: prior 0.3; name m/u as in the module docstring;
    birth m = (0.1, 0.9), u = (0.9, 0.1), 5 % missing; village m = (0.05, 0.95), u = (0.7, 0.3).
    (Three comparisons: with two, a two-class mixture is not identifiable.)"""
    rng = np.random.default_rng(seed)
    is_match = rng.random(n) < 0.3

    def draw(m: list[float], u: list[float]) -> np.ndarray:
        return np.where(is_match, rng.choice(len(m), n, p=m), rng.choice(len(u), n, p=u))

    birth = draw([0.1, 0.9], [0.9, 0.1])
    birth[rng.random(n) < 0.05] = -1
    return pd.DataFrame(
        {
            "name": draw([0.05, 0.15, 0.8], [0.8, 0.15, 0.05]),
            "birth": birth,
            "village": draw([0.05, 0.95], [0.7, 0.3]),
        },
        dtype=np.int8,
    )


def test_em_recovers_the_parameters_of_simulated_pairs():
    model = FellegiSunter.from_specs(EM_SPECS, prior=0.01).fit(simulated(seed=11))
    assert model.prior == pytest.approx(0.3, abs=0.02)
    np.testing.assert_allclose(model.m["name"], [0.05, 0.15, 0.8], atol=0.03)
    np.testing.assert_allclose(model.u["name"], [0.8, 0.15, 0.05], atol=0.03)
    np.testing.assert_allclose(model.m["birth"], [0.1, 0.9], atol=0.03)
    np.testing.assert_allclose(model.u["birth"], [0.9, 0.1], atol=0.03)
    np.testing.assert_allclose(model.m["village"], [0.05, 0.95], atol=0.03)
    np.testing.assert_allclose(model.u["village"], [0.7, 0.3], atol=0.03)
    assert 1 < model.iterations < 200


def test_em_leaves_fixed_u_alone():
    model = FellegiSunter.from_specs(EM_SPECS, prior=0.01)
    model.fix("birth", u=[0.9, 0.1])
    model.fit(simulated(seed=12))
    assert model.u["birth"].tolist() == [0.9, 0.1]
    np.testing.assert_allclose(model.m["birth"], [0.1, 0.9], atol=0.03)
    assert model.prior == pytest.approx(0.3, abs=0.02)


def test_weight_to_probability_does_not_overflow():
    assert weight_to_probability(np.array([-2000.0, 0.0, 2000.0])).tolist() == [0.0, 0.5, 1.0]
