"""Content-based recommender: TF-IDF item vectors, user profile from liked movies, cosine score."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import sparse

from movie_roulette.features.text import build_item_matrix
from movie_roulette.models.base import Interactions, Recommender, fit_baselines
from movie_roulette.models.rows import index_arrays, row_entries

PREDICT_BLOCK = 1 << 20  # movies x rated similarities computed at once (8 MB as float64)
# A profile of at most this many feature entries (the rated movies' rows) is built sparse
# (np.unique of its features), and scored from its features' columns when they hold less than
# 1/RATIO of the matrix's entries (a gather and a weighted bincount: ~4 passes over what they
# read, ~8x the mat-vec's cost an entry on ml-latest-small) rather than by the mat-vec over
# every entry (`ContentRecommender._score_profile`)
SPARSE_PROFILE_ENTRIES = 64
SPARSE_PROFILE_RATIO = 8


class ContentRecommender(Recommender):
    """Ranks by cosine(user profile, movie vector); predicts ratings by content kNN.

    * Item vectors: `features.text.build_item_matrix` (per-field TF-IDF, rows l2-normalised).
      The model knows every catalogue movie, rated or not, so it can recommend new movies.
    * Profile: weighted sum of the vectors of the user's liked movies (rating >= like_threshold),
      weight = rating minus the user's mean rating (uniform weights if that leaves nothing).
    * Rating: baseline (mu + bu + bi) plus the similarity-weighted mean of the user's residuals on
      the `n_neighbours` most similar movies they rated (positive similarities only, shrunk by
      `shrinkage` in the denominator).
    """

    name: ClassVar[str] = "content"
    predicts_ratings: ClassVar[bool] = True
    knows_catalogue: ClassVar[bool] = True
    _params: ClassVar[tuple[str, ...]] = (
        "like_threshold",
        "max_features",
        "n_neighbours",
        "shrinkage",
    )

    def __init__(
        self,
        like_threshold: float = 4.0,
        max_features: int = 20000,
        n_neighbours: int = 30,
        shrinkage: float = 0.5,
        rating_scale: tuple[float, float] | None = None,
    ) -> None:
        super().__init__(rating_scale)
        self.like_threshold = float(like_threshold)
        self.max_features = int(max_features)
        self.n_neighbours = int(n_neighbours)
        self.shrinkage = float(shrinkage)
        self.item_matrix = sparse.csr_matrix((0, 0), dtype=np.float32)
        self.global_mean = 0.0
        self.bu = np.empty(0)
        self.bi = np.empty(0)
        self._item64: sparse.csr_matrix | None = None
        self._by_feature_matrix: sparse.csr_matrix | None = None

    def _fit(self, data: Interactions, catalogue: pd.DataFrame | None) -> None:
        self.item_matrix = build_item_matrix(
            catalogue, self.movie_ids, max_features=self.max_features
        )
        self.global_mean, self.bu, self.bi = fit_baselines(data)
        self._item64 = None
        self._by_feature_matrix = None

    # ------------------------------------------------------------------ ranking
    def profile_weights(self, ratings: np.ndarray) -> np.ndarray:
        ratings = np.asarray(ratings, np.float64)
        if len(ratings) == 0:
            return ratings
        liked = ratings >= self.like_threshold
        if not liked.any():  # nothing liked: lean on the relatively best-rated movies
            liked = ratings >= ratings.max()
        w = np.where(liked, ratings - ratings.mean(), 0.0)
        w = np.clip(w, 0.0, None)
        if w.sum() <= 0:
            w = liked.astype(np.float64)
        return w

    def movie_similarities(self, movie_pos: int) -> np.ndarray:
        """Cosine of one movie's vector to every movie's (rows are unit-norm)."""
        row = self.item_matrix[int(movie_pos)]
        return np.asarray((self.item_matrix @ row.T).todense()).ravel()

    def linear_form(self) -> sparse.csr_matrix | None:
        return self._scoring_matrix() if self.item_matrix.shape[1] else None

    def linear_query(self, user_idx: int) -> np.ndarray:
        """The user's unit profile over the vocabulary (zeros: nothing to go on)."""
        found = self._profile(*self.seen(user_idx))
        return np.zeros(self.item_matrix.shape[1]) if found is None else found[0] / found[1]

    def _score_profile(self, movie_idx: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        """Cosine of the profile to every movie: `item_matrix @ profile / norm`. A profile of
        a few movies (one for `similar`, a newcomer's few) has few features (~20 a movie of
        ml-latest-small's 25k), and their columns (`_by_feature`) hold ~4 % of the matrix's
        entries for one movie: it is scored from those columns, where the mat-vec reads every
        entry and a dense profile over the whole vocabulary. A long history: the mat-vec."""
        short = self._short_profile(movie_idx, ratings)
        if short is None:
            found = self._profile(movie_idx, ratings)
            if found is None:
                return np.zeros(self.n_movies)
            return np.asarray(self._scoring_matrix() @ found[0]).ravel() / found[1]
        features, values = short
        norm = float(np.sqrt(values @ values))
        if norm == 0:
            return np.zeros(self.n_movies)
        by_feature = self._by_feature()
        take, lengths = row_entries(by_feature.indptr, features)
        weights = by_feature.data[take] * np.repeat(values, lengths)
        scores = np.bincount(by_feature.indices[take], weights=weights, minlength=self.n_movies)
        return scores / norm

    def _short_profile(
        self, movie_idx: np.ndarray, ratings: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """(the profile's nonzero features, their sums) when it is worth scoring from those
        features' columns (`SPARSE_PROFILE_ENTRIES`, `SPARSE_PROFILE_RATIO`); else None. The
        sums are the same additions, in the same order, as the dense profile's (`_profile`)."""
        if len(movie_idx) == 0 or self.item_matrix.shape[1] == 0:
            return None
        indptr = self._scoring_matrix().indptr
        movie_idx = np.asarray(movie_idx, np.int64)
        if int((indptr[movie_idx + 1] - indptr[movie_idx]).sum()) > SPARSE_PROFILE_ENTRIES:
            return None
        entries, weights = self._profile_entries(movie_idx, ratings)
        features, at = np.unique(entries, return_inverse=True)
        columns = self._by_feature().indptr
        touched = int((columns[features + 1] - columns[features]).sum())
        if touched * SPARSE_PROFILE_RATIO >= columns[-1]:
            return None
        return features, np.bincount(at, weights=weights, minlength=len(features))

    def _profile_entries(
        self, movie_idx: np.ndarray, ratings: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(feature of each entry of the rated movies' rows, its value times the movie's
        `profile_weights`), in row order: the terms a profile sums."""
        matrix = self._scoring_matrix()
        take, lengths = row_entries(matrix.indptr, movie_idx)
        weights = matrix.data[take] * np.repeat(self.profile_weights(ratings), lengths)
        return matrix.indices[take], weights

    def _profile(
        self, movie_idx: np.ndarray, ratings: np.ndarray
    ) -> tuple[np.ndarray, float] | None:
        """The rated movies' vectors summed with `profile_weights`, and its norm; None when
        that is zero (no rated movie, no features)."""
        if len(movie_idx) == 0 or self.item_matrix.shape[1] == 0:
            return None
        # dense profile (one row over the vocabulary) -> a sparse mat-vec, not a sparse matmat.
        # The profile sums the rated movies' entries as weights of one bincount (no sparse
        # matrices built per request), then one mat-vec with the float64 copy of the vectors:
        # the same float64 products and sums, in the same order, as the sparse products did.
        entries, weights = self._profile_entries(movie_idx, ratings)
        profile = np.bincount(entries, weights=weights, minlength=self.item_matrix.shape[1])
        norm = float(np.sqrt(profile @ profile))
        return None if norm == 0 else (profile, norm)

    def _by_feature(self) -> sparse.csr_matrix:
        """`_scoring_matrix` transposed (features x movies, CSR: each feature's movies), made
        once per fit or load: the columns a sparse profile reads (`_score_profile`)."""
        if self._by_feature_matrix is None:
            self._by_feature_matrix = self._scoring_matrix().T.tocsr()
        return self._by_feature_matrix

    def _scoring_matrix(self) -> sparse.csr_matrix:
        """`item_matrix` with float64 values (made once per fit or load): a request's mat-vec
        with the float64 profile converted all ~200k float32 values first (ml-latest-small)."""
        if self._item64 is None:
            self._item64 = self.item_matrix.astype(np.float64)
        return self._item64

    # ------------------------------------------------------------------ ratings
    def _predict_ratings(self, user_idx: int, movie_idx: np.ndarray) -> np.ndarray:
        movie_idx = np.asarray(movie_idx, np.int64)
        base = self.global_mean + self.bu[user_idx] + self.bi[movie_idx]
        rated, r = self.seen(user_idx)
        if len(rated) == 0 or len(movie_idx) == 0 or self.item_matrix.shape[1] == 0:
            return base
        resid = r - (self.global_mean + self.bu[user_idx] + self.bi[rated])
        rated_features = self.item_matrix[rated].T.tocsc()
        out = np.empty(len(movie_idx))
        # the movies a block at a time: a dense block is movies x rated, and a heavy user's
        # test movies x history was ~0.5 GB an array at 25M ratings
        rows = max(1, PREDICT_BLOCK // len(rated))
        for start in range(0, len(movie_idx), rows):
            part = slice(start, start + rows)
            term = self._neighbour_term(movie_idx[part], rated, rated_features, resid)
            out[part] = base[part] + term
        return out

    def _neighbour_term(
        self,
        movie_idx: np.ndarray,
        rated: np.ndarray,
        rated_features: sparse.csc_matrix,
        resid: np.ndarray,
    ) -> np.ndarray:
        """Per movie: the similarity-weighted mean residual of its `n_neighbours` most similar
        rated movies (shrunk towards 0)."""
        sims = (self.item_matrix[movie_idx] @ rated_features).toarray()
        sims[sims < 0] = 0.0
        # a movie is not its own neighbour
        sims[movie_idx[:, None] == rated[None, :]] = 0.0
        k = self.n_neighbours
        if sims.shape[1] > k:
            cut = np.argpartition(-sims, k - 1, axis=1)[:, :k]
            mask = np.zeros_like(sims, dtype=bool)
            np.put_along_axis(mask, cut, True, axis=1)
            sims = np.where(mask, sims, 0.0)
        num = sims @ resid
        den = sims.sum(axis=1) + self.shrinkage
        return num / den

    # ------------------------------------------------------------------ state
    def _get_extra_meta(self) -> dict[str, Any]:
        return {"global_mean": self.global_mean, "n_features": int(self.item_matrix.shape[1])}

    def _get_arrays(self) -> dict[str, np.ndarray]:
        m = self.item_matrix
        indices, indptr = index_arrays(m)
        return {
            "item_data": m.data.astype(np.float32),
            "item_indices": indices,
            "item_indptr": indptr,
            "bu": self.bu,
            "bi": self.bi,
        }

    def _set_state(self, meta: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        extra = meta["extra"]
        self.global_mean = float(extra["global_mean"])
        self.item_matrix = sparse.csr_matrix(
            (arrays["item_data"], arrays["item_indices"], arrays["item_indptr"]),
            shape=(len(self.movie_ids), int(extra["n_features"])),
        )
        self.bu = np.asarray(arrays["bu"], np.float64)
        self.bi = np.asarray(arrays["bi"], np.float64)
        self._item64 = None
        self._by_feature_matrix = None
