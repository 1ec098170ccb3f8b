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


def test_production_is_measured_on_the_candidates_split() -> None:
    from movie_roulette.config import PipelineConfig
    from movie_roulette.data.demo import generate_demo
    from movie_roulette.data.split import train_valid_test
    from movie_roulette.evaluation.compare import evaluate_model, seen_ratings
    from movie_roulette.models.popularity import PopularityRecommender
    from movie_roulette.promotion import decide_against_production

    cfg = PipelineConfig()
    demo = generate_demo(seed=3, n_movies=120, n_users=60, mean_ratings_per_user=40, n_reviews=10)
    train, valid, test = train_valid_test(demo.ratings, cfg.split, seed=3)
    seen = seen_ratings(train, valid, refit_on_train_and_valid=True)
    production = PopularityRecommender().fit(seen)
    same = evaluate_model(production, train, valid, test)

    tie = decide_against_production(same, production, train, valid, test, cfg)
    assert tie["promote"] is False
    assert tie["production"] == pytest.approx(same["ndcg@10"])
    better = {**same, "ndcg@10": same["ndcg@10"] + 0.01}
    assert decide_against_production(better, production, train, valid, test, cfg)["promote"]
    assert decide_against_production(same, None, train, valid, test, cfg)["promote"] is True
