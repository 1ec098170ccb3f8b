"""Most-rated movies first; a Bayesian-shrunk mean rating breaks ties."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from movie_roulette.models.base import Interactions, Recommender
from movie_roulette.models.component_api import ScoreScale


class PopularityRecommender(Recommender):
    """Score = number of ratings + a tie-break in [0, 0.5) from the shrunk mean rating.

    The shrunk mean is (sum of ratings + shrinkage * global mean) / (count + shrinkage), so a movie
    with two 5-star ratings does not beat a well-loved classic. Scores are the same for every user.
    """

    name: ClassVar[str] = "popularity"
    score_scale: ClassVar[ScoreScale] = "log1p"  # counts: a blend reads log1p(count)
    personal: ClassVar[bool] = False
    profile_reads_values: ClassVar[bool] = True  # a profile changes nothing
    _params: ClassVar[tuple[str, ...]] = ("shrinkage", "use_rating_tiebreak")

    def __init__(
        self,
        shrinkage: float = 10.0,
        use_rating_tiebreak: bool = True,
        rating_scale: tuple[float, float] | None = None,
    ) -> None:
        super().__init__(rating_scale)
        if shrinkage < 0:
            raise ValueError(f"shrinkage: must be >= 0, got {shrinkage}.")
        self.shrinkage = float(shrinkage)
        self.use_rating_tiebreak = bool(use_rating_tiebreak)
        self.counts = np.empty(0)
        self.shrunk_mean = np.empty(0)
        self._scores = np.empty(0)

    def _fit(self, data: Interactions, catalogue: pd.DataFrame | None) -> None:
        self.counts = np.bincount(data.movie_idx, minlength=data.n_movies).astype(np.float64)
        sums = np.bincount(data.movie_idx, data.rating, minlength=data.n_movies)
        mu = float(data.rating.mean())
        self.shrunk_mean = (sums + self.shrinkage * mu) / (self.counts + self.shrinkage)
        self._update_scores()

    def _update_scores(self) -> None:
        scores = self.counts.copy()
        if self.use_rating_tiebreak:
            lo, hi = self.rating_scale or (0.0, 5.0)
            span = max(hi - lo, 1e-9)
            scores += 0.499 * np.clip((self.shrunk_mean - lo) / span, 0.0, 1.0)
        self._scores = scores

    def _score_all(self, user_idx: int) -> np.ndarray:
        return self._scores

    def _score_profile(self, movie_idx: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        return self._scores

    def score_ratings(self, ratings: Mapping[int, float]) -> np.ndarray:
        self._check_fitted()
        return self._scores.copy()

    def movie_prior(self) -> tuple[np.ndarray, np.ndarray]:
        return self.counts, self.shrunk_mean

    def _get_arrays(self) -> dict[str, np.ndarray]:
        return {"counts": self.counts, "shrunk_mean": self.shrunk_mean}

    def _set_state(self, meta: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        self.counts = np.asarray(arrays["counts"], np.float64)
        self.shrunk_mean = np.asarray(arrays["shrunk_mean"], np.float64)
        self._update_scores()
