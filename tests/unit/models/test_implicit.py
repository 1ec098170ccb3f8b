from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movie_roulette.exceptions import UnknownMovieError
from movie_roulette.models.implicit import EASERecommender, ItemKNNRecommender


def _two_items() -> pd.DataFrame:
    # X = [[1, 1], [1, 0], [0, 1]] -> G = [[2, 1], [1, 2]]
    return pd.DataFrame(
        {"user_id": [1, 1, 2, 3], "movie_id": [100, 200, 100, 200], "rating": [5.0, 4, 3, 2]}
    )


def test_ease_matches_closed_form_on_hand_made_case() -> None:
    # l2 = 1: P = inv([[3, 1], [1, 3]]) = [[3, -1], [-1, 3]] / 8 -> B_01 = B_10 = 1/3
    model = EASERecommender(l2=1.0, min_item_ratings=1, half_precision=False).fit(_two_items())
    np.testing.assert_allclose(model.B, [[0.0, 1 / 3], [1 / 3, 0.0]], rtol=1e-6)
    assert model.score(2, [200])[0] == pytest.approx(1 / 3)
    assert model.recommend(2, k=5) == [(200, pytest.approx(1 / 3))]


def test_ease_matches_numpy_inverse_on_random_data() -> None:
    rng = np.random.default_rng(0)
    X = (rng.random((30, 8)) < 0.4).astype(float)
    users, movies = np.nonzero(X)
    ratings = pd.DataFrame({"user_id": users, "movie_id": movies + 1, "rating": 4.0})
    model = EASERecommender(l2=2.0, min_item_ratings=1, half_precision=False).fit(ratings)
    kept = model.movie_ids - 1
    Xk = X[:, kept]
    P = np.linalg.inv(Xk.T @ Xk + 2.0 * np.eye(len(kept)))
    B = np.eye(len(kept)) - P / np.diag(P)
    np.testing.assert_allclose(model.B, B, atol=1e-5)


def test_ease_min_rating_uses_only_positive_interactions() -> None:
    model = EASERecommender(l2=1.0, min_item_ratings=1, min_rating=4.0, half_precision=False).fit(
        _two_items()
    )
    # only user 1 is positive on both movies: G = [[1, 1], [1, 1]] + I
    P = np.linalg.inv(np.array([[2.0, 1], [1, 2]]))
    np.testing.assert_allclose(model.B[0, 1], -P[0, 1] / P[1, 1], rtol=1e-6)


def test_ease_drops_rare_movies() -> None:
    ratings = pd.concat(
        [_two_items(), pd.DataFrame({"user_id": [1], "movie_id": [300], "rating": [5.0]})]
    )
    model = EASERecommender(l2=1.0, min_item_ratings=2).fit(ratings)
    assert model.movie_ids.tolist() == [100, 200]
    with pytest.raises(UnknownMovieError):
        model.score(1, [300])


def test_itemknn_scores_are_sums_of_cosine_similarities() -> None:
    model = ItemKNNRecommender(n_neighbours=5, min_item_ratings=1).fit(_two_items())
    # cos(100, 200) = 1 / sqrt(2 * 2)
    assert model.score(2, [200])[0] == pytest.approx(0.5)


def test_ease_half_precision_stays_close_to_float32() -> None:
    full = EASERecommender(l2=1.0, min_item_ratings=1, half_precision=False).fit(_two_items())
    half = EASERecommender(l2=1.0, min_item_ratings=1).fit(_two_items())
    # float16 values, held and saved as float32 (fast sums; the server maps the file as is)
    np.testing.assert_array_equal(half.B, half.B.astype(np.float16).astype(np.float32))
    assert half.get_state()[1]["B"].dtype == np.float32
    # a B saved as float16 (bundles written before) is widened on load, same scores
    meta, arrays = half.get_state()
    old = EASERecommender.from_state(meta, {**arrays, "B": arrays["B"].astype(np.float16)})
    np.testing.assert_array_equal(old.score(1, [200]), half.score(1, [200]))
    np.testing.assert_allclose(half.B, full.B, atol=1e-3)
    restored = EASERecommender.from_state(*half.get_state())
    np.testing.assert_array_equal(restored.score(1, [200]), half.score(1, [200]))


def test_ease_centered_weighting_matches_hand_computed_closed_form() -> None:
    # user means 4.5, 3, 2 -> entries 1 + r - mean: X = [[1.5, 0.5], [1, 0], [0, 1]]
    # G + I = [[4.25, 0.75], [0.75, 2.25]], det 9 -> P = [[2.25, -0.75], [-0.75, 4.25]] / 9
    # B_01 = -P01 / P11 = 0.75 / 4.25 = 3/17, B_10 = 0.75 / 2.25 = 1/3
    model = EASERecommender(
        l2=1.0, min_item_ratings=1, half_precision=False, weighting="centered"
    ).fit(_two_items())
    np.testing.assert_allclose(model.B, [[0.0, 3 / 17], [1 / 3, 0.0]], rtol=1e-6)
    assert model.score(2, [200])[0] == pytest.approx(3 / 17)
    # fold-in {100: 5, 200: 3}: mean 4 -> weights 2 and max(0, 0.1) = 0.1
    scores = model.score_ratings({100: 5.0, 200: 3.0})
    np.testing.assert_allclose(scores, [0.1 * (1 / 3), 2 * 3 / 17], rtol=1e-6)


def test_ease_rejects_unknown_weighting() -> None:
    with pytest.raises(ValueError, match="weighting"):
        EASERecommender(weighting="tfidf")
