"""Genre taste x popularity: which genres a person chooses more often than people do overall.

A person's history says two things a co-occurrence model reads only indirectly: which genres
they pick (their taste) and that, like everyone, they mostly pick popular movies. This component
scores a movie by both, as a log-linear choice model:

    score(u, m) = log(1 + ratings of m) + sum_g G[m, g] * theta[u, g]

over every catalogue movie (an unrated one: its genres alone), where

* `G[m, g]`: the movie's genres, each 1 / (number of its genres) (a movie with no genre: 0);
* `theta[u, g] = log((h[u, g] + s * b[g]) / ((n[u] + s) * b[g]))`: the log-lift of genre g in
  the person's n rated movies (h: their share-weighted genre counts) over `b[g]`, the genre's
  share of all ratings, shrunk towards no lift by `smoothing` (s) pseudo-ratings of the
  average mix. Every rating counts as a choice (a disliked movie was still chosen; the blend's
  fold-in subtracts disliked movies as it does for EASE and item-kNN).

Cost: the fit counts ratings per movie and builds G (movies x genres, ~2 entries a movie); a
score is one sparse mat-vec over G plus the history's genre counts. The scores are linear in
`[1, theta[u]]` (`linear_form`), so the hybrid's head pool reads their sums from G's Gram
matrix. Measured in docs/scale.md section 6t.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import sparse

from movie_roulette import columns as C
from movie_roulette.features.text import catalogue_field, split_genres
from movie_roulette.models.base import Interactions, Recommender
from movie_roulette.models.rows import index_arrays, row_entries


def genre_matrix(
    catalogue: pd.DataFrame | None, movie_ids: np.ndarray
) -> tuple[sparse.csr_matrix, list[str]]:
    """(movies x genres CSR, each row's entries 1 / its number of genres; the genre names,
    sorted) for `movie_ids` from the catalogue's `genres` column ("A|B"; "(no genres listed)"
    and missing movies: an empty row)."""
    n = len(movie_ids)
    if catalogue is None or C.GENRES not in catalogue.columns or n == 0:
        return sparse.csr_matrix((n, 0), dtype=np.float64), []
    lists = [split_genres(v) for v in catalogue_field(catalogue, movie_ids, C.GENRES)]
    names = sorted({g for genres in lists for g in genres})
    column = {g: j for j, g in enumerate(names)}
    lengths = np.fromiter((len(set(genres)) for genres in lists), np.int64, n)
    cols = np.fromiter(
        (column[g] for genres in lists for g in sorted(set(genres))), np.int64, int(lengths.sum())
    )
    data = np.repeat(1.0 / np.maximum(lengths, 1), lengths)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    return sparse.csr_matrix((data, cols, indptr), shape=(n, len(names))), names


class GenreTasteRecommender(Recommender):
    """Ranks by log popularity plus the person's genre log-lifts (see the module docstring)."""

    name: ClassVar[str] = "genre_taste"
    # an unrated catalogue movie scores by its genres alone; knowing every movie the hybrid
    # knows also lets the head pool read this component as linear
    knows_catalogue: ClassVar[bool] = True
    _params: ClassVar[tuple[str, ...]] = ("smoothing",)

    def __init__(
        self, smoothing: float = 5.0, rating_scale: tuple[float, float] | None = None
    ) -> None:
        super().__init__(rating_scale)
        if not smoothing > 0:
            raise ValueError(f"smoothing: must be > 0 (pseudo-ratings), got {smoothing}.")
        self.smoothing = float(smoothing)
        self.log_popularity = np.empty(0)
        self.genres = sparse.csr_matrix((0, 0), dtype=np.float64)
        self.genre_names: list[str] = []
        self.genre_share = np.empty(0)

    def estimate_fit_bytes(self, n_users: int, n_movies: int, n_ratings: int) -> int:
        # a per-movie count (the histories are the hybrid's, shared) and G: ~3 entries a movie
        return 8 * n_ratings + 64 * n_movies + 16 * n_users

    def _fit(self, data: Interactions, catalogue: pd.DataFrame | None) -> None:
        counts = np.bincount(data.movie_idx, minlength=data.n_movies).astype(np.float64)
        self.log_popularity = np.log1p(counts)
        self.genres, self.genre_names = genre_matrix(catalogue, self.movie_ids)
        total = self.genres.T @ counts  # rating-weighted genre mass
        self.genre_share = total / max(float(counts.sum()), 1.0)

    def taste(self, movie_idx: np.ndarray) -> np.ndarray:
        """theta: the genre log-lifts of a history (movie positions), 0 for genres nobody rated."""
        g = self.genres
        take, _ = row_entries(g.indptr, np.asarray(movie_idx, np.int64))
        h = np.bincount(g.indices[take], g.data[take], minlength=g.shape[1])
        b, s = self.genre_share, self.smoothing
        theta = np.zeros(g.shape[1])
        ok = b > 0
        theta[ok] = np.log((h[ok] + s * b[ok]) / ((len(movie_idx) + s) * b[ok]))
        return theta

    def _score_profile(self, movie_idx: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        return self.log_popularity + self.genres @ self.taste(movie_idx)

    def _score_at(self, user_idx: int, movie_idx: np.ndarray) -> np.ndarray:
        movie_idx = np.asarray(movie_idx, np.int64)
        theta = self.taste(self.seen(user_idx)[0])
        return self.log_popularity[movie_idx] + self.genres[movie_idx] @ theta

    def linear_form(self) -> sparse.csr_matrix:
        """[log popularity | G]: a user's scores are this times `linear_query`."""
        pop = sparse.csr_matrix(self.log_popularity.reshape(-1, 1))
        return sparse.hstack([pop, self.genres], format="csr")

    def linear_query(self, user_idx: int) -> np.ndarray:
        return np.concatenate([[1.0], self.taste(self.seen(user_idx)[0])])

    def _get_extra_meta(self) -> dict[str, Any]:
        return {"genre_names": list(self.genre_names)}

    def _get_arrays(self) -> dict[str, np.ndarray]:
        indices, indptr = index_arrays(self.genres)
        return {
            "log_popularity": self.log_popularity,
            "genre_share": self.genre_share,
            "genre_data": self.genres.data,
            "genre_indices": indices,
            "genre_indptr": indptr,
        }

    def _set_state(self, meta: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        self.genre_names = [str(g) for g in meta["extra"]["genre_names"]]
        self.log_popularity = np.asarray(arrays["log_popularity"], np.float64)
        self.genre_share = np.asarray(arrays["genre_share"], np.float64)
        self.genres = sparse.csr_matrix(
            (arrays["genre_data"], arrays["genre_indices"], arrays["genre_indptr"]),
            shape=(len(self.movie_ids), len(self.genre_names)),
        )
