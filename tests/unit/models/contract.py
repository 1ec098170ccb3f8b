"""Reusable contract checks: subclass `RecommenderContract` and implement `make()`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from movie_roulette.exceptions import UnknownMovieError, UnknownUserError
from movie_roulette.models.base import Recommender
from movie_roulette.models.registry import model_from_state


class RecommenderContract:
    k = 5
    expected_rmse_range: tuple[float, float] = (0.0, 1.5)

    def make(self) -> Recommender:
        raise NotImplementedError

    @pytest.fixture
    def fitted(self, ratings: pd.DataFrame, catalogue: pd.DataFrame) -> Recommender:
        return self.make().fit(ratings, catalogue)

    def test_fit_returns_self(self, ratings: pd.DataFrame, catalogue: pd.DataFrame) -> None:
        model = self.make()
        assert model.fit(ratings, catalogue) is model

    def test_score_all_covers_every_fitted_movie(self, fitted: Recommender) -> None:
        scores = fitted.score_all(int(fitted.user_ids[0]))
        assert scores.shape == (fitted.n_movies,)
        assert np.isfinite(scores).all()

    def test_score_matches_score_all(self, fitted: Recommender) -> None:
        user = int(fitted.user_ids[1])
        movies = fitted.movie_ids[[2, 0, 1]]
        full = fitted.score_all(user)
        np.testing.assert_allclose(fitted.score(user, movies), full[[2, 0, 1]])

    def test_recommend_returns_k_unique_known_unseen_movies(self, fitted: Recommender) -> None:
        for user in fitted.user_ids[:4]:
            recs = fitted.recommend(int(user), k=self.k)
            ids = [m for m, _ in recs]
            assert len(ids) == self.k
            assert len(set(ids)) == self.k
            assert set(ids) <= set(fitted.movie_ids.tolist())
            assert not set(ids) & set(fitted.seen_movie_ids(int(user)).tolist())
            scores = [s for _, s in recs]
            assert scores == sorted(scores, reverse=True)

    def test_recommend_can_include_seen_movies(self, fitted: Recommender) -> None:
        recs = fitted.recommend(int(fitted.user_ids[0]), k=fitted.n_movies, exclude_seen=False)
        assert len(recs) == fitted.n_movies

    def test_unknown_user_raises_domain_error(self, fitted: Recommender) -> None:
        with pytest.raises(UnknownUserError):
            fitted.recommend(123456)
        with pytest.raises(UnknownUserError):
            fitted.score(123456, fitted.movie_ids[:1])

    def test_unknown_movie_raises_domain_error(self, fitted: Recommender) -> None:
        with pytest.raises(UnknownMovieError):
            fitted.score(int(fitted.user_ids[0]), [987654])

    def test_fit_is_deterministic(self, ratings: pd.DataFrame, catalogue: pd.DataFrame) -> None:
        a = self.make().fit(ratings, catalogue)
        b = self.make().fit(ratings, catalogue)
        for user in a.user_ids[:3]:
            np.testing.assert_array_equal(a.score_all(int(user)), b.score_all(int(user)))

    def test_state_round_trip_gives_identical_scores(self, fitted: Recommender) -> None:
        meta, arrays = fitted.get_state()
        meta = json.loads(json.dumps(meta))  # plain JSON
        assert all(isinstance(v, np.ndarray) and v.dtype != object for v in arrays.values())
        restored = model_from_state(meta, {k: np.array(v) for k, v in arrays.items()})
        assert type(restored) is type(fitted)
        for user in fitted.user_ids[:4]:
            np.testing.assert_array_equal(
                restored.score_all(int(user)), fitted.score_all(int(user))
            )
            assert restored.recommend(int(user), k=self.k) == fitted.recommend(int(user), k=self.k)
        if fitted.predicts_ratings:
            user = int(fitted.user_ids[0])
            np.testing.assert_array_equal(
                restored.predict_rating(user, fitted.movie_ids),
                fitted.predict_rating(user, fitted.movie_ids),
            )

    def test_predict_rating_is_clipped_or_not_implemented(
        self, fitted: Recommender, ratings: pd.DataFrame
    ) -> None:
        user = int(fitted.user_ids[0])
        if not fitted.predicts_ratings:
            with pytest.raises(NotImplementedError):
                fitted.predict_rating(user, fitted.movie_ids[:2])
            return
        preds = fitted.predict_rating(user, fitted.movie_ids)
        lo, hi = ratings["rating"].min(), ratings["rating"].max()
        assert preds.shape == (fitted.n_movies,)
        assert ((preds >= lo) & (preds <= hi)).all()
        errors = []
        for uid, group in ratings.groupby("user_id"):
            errors.append(fitted.predict_rating(int(uid), group["movie_id"]) - group["rating"])
        rmse = float(np.sqrt(np.mean(np.concatenate(errors) ** 2)))
        assert self.expected_rmse_range[0] <= rmse <= self.expected_rmse_range[1]
