"""Matrix factorisation with scikit-surprise SVD, kept as plain numpy arrays after fitting."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from movie_roulette import columns as C
from movie_roulette.models.base import Interactions, Recommender


class SVDRecommender(Recommender):
    """Funk-SVD (biased MF) trained by scikit-surprise; prediction mu + bu + bi + pu . qi.

    After fitting, the factors and biases are copied into numpy arrays indexed like `user_ids` /
    `movie_ids`, so scoring and state never touch surprise objects. The ranking score is the
    unclipped predicted rating. An ad-hoc profile (newcomer) is folded in by ridge regression of
    the profile's residuals on the item factors (no refit).
    """

    name: ClassVar[str] = "svd"
    predicts_ratings: ClassVar[bool] = True
    profile_reads_values: ClassVar[bool] = True  # the fold-in regresses on the rating values
    budget_setting: ClassVar[str] = "model.use_svd (false leaves SVD out of the hybrid)"
    # scikit-surprise's Trainset holds each rating twice in Python lists of (id, rating) tuples
    # (ur and ir) plus the raw-id dicts: ~400 bytes a rating (docs/scale.md)
    BYTES_PER_RATING: ClassVar[int] = 400
    _params: ClassVar[tuple[str, ...]] = ("n_factors", "n_epochs", "lr_all", "reg_all", "seed")

    def __init__(
        self,
        n_factors: int = 100,
        n_epochs: int = 30,
        lr_all: float = 0.007,
        reg_all: float = 0.05,
        seed: int = 42,
        rating_scale: tuple[float, float] | None = None,
    ) -> None:
        super().__init__(rating_scale)
        self.n_factors = int(n_factors)
        self.n_epochs = int(n_epochs)
        self.lr_all = float(lr_all)
        self.reg_all = float(reg_all)
        self.seed = int(seed)
        self.global_mean = 0.0
        self.pu = np.empty((0, self.n_factors))
        self.qi = np.empty((0, self.n_factors))
        self.bu = np.empty(0)
        self.bi = np.empty(0)
        self._qi32: np.ndarray | None = None

    def _fit(self, data: Interactions, catalogue: pd.DataFrame | None) -> None:
        from surprise import SVD, Dataset, Reader

        frame = pd.DataFrame(
            {C.USER_ID: data.user_idx, C.MOVIE_ID: data.movie_idx, C.RATING: data.rating}
        )
        reader = Reader(rating_scale=self.rating_scale)
        trainset = Dataset.load_from_df(frame, reader).build_full_trainset()
        algo = SVD(
            n_factors=self.n_factors,
            n_epochs=self.n_epochs,
            lr_all=self.lr_all,
            reg_all=self.reg_all,
            random_state=self.seed,
        )
        algo.fit(trainset)
        # surprise numbers users/items in order of appearance; reorder to our dense indices
        u_inner = np.array([trainset.to_inner_uid(u) for u in range(data.n_users)])
        i_inner = np.array([trainset.to_inner_iid(i) for i in range(data.n_movies)])
        self.global_mean = float(trainset.global_mean)
        self.pu = np.asarray(algo.pu, np.float64)[u_inner]
        self.qi = np.asarray(algo.qi, np.float64)[i_inner]
        self.bu = np.asarray(algo.bu, np.float64)[u_inner]
        self.bi = np.asarray(algo.bi, np.float64)[i_inner]
        self._qi32 = None

    def _ranking_factors(self) -> np.ndarray:
        """`qi` in float32 for the ranking scores of a request (made once per fit or load): the
        mat-vec over every movie reads half the bytes. Scores move by ~1e-7 of a rating (the
        float32 rounding of the dot products); rating predictions keep float64."""
        if self._qi32 is None:
            self._qi32 = np.ascontiguousarray(self.qi, np.float32)
        return self._qi32

    def estimate_fit_bytes(self, n_users: int, n_movies: int, n_ratings: int) -> int:
        factors = 2 * 8 * self.n_factors * (n_users + n_movies)
        return self.BYTES_PER_RATING * n_ratings + factors

    def _score_all(self, user_idx: int) -> np.ndarray:
        dots = self._ranking_factors() @ self.pu[user_idx].astype(np.float32)
        return self.global_mean + self.bu[user_idx] + self.bi + dots

    def _predict_ratings(self, user_idx: int, movie_idx: np.ndarray) -> np.ndarray:
        return (
            self.global_mean
            + self.bu[user_idx]
            + self.bi[movie_idx]
            + self.qi[movie_idx] @ self.pu[user_idx]
        )

    def baseline(self, user_idx: int | None, movie_idx: np.ndarray) -> np.ndarray:
        """mu + bu + bi (bu = 0 when the user is unknown)."""
        bu = 0.0 if user_idx is None else self.bu[user_idx]
        return self.global_mean + bu + self.bi[movie_idx]

    def fold_in(self, movie_idx: np.ndarray, ratings: np.ndarray) -> tuple[float, np.ndarray]:
        """(bu, pu) for a new user from a few ratings, by ridge regression (no refit)."""
        if len(movie_idx) == 0:
            return 0.0, np.zeros(self.n_factors)
        n = len(movie_idx)
        res = np.asarray(ratings, np.float64) - self.global_mean - self.bi[movie_idx]
        bu = float(res.sum() / (n + self.reg_all * n + 1.0))
        q = self.qi[movie_idx]
        lam = self.reg_all * n + 1e-3
        target = res - bu
        if n < self.n_factors:
            # fewer ratings than factors (a newcomer, `similar`): the same ridge solution from
            # the n x n system, (q'q + lam I)^-1 q' t = q' (q q' + lam I)^-1 t; one rating is
            # a division, where the k x k solve cost ~0.1 ms of a `similar` request
            return bu, q.T @ np.linalg.solve(q @ q.T + lam * np.eye(n), target)
        pu = np.linalg.solve(q.T @ q + lam * np.eye(self.n_factors), q.T @ target)
        return bu, pu

    def _score_profile(self, movie_idx: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        bu, pu = self.fold_in(movie_idx, ratings)
        return self.global_mean + bu + self.bi + self._ranking_factors() @ pu.astype(np.float32)

    def _get_extra_meta(self) -> dict[str, Any]:
        return {"global_mean": self.global_mean}

    def _get_arrays(self) -> dict[str, np.ndarray]:
        return {
            "pu": self.pu,
            "qi": self.qi,
            "bu": self.bu,
            "bi": self.bi,
        }

    def _set_state(self, meta: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        self.global_mean = float(meta["extra"]["global_mean"])
        self.pu = np.asarray(arrays["pu"], np.float64)
        self.qi = np.asarray(arrays["qi"], np.float64)
        self.bu = np.asarray(arrays["bu"], np.float64)
        self.bi = np.asarray(arrays["bi"], np.float64)
        self._qi32 = None
