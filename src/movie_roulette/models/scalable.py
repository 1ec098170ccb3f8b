"""Components whose cost follows the number of ratings, not the catalogue squared (issue 13).

* `ALSRecommender`: implicit-feedback alternating least squares (the `implicit` package, CPU,
  float32); memory ~ (users + movies) x factors, time ~ ratings x factors^2 per iteration.
* `SparseItemKNNRecommender`: the item-kNN of `models.implicit` with its similarities computed
  as sparse products over column blocks sized by the work they hold (never a dense n x block
  matrix), keeping the top-k per movie; a user with more than `max_user_items` interactions
  contributes a seeded sample of that many, so the cost is at most ratings x max_user_items.
* EASE with an item cap and a memory budget is `models.implicit.EASERecommender(max_items=...)`.

All three implement the public component API of `models.component_api` with batched versions.
`models.hybrid.components.make_components` builds them from the pipeline's model config
(`model.component_set: scalable`).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy import sparse
from threadpoolctl import threadpool_limits

from movie_roulette.models.base import Interactions, Recommender, fit_baselines
from movie_roulette.models.component_api import UserRows
from movie_roulette.models.factors import FactorScoring
from movie_roulette.models.implicit import ItemKNNRecommender

_BLOCK_WORK = 4_000_000  # multiply-adds per column block of the similarity products
_MAX_FIT_THREADS = 4  # blocks in flight at once: each holds ~_BLOCK_WORK entries' arrays


def _cpu_count() -> int:
    """The CPUs this process may run on, at most `_MAX_FIT_THREADS`."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        n = os.cpu_count() or 1
    return max(1, min(n, _MAX_FIT_THREADS))


class ALSRecommender(FactorScoring, Recommender):
    """Implicit ALS (Hu, Koren, Volinsky 2008) via `implicit.cpu.als`, float32.

    Each interaction (every rating, or ratings >= `min_rating`) has confidence `alpha`; score =
    user factors . movie factors. Ad-hoc profiles and `score_rows` solve the user's factors
    against the fitted movie factors (the same least-squares step as a training iteration).
    """

    name: ClassVar[str] = "als"
    _params: ClassVar[tuple[str, ...]] = (
        "factors",
        "regularization",
        "alpha",
        "iterations",
        "min_rating",
        "seed",
    )

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.05,
        alpha: float = 2.0,
        iterations: int = 15,
        min_rating: float | None = None,
        seed: int = 0,
        rating_scale: tuple[float, float] | None = None,
    ) -> None:
        super().__init__(rating_scale)
        if factors < 1 or iterations < 1:
            raise ValueError(f"factors and iterations must be >= 1, got {factors}, {iterations}.")
        if regularization < 0 or alpha <= 0:
            raise ValueError(f"regularization >= 0 and alpha > 0, got {regularization}, {alpha}.")
        self.factors = int(factors)
        self.regularization = float(regularization)
        self.alpha = float(alpha)
        self.iterations = int(iterations)
        self.min_rating = None if min_rating is None else float(min_rating)
        self.seed = int(seed)
        self.user_factors = np.empty((0, self.factors), np.float32)
        self.item_factors = np.empty((0, self.factors), np.float32)

    def _fit(self, data: Interactions, catalogue: pd.DataFrame | None) -> None:
        from implicit.cpu.als import AlternatingLeastSquares

        X = data.binary_matrix(self.min_rating)
        # implicit warns (and is slow) unless BLAS runs one thread; it uses its own threads
        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                dtype=np.float32,
                random_state=self.seed,
            )
            model.fit(X, show_progress=False)
        self.user_factors = np.ascontiguousarray(model.user_factors, np.float32)
        self.item_factors = np.ascontiguousarray(model.item_factors, np.float32)

    budget_setting: ClassVar[str] = "model.als.factors"

    def estimate_fit_bytes(self, n_users: int, n_movies: int, n_ratings: int) -> int:
        # the user x movie matrix and its transpose (CSR, float32 + int32) and the factors
        return 2 * 12 * n_ratings + 3 * 4 * self.factors * (n_users + n_movies)

    def fold_in(self, rows: UserRows) -> np.ndarray:
        """User factors for histories (implicit's least-squares user step, in float64)."""
        base = self.item_gram() + self.regularization * np.eye(self.factors)
        out = np.zeros((rows.n_users, self.factors), np.float32)
        for k in range(rows.n_users):
            idx, r = rows.row(k)
            if self.min_rating is not None:
                idx = idx[r >= self.min_rating]
            if len(idx) == 0:
                continue
            Yk = self.item_factors[idx].astype(np.float64)
            conf = np.full(len(idx), self.alpha)
            A = base + (Yk.T * (conf - 1.0)) @ Yk
            out[k] = np.linalg.solve(A, Yk.T @ conf)
        return out


