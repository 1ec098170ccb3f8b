"""ALS factor models fitted elsewhere (Spark MLlib), served from plain numpy arrays (issue 17).

`ExplicitALSRecommender` (ratings: predict / RMSE) and `ImplicitALSRecommender` (implicit
preferences: ranking) hold user and movie factors as float32 arrays; scoring, rating prediction
and the fold-in of an ad-hoc profile are numpy only, so a served bundle never needs Spark or
Java. Fitting is delegated to a *fitter* registered by the engine that fits them
(`movie_roulette.spark.als` registers Spark's `pyspark.ml.recommendation.ALS` when imported);
without one, `fit` stops with a message naming the fix.

The fold-in solves the same regularised least-squares step as Spark's ALS for one user
(`ALS.computeFactors`, Cholesky solver): regularisation scaled by the user's number of ratings
("ALS-WR"), and for implicit preferences confidence 1 + alpha * value on each interaction.
So folding in a fitted user's training history gives back their Spark factors (tested).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import numpy as np
import pandas as pd

from movie_roulette.models.base import Interactions, Recommender
from movie_roulette.models.component_api import UserRows
from movie_roulette.models.factors import FactorScoring

# (model, interactions) -> (user factors, movie factors), float32, aligned with the indices
Fitter = Callable[["FactorALSRecommender", Interactions], tuple[np.ndarray, np.ndarray]]
_FITTERS: dict[str, Fitter] = {}


def register_fitter(engine: str, fitter: Fitter) -> None:
    """Make `engine` able to fit the ALS factor models (the Spark package calls this)."""
    _FITTERS[engine] = fitter


class FactorALSRecommender(FactorScoring, Recommender):
    """Shared state and numpy scoring of the two Spark ALS variants."""

    name: ClassVar[str] = "als_factors"
    implicit_prefs: ClassVar[bool] = False
    _params: ClassVar[tuple[str, ...]] = (
        "rank",
        "max_iter",
        "reg_param",
        "alpha",
        "min_rating",
        "seed",
        "engine",
    )

    def __init__(
        self,
        rank: int = 32,
        max_iter: int = 10,
        reg_param: float = 0.1,
        alpha: float = 1.0,
        min_rating: float | None = None,
        seed: int = 0,
        engine: str = "spark",
        rating_scale: tuple[float, float] | None = None,
    ) -> None:
        super().__init__(rating_scale)
        if rank < 1 or max_iter < 1:
            raise ValueError(f"rank and max_iter must be >= 1, got {rank}, {max_iter}.")
        if reg_param < 0 or alpha <= 0:
            raise ValueError(f"reg_param >= 0 and alpha > 0, got {reg_param}, {alpha}.")
        self.rank = int(rank)
        self.max_iter = int(max_iter)
        self.reg_param = float(reg_param)
        self.alpha = float(alpha)
        self.min_rating = None if min_rating is None else float(min_rating)
        self.seed = int(seed)
        self.engine = str(engine)
        self.user_factors = np.empty((0, self.rank), np.float32)
        self.item_factors = np.empty((0, self.rank), np.float32)

    # ------------------------------------------------------------------ fitting
    def _keep_rows(self, data: Interactions) -> np.ndarray | None:
        return None if self.min_rating is None else data.rating >= self.min_rating

    def _fit(self, data: Interactions, catalogue: pd.DataFrame | None) -> None:
        fitter = _FITTERS.get(self.engine)
        if fitter is None:
            raise RuntimeError(
                f"{type(self).__name__}: no {self.engine!r} engine to fit with; import "
                "movie_roulette.spark (pip install pyspark, Java 17) or set engine: local."
            )
        users, items = fitter(self, data)
        self.set_factors(users, items)

    def set_factors(self, user_factors: np.ndarray, item_factors: np.ndarray) -> None:
        """Install fitted factors (rows aligned with `user_ids` / `movie_ids`)."""
        users = np.ascontiguousarray(user_factors, np.float32)
        items = np.ascontiguousarray(item_factors, np.float32)
        if users.shape != (self.n_users, self.rank) or items.shape != (self.n_movies, self.rank):
            raise ValueError(
                f"factors: expected {(self.n_users, self.rank)} and {(self.n_movies, self.rank)}, "
                f"got {users.shape} and {items.shape}."
            )
        self.user_factors, self.item_factors = users, items

    def interaction_values(self, ratings: np.ndarray) -> np.ndarray:
        """The value ALS is fitted on for each (selected) rating."""
        if self.implicit_prefs:
            return np.ones(len(ratings), np.float32)
        return np.asarray(ratings, np.float32)

    # ------------------------------------------------------------------ fold-in
    def fold_in(self, rows: UserRows) -> np.ndarray:
        """User factors for histories: one least-squares user step of Spark's ALS (float64)."""
        gram = self.item_gram() if self.implicit_prefs else None
        out = np.zeros((rows.n_users, self.rank), np.float32)
        eye = np.eye(self.rank)
        for k in range(rows.n_users):
            idx, r = rows.row(k)
            if self.min_rating is not None:
                keep = r >= self.min_rating
                idx, r = idx[keep], r[keep]
            if len(idx) == 0:
                continue
            Yk = self.item_factors[idx].astype(np.float64)
            values = self.interaction_values(r).astype(np.float64)
            if self.implicit_prefs:
                c1 = self.alpha * np.abs(values)
                A = gram + (Yk.T * c1) @ Yk
                b = Yk.T @ np.where(values > 0, 1.0 + c1, 0.0)
                n_explicit = int((values > 0).sum())
            else:
                A = Yk.T @ Yk
                b = Yk.T @ values
                n_explicit = len(idx)
            out[k] = np.linalg.solve(A + self.reg_param * n_explicit * eye, b)
        return out


class ExplicitALSRecommender(FactorALSRecommender):
    """ALS on the ratings themselves: rating = user factors . movie factors (clipped)."""

    name: ClassVar[str] = "als_explicit"
    predicts_ratings: ClassVar[bool] = True
    implicit_prefs: ClassVar[bool] = False

    def _predict_ratings(self, user_idx: int, movie_idx: np.ndarray) -> np.ndarray:
        return self._score_at(user_idx, movie_idx).astype(np.float64)

    def predict_rows(self, user_idx: np.ndarray, movie_idx: np.ndarray) -> np.ndarray:
        users = self.user_factors[np.asarray(user_idx, np.int64)]
        items = self.item_factors[np.asarray(movie_idx, np.int64)]
        return self.clip((users @ items.T).astype(np.float64))


class ImplicitALSRecommender(FactorALSRecommender):
    """Implicit-preference ALS (Hu, Koren, Volinsky 2008): every rating (or every rating >=
    `min_rating`) is an interaction of confidence 1 + alpha; score = preference estimate."""

    name: ClassVar[str] = "als_implicit"
    implicit_prefs: ClassVar[bool] = True
