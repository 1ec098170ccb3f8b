from __future__ import annotations

import pandas as pd
import pytest

from movie_roulette.models.popularity import PopularityRecommender


def test_popularity_counts_and_shrunk_mean_match_hand_computation() -> None:
    ratings = pd.DataFrame(
        {
            "user_id": [1, 2, 3, 1, 2, 3],
            "movie_id": [10, 10, 10, 20, 20, 30],
            "rating": [4.0, 5.0, 3.0, 5.0, 5.0, 1.0],
        }
    )
    model = PopularityRecommender(shrinkage=2.0).fit(ratings)
    mu = ratings["rating"].mean()  # 23 / 6
    assert model.counts.tolist() == [3.0, 2.0, 1.0]
    assert model.shrunk_mean[0] == pytest.approx((12 + 2 * mu) / 5)
    assert model.shrunk_mean[1] == pytest.approx((10 + 2 * mu) / 4)
    assert model.shrunk_mean[2] == pytest.approx((1 + 2 * mu) / 3)
    # user 3 has seen 10 and 30 -> only 20 is left
    assert [m for m, _ in model.recommend(3, k=3)] == [20]
    assert [m for m, _ in model.recommend(3, k=3, exclude_seen=False)] == [10, 20, 30]


def test_popularity_breaks_count_ties_by_shrunk_mean_then_movie_id() -> None:
    ratings = pd.DataFrame(
        {
            "user_id": [1, 2, 1, 2, 1, 2],
            "movie_id": [5, 5, 6, 6, 7, 7],
            "rating": [2.0, 2, 5, 5, 2, 2],
        }
    )
    model = PopularityRecommender().fit(ratings)
    assert [m for m, _ in model.recommend(1, k=3, exclude_seen=False)] == [6, 5, 7]


def test_popularity_rejects_negative_shrinkage() -> None:
    with pytest.raises(ValueError, match="shrinkage"):
        PopularityRecommender(shrinkage=-1)
