from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from movie_roulette.evaluation import evaluate, evaluate_many
from movie_roulette.exceptions import UnknownMovieError, UnknownUserError

TRAIN = pd.DataFrame(
    {
        "user_id": [1, 1, 2, 2, 3],
        "movie_id": [10, 11, 10, 12, 13],
        "rating": [4.0, 3.0, 5.0, 2.0, 4.0],
        "timestamp": [1] * 5,
    }
)  # 4 distinct train movies: 10, 11, 12, 13
TEST = pd.DataFrame(
    {
        "user_id": [1, 1, 2, 2, 3, 4],
        "movie_id": [12, 13, 11, 99, 10, 10],
        "rating": [5.0, 2.0, 4.0, 4.5, 3.0, 4.0],
        "timestamp": [2] * 6,
    }
)
# relevant (>= 4.0): user 1 -> {12}; user 2 -> {11, 99}; user 3 -> none; user 4 -> {10}


class FixedModel:
    """Known answers: recommends from a fixed table, predicts 4.0 for known pairs."""

    def __init__(self) -> None:
        self.recs = {1: [12, 13], 2: [13, 12], 3: [10, 11], 4: [11, 12]}
        self.predict_calls: list[tuple[int, int]] = []

    def recommend(self, user_id: int, k: int = 10, exclude_seen: bool = True):
        if user_id not in (1, 2, 3):
            raise UnknownUserError(f"user {user_id}")
        return [(m, 1.0 / (i + 1)) for i, m in enumerate(self.recs[user_id][:k])]

    def predict_rating(self, user_id: int, movie_ids) -> np.ndarray:
        self.predict_calls.append((user_id, len(movie_ids)))
        if user_id not in (1, 2, 3):
            raise UnknownUserError(f"user {user_id}")
        if any(m not in (10, 11, 12, 13) for m in movie_ids):
            raise UnknownMovieError("movie")
        return np.full(len(movie_ids), 4.0)


class RankingOnly(FixedModel):
    def predict_rating(self, user_id: int, movie_ids) -> np.ndarray:
        raise NotImplementedError


def test_evaluate_hand_computed() -> None:
    metrics = evaluate(FixedModel(), TRAIN, TEST, k=2, threshold=4.0)
    # rating rows known: (1,12) 5, (1,13) 2, (2,11) 4, (3,10) 3 -> errors 1, 2, 0, 1
    assert metrics["rmse"] == pytest.approx(math.sqrt((1 + 4 + 0 + 1) / 4))
    assert metrics["mae"] == pytest.approx(1.0)
    assert metrics["rating_coverage"] == pytest.approx(4 / 6)
    # ranking users 1, 2, 4 (user 3 has no relevant item; 4 is unknown -> empty list)
    assert metrics["ranking_users"] == 3
    assert metrics["precision@2"] == pytest.approx((1 / 2 + 0 + 0) / 3)
    assert metrics["recall@2"] == pytest.approx((1 + 0 + 0) / 3)
    assert metrics["hit_rate@2"] == pytest.approx(1 / 3)
    assert metrics["ndcg@2"] == pytest.approx(1 / 3)
    assert metrics["map@2"] == pytest.approx(1 / 3)
    # recommended to ranking users: {12, 13} of 4 train movies
    assert metrics["coverage@2"] == pytest.approx(2 / 4)
    assert list(metrics)[:8] == [
        "rmse",
        "mae",
        "precision@2",
        "recall@2",
        "ndcg@2",
        "map@2",
        "hit_rate@2",
        "coverage@2",
    ]


def test_predict_rating_called_once_per_user_when_all_movies_known() -> None:
    model = FixedModel()
    evaluate(model, TRAIN, TEST[TEST["movie_id"] != 99], k=2)
    assert sorted(model.predict_calls) == [(1, 2), (2, 1), (3, 1), (4, 1)]


def test_ranking_only_model_has_nan_rating_metrics() -> None:
    metrics = evaluate(RankingOnly(), TRAIN, TEST, k=2)
    assert math.isnan(metrics["rmse"]) and math.isnan(metrics["mae"])
    assert metrics["ndcg@2"] == pytest.approx(1 / 3)


def test_evaluate_many_returns_one_row_per_model() -> None:
    frame = evaluate_many({"fixed": FixedModel(), "ranking": RankingOnly()}, TRAIN, TEST, k=2)
    assert list(frame.index) == ["fixed", "ranking"]
    assert frame.loc["fixed", "precision@2"] == pytest.approx(1 / 6)
    assert math.isnan(frame.loc["ranking", "rmse"])


def test_evaluate_rejects_bad_k_and_missing_columns() -> None:
    with pytest.raises(ValueError, match="k:"):
        evaluate(FixedModel(), TRAIN, TEST, k=0)
    with pytest.raises(ValueError, match="test: missing column"):
        evaluate(FixedModel(), TRAIN, TEST.drop(columns=["rating"]))


def test_beyond_accuracy_hand_computed() -> None:
    genres = {10: "A", 11: "A|B", 12: "B", 13: "B|C"}
    metrics = evaluate(FixedModel(), TRAIN, TEST, k=2, item_genres=genres)
    # lists of users with relevant test movies: 1 -> [12, 13], 2 -> [13, 12], 4 -> [] (unknown)
    # genre distance d(12, 13) = 1 - 1/2; train counts 10: 2, 11: 1, 12: 1, 13: 1; 3 train users
    assert metrics["diversity@2"] == pytest.approx(0.5)
    assert metrics["novelty@2"] == pytest.approx(math.log2(3))
    assert metrics["arp@2"] == pytest.approx(1.0)
    # histories: user 1 [10, 11] and user 2 [10, 12], mean count 1.5 -> recs 1 / 1.5
    assert metrics["pop_lift@2"] == pytest.approx(2 / 3)
    assert "diversity@2" not in evaluate(FixedModel(), TRAIN, TEST, k=2)


def _blas_threads() -> set[int]:
    from threadpoolctl import threadpool_info

    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


def test_per_user_loops_run_on_one_blas_thread() -> None:
    """Scoring one user at a time on several OpenBLAS threads stalls whenever another process
    wants the CPU (docs/scale.md 6h): the evaluation's loops run on one, and restore the rest."""
    import scipy.linalg  # noqa: F401  (loads the BLAS)
    from threadpoolctl import threadpool_limits

    from movie_roulette.evaluation.offline import ranking_metrics, rating_metrics

    seen: list[set[int]] = []

    class Watching(FixedModel):
        def recommend(self, user_id: int, k: int = 10, exclude_seen: bool = True):
            seen.append(_blas_threads())
            return super().recommend(user_id, k, exclude_seen)

        def predict_rating(self, user_id: int, movie_ids) -> np.ndarray:
            seen.append(_blas_threads())
            return super().predict_rating(user_id, movie_ids)

    with threadpool_limits(limits=2, user_api="blas"):
        assert _blas_threads() == {2}
        ranking_metrics(Watching(), TRAIN, TEST, k=2)
        rating_metrics(Watching(), TEST)
        assert _blas_threads() == {2}  # restored
    assert seen and all(threads == {1} for threads in seen)