def _top_per_column(
    rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The k largest positive values of each column (ties: the lower row). The entries come in
    (column, row) order (a sorted CSC block's). No sort: each column with more than k entries
    finds its k-th largest value by a partition (columns of similar lengths padded together),
    keeps what is above it and, of the values equal to it, the first (lowest) rows."""
    ok = vals > 0
    rows, cols, vals = rows[ok], cols[ok], vals[ok]
    if len(cols) == 0:
        return rows, cols, vals
    starts = np.flatnonzero(np.concatenate([[True], cols[1:] != cols[:-1]]))
    lengths = np.diff(np.append(starts, len(cols)))
    long = np.flatnonzero(lengths > k)
    if len(long) == 0:
        return rows, cols, vals
    threshold = np.full(len(starts), -np.inf)  # short columns keep every entry
    bucket = np.log2(lengths[long]).astype(np.int64)  # lengths within 2x: padding < half
    for b in np.unique(bucket):
        members = long[bucket == b]
        width = int(lengths[members].max())
        offsets = np.arange(width)
        filled = offsets < lengths[members][:, None]
        padded = np.full((len(members), width), -np.inf)
        padded[filled] = vals[(starts[members][:, None] + offsets)[filled]]
        threshold[members] = np.partition(padded, width - k, axis=1)[:, width - k]
    column = np.repeat(np.arange(len(starts)), lengths)
    at = threshold[column]
    above = vals > at
    tie = vals == at
    room = k - np.bincount(column, weights=above, minlength=len(starts)).astype(np.int64)
    ties_before = np.cumsum(tie) - tie  # ties earlier in the block, then within the column
    tie_rank = ties_before - ties_before[starts][column]
    keep = above | (tie & (tie_rank < room[column]))
    return rows[keep], cols[keep], vals[keep]


def _on_pattern(pattern: sparse.csc_matrix, other: sparse.csc_matrix) -> np.ndarray:
    """`other`'s values at `pattern`'s entries (0 where `other` has none); both CSC, sorted,
    other's entries a subset of pattern's (sparse products drop exact zeros)."""
    if other.nnz == pattern.nnz and np.array_equal(other.indices, pattern.indices):
        return other.data.astype(np.float64, copy=False)  # no exact zero dropped: same pattern
    n = pattern.shape[0]
    key_p = np.repeat(np.arange(pattern.shape[1]), np.diff(pattern.indptr)) * n + pattern.indices
    key_o = np.repeat(np.arange(other.shape[1]), np.diff(other.indptr)) * n + other.indices
    out = np.zeros(len(key_p))
    out[np.searchsorted(key_p, key_o)] = other.data
    return out


def _product(left: sparse.csc_matrix, right: sparse.csr_matrix) -> sparse.csc_matrix:
    """left^T @ right[:, block] as an n x block CSC, computed as block^T @ right: the CSR product
    then walks only the users of the block's movies (cost ~ their history lengths), not every
    rating of the matrix once per block, which made the whole fit quadratic in the ratings."""
    out = (left.T.tocsr() @ right).tocsr()  # block x n; its rows are the block's columns
    # sorted by two linear transposes (CSC and back) rather than a comparison sort of each row
    out = out.tocsc().tocsr()
    return sparse.csc_matrix((out.data, out.indices, out.indptr), shape=out.shape[::-1])


class SparseItemKNNRecommender(ItemKNNRecommender):
    """`ItemKNNRecommender` with sparse, block-wise similarities (same scores and rating
    predictions when no user has more than `max_user_items` interactions)."""

    name: ClassVar[str] = "itemknn_sparse"
    _params: ClassVar[tuple[str, ...]] = (*ItemKNNRecommender._params, "max_user_items", "seed")

    def __init__(
        self,
        n_neighbours: int = 100,
        min_item_ratings: int = 2,
        rating_neighbours: int = 40,
        rating_pool: int = 200,
        pearson_shrinkage: float = 100.0,
        max_user_items: int | None = 500,
        seed: int = 0,
        rating_scale: tuple[float, float] | None = None,
        fit_threads: int | None = None,
    ) -> None:
        super().__init__(
            n_neighbours=n_neighbours,
            min_item_ratings=min_item_ratings,
            rating_neighbours=rating_neighbours,
            rating_pool=rating_pool,
            pearson_shrinkage=pearson_shrinkage,
            rating_scale=rating_scale,
        )
        if max_user_items is not None and max_user_items < 1:
            raise ValueError(f"max_user_items: must be >= 1 (or None), got {max_user_items}.")
        self.max_user_items = None if max_user_items is None else int(max_user_items)
        self.seed = int(seed)
        # not a model parameter (the fitted model is the same for any value)
        self.fit_threads = fit_threads if fit_threads is not None else _cpu_count()

    budget_setting: ClassVar[str] = "model.implicit.knn_max_user_items"

    def estimate_fit_bytes(self, n_users: int, n_movies: int, n_ratings: int) -> int:
        # X, R, R^2 in CSC and CSR (float64 + int32 indices), the frame's arrays, the kept
        # neighbours and one block's products (~_BLOCK_WORK entries, a few copies)
        used = n_ratings
        if self.max_user_items is not None:
            used = min(n_ratings, n_users * self.max_user_items)
        kept = 2 * 12 * n_movies * (self.n_neighbours + self.rating_pool)
        blocks = max(1, self.fit_threads)
        return 6 * 12 * used + 48 * n_ratings + kept + blocks * 10 * 24 * _BLOCK_WORK

    def _similarity_sample(self, data: Interactions) -> np.ndarray:
        """Mask of the ratings the similarities use: all, except a seeded sample of
        `max_user_items` for each heavier user."""
        keep = np.ones(len(data.user_idx), bool)
        cap = self.max_user_items
        counts = np.bincount(data.user_idx, minlength=data.n_users)
        if cap is None or counts.max(initial=0) <= cap:
            return keep
        rng = np.random.default_rng(self.seed)
        order = np.lexsort((rng.random(len(data.user_idx)), data.user_idx))
        first = np.searchsorted(data.user_idx[order], data.user_idx[order], side="left")
        keep[order] = (np.arange(len(order)) - first) < cap
        return keep

    def _fit(self, data: Interactions, catalogue: pd.DataFrame | None) -> None:
        n = data.n_movies
        self.global_mean, self.bu, self.bi = fit_baselines(data)
        keep = self._similarity_sample(data)
        u, i = data.user_idx[keep], data.movie_idx[keep]
        resid = (
            data.rating - (self.global_mean + self.bu[data.user_idx] + self.bi[data.movie_idx])
        )[keep]
        shape = (data.n_users, n)
        X = sparse.csc_matrix((np.ones(len(u)), (u, i)), shape=shape)
        R = sparse.csc_matrix((resid, (u, i)), shape=shape)
        R2 = R.multiply(R).tocsc()
        Xr, Rr, R2r = X.tocsr(), R.tocsr(), R2.tocsr()
        counts = np.asarray(X.sum(axis=0)).ravel()
        lengths = np.asarray(X.sum(axis=1)).ravel()
        # multiply-adds of column j in X^T X, summed: blocks of columns hold ~_BLOCK_WORK each
        cum = np.concatenate([[0.0], np.cumsum(X.T @ lengths)])
        bounds: list[tuple[int, int]] = []
        start = 0
        while start < n:
            stop = int(np.searchsorted(cum, cum[start] + _BLOCK_WORK, side="right")) - 1
            stop = min(max(stop, start + 1), n)
            bounds.append((start, stop))
            start = stop

        def block(bound: tuple[int, int]) -> tuple:
            return self._block(X, R, R2, Xr, Rr, R2r, counts, *bound)

        # blocks are independent and their sparse products, sorts and array passes release the
        # GIL: `fit_threads` of them at once, assembled in block order (the same matrices)
        threads = max(1, min(self.fit_threads, len(bounds)))
        if threads == 1:
            parts = [block(b) for b in bounds]
        else:
            with ThreadPoolExecutor(threads) as pool:
                parts = list(pool.map(block, bounds))
        rank_parts = [rank for rank, _ in parts]
        rate_parts = [rate for _, rate in parts]
        self.sim_rank = self._assemble(rank_parts, n).tocsr()
        self.sim_rate = self._assemble(rate_parts, n).tocsc()

    def _block(self, X, R, R2, Xr, Rr, R2r, counts, start: int, stop: int) -> tuple:
        """Similarities of the block's movies (columns start:stop) to every movie."""
        common = _product(X[:, start:stop], Xr)
        rows = common.indices.astype(np.int64)
        cols = np.repeat(np.arange(start, stop), np.diff(common.indptr))
        c = common.data
        not_self = rows != cols
        cos = c / np.sqrt(counts[rows] * counts[cols])
        rank = _top_per_column(rows[not_self], cols[not_self], cos[not_self], self.n_neighbours)
        num = _on_pattern(common, _product(R[:, start:stop], Rr))
        sq_i = _on_pattern(common, _product(X[:, start:stop], R2r))  # sum of res_ui^2 (row i)
        sq_j = _on_pattern(common, _product(R2[:, start:stop], Xr))  # ... of res_uj^2 (col j)
        with np.errstate(divide="ignore", invalid="ignore"):
            pearson = np.where(sq_i * sq_j > 0, num / np.sqrt(sq_i * sq_j), 0.0)
        shrunk = np.clip(c - 1, 0, None)
        pearson *= shrunk / (shrunk + self.pearson_shrinkage)
        rate = _top_per_column(rows[not_self], cols[not_self], pearson[not_self], self.rating_pool)
        return rank, rate

    def score_rows(self, rows: UserRows, candidates: np.ndarray | None = None) -> np.ndarray:
        self._check_fitted()
        ones = np.ones(len(rows.indices), np.float32)
        S = self.sim_rank if candidates is None else self.sim_rank[:, candidates]
        return np.asarray((rows.matrix(self.n_movies, ones) @ S).toarray(), np.float32)
