"""The public component API a blend composes over (proposed in docs/scale.md, issue 13).

A component is a fitted `Recommender` that also offers:

* `score_scale` (class attribute): how a blend should read its scores: "raw" (already a
  relevance score) or "log1p" (counts, e.g. popularity: use log1p before standardising);
* `score_rows(rows, candidates=None)`: scores of a batch of user histories (`UserRows`, in the
  component's own movie positions) over `candidates` (positions, shared by the batch) or over
  every fitted movie: one call for a batch of validation users, a newcomer's profile or a
  served request, without private hooks or per-name special cases;
* `score_users(user_idx, candidates=None)`: the same for fitted users (positions in the
  component's `user_ids`), from what the component learnt about them (SVD's and ALS's fitted
  factors, not a fold-in of their history);
* `predict_rows(user_idx, movie_idx)` (components with `predicts_ratings`): rating predictions of
  fitted users for the given movie positions, one row per user;
* `personal` (class attribute): False when the scores are the same for everyone (popularity):
  a blend then does not count it as evidence about the user (fold-in, rating-stack z features);
* `profile_reads_values` (class attribute): True when scoring a profile reads the rating values
  itself (SVD's fold-in); False when every rating counts as "watched" (EASE, item-kNN, content),
  so a blend passes disliked movies separately (`models.hybrid.fold_in`);
* `estimate_fit_bytes(n_users, n_movies, n_ratings)` and `budget_setting`: the memory a fit
  plans to hold, and the setting that lowers it, for the hybrid's up-front budget check;
* `movie_prior()` (popularity: counts and shrunk mean ratings) and `movie_similarities(pos)`
  (content: cosine of one movie to every movie), None where a component has none.

`RowScoring` gives correct (per-row) defaults from the `Recommender` hooks; scalable components
override them with batched versions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
from scipy import sparse

ScoreScale = Literal["raw", "log1p"]


@dataclass(frozen=True)
class UserRows:
    """User histories as CSR rows over one component's movie positions (ratings as values)."""

    indptr: np.ndarray  # int64, n_users + 1
    indices: np.ndarray  # int32 movie positions
    ratings: np.ndarray  # float32

    def __post_init__(self) -> None:
        if len(self.indptr) < 1 or self.indptr[-1] != len(self.indices):
            raise ValueError("UserRows: indptr[-1] must equal the number of entries.")
        if len(self.indices) != len(self.ratings):
            raise ValueError("UserRows: indices and ratings must have the same length.")

    @property
    def n_users(self) -> int:
        return len(self.indptr) - 1

    def row(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = self.indptr[k], self.indptr[k + 1]
        return self.indices[a:b], self.ratings[a:b]

    def matrix(self, n_movies: int, values: np.ndarray | None = None) -> sparse.csr_matrix:
        """n_users x n_movies CSR of the ratings (or of `values`, aligned with the entries)."""
        data = self.ratings if values is None else values
        return sparse.csr_matrix(
            (np.asarray(data, np.float32), self.indices, self.indptr),
            shape=(self.n_users, n_movies),
        )

    @classmethod
    def from_profiles(cls, profiles: Sequence[tuple[np.ndarray, np.ndarray]]) -> UserRows:
        """From (movie positions, ratings) pairs, one per user."""
        lengths = [len(p[0]) for p in profiles]
        indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        idx = [np.asarray(p[0], np.int32) for p in profiles]
        val = [np.asarray(p[1], np.float32) for p in profiles]
        return cls(
            indptr,
            np.concatenate(idx) if idx else np.empty(0, np.int32),
            np.concatenate(val) if val else np.empty(0, np.float32),
        )

    @classmethod
    def of_users(cls, model: Any, user_idx: np.ndarray) -> UserRows:
        """The training histories of fitted users (positions in `model.user_ids`)."""
        return cls.from_profiles([model.seen(int(u)) for u in np.asarray(user_idx)])


# bytes per rating a component holds while fitting, unless it says otherwise (the ratings frame,
# its id arrays and one sparse copy)
DEFAULT_BYTES_PER_RATING = 64


class RowScoring:
    """Mixin for `Recommender` (base of every model): the public API with per-row defaults."""

    score_scale: ClassVar[ScoreScale] = "raw"
    personal: ClassVar[bool] = True
    profile_reads_values: ClassVar[bool] = False
    budget_setting: ClassVar[str] = "model.memory_budget_gb"

    def estimate_fit_bytes(self, n_users: int, n_movies: int, n_ratings: int) -> int:
        """Memory the fit plans to hold (bytes), from the data's shape only."""
        return DEFAULT_BYTES_PER_RATING * n_ratings + 16 * (n_users + n_movies)

    def score_users(self, user_idx: np.ndarray, candidates: np.ndarray | None = None) -> np.ndarray:
        """(n_users, n_candidates) float64 scores of fitted users (positions in `user_ids`);
        candidates None = every fitted movie."""
        self._check_fitted()  # type: ignore[attr-defined]
        user_idx = np.asarray(user_idx, np.int64).reshape(-1)
        n = self.n_movies  # type: ignore[attr-defined]
        width = n if candidates is None else len(candidates)
        out = np.empty((len(user_idx), width), np.float64)
        for k, u in enumerate(user_idx):
            if candidates is None:
                out[k] = self._score_all(int(u))  # type: ignore[attr-defined]
            else:
                out[k] = self._score_at(int(u), np.asarray(candidates, np.int64))  # type: ignore[attr-defined]
        return out

    def linear_form(self) -> Any | None:
        """The matrix M (fitted movies x d; dense or CSR) when a fitted user's scores are
        `M @ self.linear_query(user_idx)` (ALS: the movie factors; content: the movie feature
        vectors); None (the default): the scores are not linear in a per-user vector. A blend
        then gets a user's exact score sums over every movie from M's column sums and Gram
        matrix, and scores only a pool of rows (models/hybrid/pool.py)."""
        return None

    def linear_query(self, user_idx: int) -> np.ndarray:
        """The per-user vector of `linear_form` (only called when that is not None)."""
        raise NotImplementedError(f"{type(self).__name__} has no linear form.")

    def movie_prior(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(rating counts, mean ratings) per fitted movie, for cold start; None = not known."""
        return None

    def movie_similarities(self, movie_pos: int) -> np.ndarray | None:
        """Similarity of one fitted movie to every fitted movie; None = not offered."""
        return None

    def score_rows(self, rows: UserRows, candidates: np.ndarray | None = None) -> np.ndarray:
        """(n_users, n_candidates) float32 scores; candidates None = every fitted movie."""
        self._check_fitted()  # type: ignore[attr-defined]
        n = self.n_movies  # type: ignore[attr-defined]
        width = n if candidates is None else len(candidates)
        out = np.empty((rows.n_users, width), np.float32)
        for k in range(rows.n_users):
            scores = np.asarray(self._score_profile(*rows.row(k)))  # type: ignore[attr-defined]
            out[k] = scores if candidates is None else scores[candidates]
        return out

    def predict_rows(self, user_idx: np.ndarray, movie_idx: np.ndarray) -> np.ndarray:
        """(n_users, len(movie_idx)) clipped rating predictions of fitted users."""
        if not self.predicts_ratings:  # type: ignore[attr-defined]
            raise NotImplementedError(f"{type(self).__name__} does not predict ratings.")
        movie_idx = np.asarray(movie_idx, np.int64)
        out = np.empty((len(user_idx), len(movie_idx)), np.float64)
        for k, u in enumerate(np.asarray(user_idx)):
            out[k] = self._predict_ratings(int(u), movie_idx)  # type: ignore[attr-defined]
        return self.clip(out)  # type: ignore[attr-defined]
