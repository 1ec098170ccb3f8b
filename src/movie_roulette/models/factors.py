"""Scoring and state shared by the matrix-factorisation components (implicit ALS on one machine,
Spark's ALS): score = movie factors . user factors; a profile is scored by its folded-in factors.

A mixin placed before `Recommender` in the bases; the class provides `user_factors`,
`item_factors` (float32) and `fold_in(rows) -> users x factors`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from movie_roulette.models.component_api import UserRows


class FactorScoring:
    user_factors: np.ndarray
    item_factors: np.ndarray
    _gram_of: tuple[np.ndarray, np.ndarray] | None = None

    def item_gram(self) -> np.ndarray:
        """Y^T Y of the movie factors in float64, computed once per factor array: a fold-in
        (a newcomer's profile, `similar`) used to compute it per request, a 1-GFLOP product
        and a 63 MB copy at 62,000 movies x 128 factors (12 ms of a 25M `similar`'s 17)."""
        cached = self._gram_of
        if cached is None or cached[0] is not self.item_factors:
            Y = self.item_factors.astype(np.float64)
            cached = (self.item_factors, Y.T @ Y)
            self._gram_of = cached
        return cached[1]

    def linear_form(self) -> np.ndarray:
        return self.item_factors

    def linear_query(self, user_idx: int) -> np.ndarray:
        return self.user_factors[user_idx]

    def fold_in(self, rows: UserRows) -> np.ndarray:  # pragma: no cover - the class's own
        raise NotImplementedError

    def _score_all(self, user_idx: int) -> np.ndarray:
        return self.item_factors @ self.user_factors[user_idx]

    def _score_at(self, user_idx: int, movie_idx: np.ndarray) -> np.ndarray:
        return self.item_factors[np.asarray(movie_idx, np.int64)] @ self.user_factors[user_idx]

    def _score_profile(self, movie_idx: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        rows = UserRows.from_profiles([(movie_idx, ratings)])
        return self.item_factors @ self.fold_in(rows)[0]

    def score_rows(self, rows: UserRows, candidates: np.ndarray | None = None) -> np.ndarray:
        self._check_fitted()  # type: ignore[attr-defined]
        items = self.item_factors if candidates is None else self.item_factors[candidates]
        return self.fold_in(rows) @ items.T

    def _get_arrays(self) -> dict[str, np.ndarray]:
        return {"user_factors": self.user_factors, "item_factors": self.item_factors}

    def _set_state(self, meta: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        self.user_factors = np.asarray(arrays["user_factors"], np.float32)
        self.item_factors = np.asarray(arrays["item_factors"], np.float32)
