"""The accuracy benchmark's peers and bookkeeping, on tiny data with known answers."""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pandas as pd
import pytest

from tests.benchmarks_support import load_benchmark
from tests.unit.models.tiny import tiny_ratings


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_benchmark("accuracy")


@pytest.mark.parametrize("name", ["surprise_svd", "surprise_svdpp", "surprise_knnbaseline"])
def test_vectorised_peer_scores_equal_surprise_predictions(bench: ModuleType, name: str) -> None:
    peer = bench.SurprisePeer(*bench.surprise_algo(name, seed=0)).fit(tiny_ratings())
    assert peer.check_against_surprise(n=200) < 1e-9
    recs = peer.recommend(1, k=5)
    seen = set(tiny_ratings().query("user_id == 1")["movie_id"])
    assert len(recs) == 5 and not seen & {m for m, _ in recs}
    scores = [s for _, s in recs]
    assert scores == sorted(scores, reverse=True)


def test_peer_predicts_every_test_row_with_surprise_fallbacks(bench: ModuleType) -> None:
    peer = bench.SurprisePeer(*bench.surprise_algo("surprise_svd", seed=0)).fit(tiny_ratings())
    test = pd.DataFrame({"user_id": [1, 999], "movie_id": [999, 1], "rating": [4.0, 3.0]})
    preds = peer.predict_all(test)
    assert preds.shape == (2,) and np.isfinite(preds).all()


def test_kfold_partitions_the_ratings(bench: ModuleType) -> None:
    ratings = tiny_ratings()
    folds = bench.kfold(ratings, 5, seed=3)
    tests = [set(test.index) for _, test in folds]
    assert sum(len(t) for t in tests) == len(ratings)
    assert set().union(*tests) == set(ratings.index)
    for train, test in folds:
        assert not set(train.index) & set(test.index)
        assert len(train) + len(test) == len(ratings)


def test_targets_are_computed_against_the_best_peer(bench: ModuleType) -> None:
    def row(ndcg: float, coverage: float, fit: float = 1.0) -> dict[str, float]:
        return {"ndcg@10": ndcg, "coverage@10": coverage, "fit_s": fit}

    result = {
        "holdout": {
            "models": {
                "hybrid": row(0.33, 0.05, 60.0),
                "hybrid:ease_centered": row(0.32, 0.05),
                "ease": row(0.30, 0.05),
                "popularity": row(0.15, 0.01),
            }
        },
        "cv": {"models": {"hybrid": {"rmse": 0.81}, "surprise_knnbaseline": {"rmse": 0.85}}},
    }
    t = bench.targets(result)
    assert t["best_peer_ndcg"] == "ease"
    assert t["ndcg_vs_best_peer"] == pytest.approx(1.1)
    assert t["best_single_model_ndcg"] == "hybrid:ease_centered"
    assert t["coverage_vs_popularity"] == pytest.approx(5.0)
    assert t["cv_rmse_vs_knnbaseline"] == pytest.approx(0.81 / 0.85)
    assert t["ndcg_target_met"] and t["rmse_target_met"] and t["fit_time_target_met"]
