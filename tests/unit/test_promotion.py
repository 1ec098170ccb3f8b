"""The promotion rule and metric-name shaping."""

import math

import pytest

from movie_roulette.promotion import decide_promotion
from movie_roulette.tracking import flatten_metrics, flatten_params, metric_key


def test_first_model_is_promoted() -> None:
    decision = decide_promotion(0.3, None, "ndcg@10")
    assert decision["promote"] is True
    assert "No production model" in decision["reason"]


def test_better_candidate_is_promoted_and_a_tie_is_not() -> None:
    assert decide_promotion(0.31, 0.30, "ndcg@10")["promote"] is True
    tie = decide_promotion(0.30, 0.30, "ndcg@10")
    assert tie["promote"] is False
    assert "does not beat" in tie["reason"]


def test_lower_is_better_metrics_and_required_margin() -> None:
    assert decide_promotion(0.80, 0.85, "rmse", higher_is_better=False)["promote"] is True
    assert decide_promotion(0.31, 0.30, "ndcg@10", min_improvement=0.02)["promote"] is False


def test_nan_candidate_is_an_error() -> None:
    with pytest.raises(ValueError, match="candidate ndcg@10 is missing or NaN"):
        decide_promotion(math.nan, 0.3, "ndcg@10")


def test_metric_names_are_mlflow_safe() -> None:
    assert metric_key("ndcg@10") == "ndcg_at_10"
    flat = flatten_metrics({"hybrid": {"ndcg@10": 0.3, "rmse": math.nan}})
    assert flat == {"hybrid.ndcg_at_10": 0.3}
    assert flatten_params({"model": {"svd": {"n_factors": 100}}}) == {"model.svd.n_factors": "100"}
