"""Implicit-feedback item models: EASE (Steck 2019) and a sparse item-item kNN."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.linalg import lapack

from movie_roulette.exceptions import MemoryBudgetError
from movie_roulette.models.base import Interactions, Recommender, fit_baselines
from movie_roulette.models.rows import index_arrays, row_entries, sum_rows

EASE_WEIGHTINGS = ("binary", "centered")
CENTERED_FLOOR = 0.1


def _kept_movies(
    data: Interactions, min_item_ratings: int, max_items: int | None = None
) -> np.ndarray | None:
    """Rows of the movies with at least `min_item_ratings` ratings and, of those, only the
    `max_items` with the most (ties: the lower id, i.e. the lower index); None = every row."""
    counts = np.bincount(data.movie_idx, minlength=data.n_movies)
    rated = counts > 0
    ok = rated & (counts >= min_item_ratings)
    if max_items is not None and int(ok.sum()) > max_items:
        order = np.lexsort((np.arange(len(counts)), -counts))  # most rated first
        top = order[ok[order]][:max_items]
        ok = np.zeros(len(counts), bool)
        ok[top] = True
    if np.array_equal(ok, rated):
        return None
    return ok[data.movie_idx]


def memory_budget_bytes(budget_gb: float | None) -> float:
    """The budget in bytes; None = the machine's physical memory."""
    if budget_gb is not None:
        return budget_gb * 2**30
    import psutil

    return float(psutil.virtual_memory().total)


# dense EASE holds up to this many items x items matrices at once (counted in `_fit`: the
# Gram matrix inverted in place, np.triu's copy and the transposed half while symmetrising, B)
EASE_PEAK_MATRICES = 4


def ease_fit_bytes(n_items: int, itemsize: int) -> int:
    return EASE_PEAK_MATRICES * n_items * n_items * itemsize


def _spd_inverse(matrix: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive-definite matrix via Cholesky (LAPACK potrf/potri), in the
    matrix's precision (float32 or float64)."""
    single = matrix.dtype == np.float32
    potrf, potri = (lapack.spotrf, lapack.spotri) if single else (lapack.dpotrf, lapack.dpotri)
    factor, info = potrf(matrix, lower=False, overwrite_a=True, clean=False)
    if info != 0:
        raise np.linalg.LinAlgError(f"Gram matrix is not positive definite (potrf info={info}).")
    inv, info = potri(factor, lower=False, overwrite_c=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"Cholesky inverse failed (potri info={info}).")
    upper = np.triu(inv)
    return upper + np.triu(inv, 1).T


class EASERecommender(Recommender):
    """Embarrassingly Shallow Autoencoder: B = I - P / diag(P), P = (X^T X + l2 I)^-1.

    X is the user x movie interaction matrix (all ratings, or only ratings >= `min_rating`),
    limited to movies with at least `min_item_ratings` ratings so the dense B stays small. Rarer
    movies are unknown to this model. Score of a user = x_u @ B (summed in float32). With
    `half_precision` B is computed in float32 LAPACK and rounded to float16 values (NDCG unchanged
    on ml-latest-small), held and stored as float32: numpy sums float16 rows ~3x slower, and a
    float32 file is memory-mapped as is, so the model server's workers share one copy of B in
    the page cache (a float16 file had to be widened into a private copy in every worker).

    `weighting` sets the entries of X: "binary" (1 per rating, Steck's original) or "centered"
    (1 + rating - the user's mean rating, floored at `CENTERED_FLOOR`: a movie the user liked
    more than usual counts more, one they disliked counts little but still counts as watched).

    `max_items` keeps only the movies with the most ratings (the others are unknown to it, left
    to the other components), so the N x N cost is bounded. Before building anything, a fit
    estimated to need more than `memory_budget_gb` (None: the machine's physical memory) stops
    with `MemoryBudgetError` naming the estimate and the setting to change.
    """

    name: ClassVar[str] = "ease"
    _params: ClassVar[tuple[str, ...]] = (
        "l2",
        "min_item_ratings",
        "min_rating",
        "half_precision",
        "weighting",
        "max_items",
        "memory_budget_gb",
    )

    def __init__(
        self,
        l2: float = 300.0,
        min_item_ratings: int = 2,
        min_rating: float | None = None,
        half_precision: bool = True,
        weighting: str = "binary",
        max_items: int | None = None,
        memory_budget_gb: float | None = None,
        rating_scale: tuple[float, float] | None = None,
    ) -> None:
        super().__init__(rating_scale)
        if max_items is not None and max_items < 1:
            raise ValueError(f"max_items: must be at least 1 (or None), got {max_items}.")
        self.max_items = None if max_items is None else int(max_items)
        self.memory_budget_gb = None if memory_budget_gb is None else float(memory_budget_gb)
        self.half_precision = bool(half_precision)
        if l2 <= 0:
            raise ValueError(f"l2: must be > 0, got {l2}.")
        if weighting not in EASE_WEIGHTINGS:
            raise ValueError(f"weighting: {weighting!r} is not one of {list(EASE_WEIGHTINGS)}.")
        self.weighting = weighting
        self.l2 = float(l2)
        self.min_item_ratings = int(min_item_ratings)
        self.min_rating = None if min_rating is None else float(min_rating)
        self.B = np.empty((0, 0), np.float32)

    def _keep_rows(self, data: Interactions) -> np.ndarray | None:
        return _kept_movies(data, self.min_item_ratings, self.max_items)

    budget_setting: ClassVar[str] = "model.implicit.ease_max_items"

    def estimate_fit_bytes(self, n_users: int, n_movies: int, n_ratings: int) -> int:
        n = n_movies if self.max_items is None else min(n_movies, self.max_items)
        itemsize = 4 if self.half_precision else 8
        return ease_fit_bytes(n, itemsize) + super().estimate_fit_bytes(n_users, 0, n_ratings)

    def check_memory(self, n_items: int) -> None:
        """Raise MemoryBudgetError when a fit on `n_items` movies would exceed the budget."""
        itemsize = 4 if self.half_precision else 8
        need, budget = ease_fit_bytes(n_items, itemsize), memory_budget_bytes(self.memory_budget_gb)
        if need <= budget:
            return
        fits = int((budget / (EASE_PEAK_MATRICES * itemsize)) ** 0.5)
        where = (
            f"the memory budget of {budget / 2**30:.1f} GB (model.memory_budget_gb)"
            if self.memory_budget_gb is not None
            else f"this machine's {budget / 2**30:.1f} GB of memory"
        )
        raise MemoryBudgetError(
            f"EASE on {n_items} movies needs about {need / 2**30:.1f} GB while fitting "
            f"({EASE_PEAK_MATRICES} x {n_items}^2 x {itemsize} bytes), more than {where}. "
            f"Set model.implicit.ease_max_items (now {self.max_items}) to at most {fits}: EASE "
            "then models the movies with the most ratings and leaves the rest to the other "
            "components; or raise model.memory_budget_gb."
        )

    def _entries(self, user_idx: np.ndarray, ratings: np.ndarray, n_users: int) -> np.ndarray:
        """The values of X for one block of ratings (see `weighting`)."""
        if self.weighting == "binary":
            return np.ones(len(ratings))
        sums = np.bincount(user_idx, ratings, minlength=n_users)
        counts = np.maximum(np.bincount(user_idx, minlength=n_users), 1)
        return np.maximum(1.0 + ratings - (sums / counts)[user_idx], CENTERED_FLOOR)

    def _fit(self, data: Interactions, catalogue: pd.DataFrame | None) -> None:
        self.check_memory(data.n_movies)
        keep = np.ones(len(data.rating), bool)
        if self.min_rating is not None:
            keep = data.rating >= self.min_rating
        u, i, r = data.user_idx[keep], data.movie_idx[keep], data.rating[keep]
        values = self._entries(u, r, data.n_users)
        X = sparse.csr_matrix((values, (u, i)), shape=(data.n_users, data.n_movies))
        # float32 LAPACK when B is kept in float16 anyway (about 2x faster, half the memory;
        # the ridge keeps the Gram matrix well conditioned); float64 otherwise
        dtype = np.float32 if self.half_precision else np.float64
        gram = np.asarray((X.T @ X).toarray(), dtype)
        gram[np.diag_indices_from(gram)] += self.l2
        P = _spd_inverse(gram)
        B = P / (-np.diag(P))[None, :]
        B[np.diag_indices_from(B)] = 0.0
        if self.half_precision:
            B = B.astype(np.float16)
        self.B = B.astype(np.float32)

    def _profile_rows(
        self, movie_idx: np.ndarray, ratings: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The rows of B a profile sums, and their weights (None: binary, all 1)."""
        ratings = np.asarray(ratings, np.float64)
        if self.min_rating is not None:
            keep = ratings >= self.min_rating
            movie_idx, ratings = movie_idx[keep], ratings[keep]
        if self.weighting == "binary":
            return movie_idx, None
        return movie_idx, self._entries(np.zeros(len(ratings), np.int64), ratings, 1).astype(
            np.float32
        )

    def _score_profile(self, movie_idx: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        rows, w = self._profile_rows(movie_idx, ratings)
        if len(rows) == 0:
            return np.zeros(self.n_movies, np.float32)
        return sum_rows(self.B, rows, w)

    def _score_at(self, user_idx: int, movie_idx: np.ndarray) -> np.ndarray:
        """Only the columns of B asked for: ~#rated x len(movie_idx) values instead of
        ~#rated x n_movies. Sums may differ from `_score_all`'s in the last float32 bit."""
        rows, w = self._profile_rows(*self.seen(user_idx))
        if len(rows) == 0:
            return np.zeros(len(movie_idx), np.float32)
        block = self.B[np.ix_(rows, np.asarray(movie_idx, np.int64))]
        return block.sum(axis=0) if w is None else w @ block

    def _get_arrays(self) -> dict[str, np.ndarray]:
        return {"B": self.B}

    def _set_state(self, meta: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        B = np.asarray(arrays["B"])
        # float32 (the mapped file itself); float16 in bundles written before, widened once
        self.B = B if B.dtype == np.float32 else B.astype(np.float32)


class ItemKNNRecommender(Recommender):
    """Item-item kNN on implicit feedback, with a KNNBaseline-style rating predictor.

    * Ranking: cosine similarity of the binary movie columns, each movie keeps its
      `n_neighbours` most similar movies (sparse); score(u, i) = sum of sim(i, j) over the
      user's movies j.
    * Ratings: baseline (mu + bu + bi, ALS as in surprise BaselineOnly) plus the
      similarity-weighted mean residual over the `rating_neighbours` most similar movies the user
      rated, with shrunk pearson-baseline similarities (like surprise KNNBaseline, item-based);
      each movie keeps its `rating_pool` best positive neighbours.
    """

    name: ClassVar[str] = "itemknn"
    predicts_ratings: ClassVar[bool] = True
    _params: ClassVar[tuple[str, ...]] = (
        "n_neighbours",
        "min_item_ratings",
        "rating_neighbours",
        "rating_pool",
        "pearson_shrinkage",
    )

    def __init__(
        self,
        n_neighbours: int = 100,
        min_item_ratings: int = 2,
        rating_neighbours: int = 40,
        rating_pool: int = 200,
        pearson_shrinkage: float = 100.0,
        rating_scale: tuple[float, float] | None = None,
    ) -> None:
        super().__init__(rating_scale)
        self.n_neighbours = int(n_neighbours)
        self.min_item_ratings = int(min_item_ratings)
        self.rating_neighbours = int(rating_neighbours)
        self.rating_pool = int(rating_pool)
        self.pearson_shrinkage = float(pearson_shrinkage)
        self.sim_rank = sparse.csr_matrix((0, 0), dtype=np.float32)
        self.sim_rate = sparse.csc_matrix((0, 0), dtype=np.float32)
        self.global_mean = 0.0
        self.bu = np.empty(0)
        self.bi = np.empty(0)

    budget_setting: ClassVar[str] = "model.component_set (scalable: sparse item-kNN)"
    DENSE_BLOCK: ClassVar[int] = 1024  # movies per dense similarity block

    def estimate_fit_bytes(self, n_users: int, n_movies: int, n_ratings: int) -> int:
        # a few n x block float64 blocks at once, plus the kept neighbours
        block = 6 * 8 * n_movies * min(n_movies, self.DENSE_BLOCK)
        kept = 12 * n_movies * (self.n_neighbours + self.rating_pool)
        return block + kept + super().estimate_fit_bytes(n_users, 0, n_ratings)

    def _keep_rows(self, data: Interactions) -> np.ndarray | None:
        return _kept_movies(data, self.min_item_ratings)

    @staticmethod
    def _keep_top(block: np.ndarray, k: int, cols: np.ndarray, positive: bool) -> tuple:
        """Top-k rows per column of a dense block -> COO triplets (row, col, value)."""
        n = block.shape[0]
        k = min(k, n)
        if k < n:
            top = np.argpartition(-block, k - 1, axis=0)[:k]
        else:
            top = np.repeat(np.arange(n)[:, None], block.shape[1], axis=1)
        vals = np.take_along_axis(block, top, axis=0)
        ok = vals > 0 if positive else vals != 0
        col_idx = np.broadcast_to(cols[None, :], top.shape)
        return top[ok], col_idx[ok], vals[ok]

    def _fit(self, data: Interactions, catalogue: pd.DataFrame | None) -> None:
        n = data.n_movies
        self.global_mean, self.bu, self.bi = fit_baselines(data)
        X = data.binary_matrix().astype(np.float64).tocsc()
        resid = data.rating - (self.global_mean + self.bu[data.user_idx] + self.bi[data.movie_idx])
        R = sparse.csc_matrix((resid, (data.user_idx, data.movie_idx)), shape=X.shape)
        R2 = R.multiply(R).tocsc()
        XT, RT, R2T = X.T.tocsr(), R.T.tocsr(), R2.T.tocsr()
        counts = np.asarray(X.sum(axis=0)).ravel()
        rank_parts: list[tuple] = []
        rate_parts: list[tuple] = []
        block_size = 1024
        for start in range(0, n, block_size):
            cols = np.arange(start, min(start + block_size, n))
            common = (XT @ X[:, cols]).toarray()
            cos = common / np.sqrt(np.outer(counts, counts[cols]))
            cos[cols, np.arange(len(cols))] = 0.0
            rank_parts.append(self._keep_top(cos, self.n_neighbours, cols, positive=True))
            num = (RT @ R[:, cols]).toarray()
            sq_i = (R2T @ X[:, cols]).toarray()  # sum over common users of res_ui^2 (row item)
            sq_j = (XT @ R2[:, cols]).toarray()  # ... of res_uj^2 (column item)
            with np.errstate(divide="ignore", invalid="ignore"):
                pearson = np.where(sq_i * sq_j > 0, num / np.sqrt(sq_i * sq_j), 0.0)
            shrink = np.clip(common - 1, 0, None) / (
                np.clip(common - 1, 0, None) + self.pearson_shrinkage
            )
            pearson *= shrink
            pearson[cols, np.arange(len(cols))] = 0.0
            rate_parts.append(self._keep_top(pearson, self.rating_pool, cols, positive=True))
        self.sim_rank = self._assemble(rank_parts, n).tocsr()
        self.sim_rate = self._assemble(rate_parts, n).tocsc()

    @staticmethod
    def _assemble(parts: list[tuple], n: int) -> sparse.coo_matrix:
        rows = np.concatenate([p[0] for p in parts]) if parts else np.empty(0, np.int64)
        cols = np.concatenate([p[1] for p in parts]) if parts else np.empty(0, np.int64)
        vals = np.concatenate([p[2] for p in parts]) if parts else np.empty(0)
        return sparse.coo_matrix((vals.astype(np.float32), (rows, cols)), shape=(n, n))

    def _score_profile(self, movie_idx: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        if len(movie_idx) == 0:
            return np.zeros(self.n_movies)
        # the sum of the profile movies' rows of sim_rank: only their ~n_neighbours entries
        # each are read (a mat-vec with the transposed matrix read all of them): the same
        # float32 additions in the same order (profile movies ascending), bit for bit
        S = self.sim_rank
        take, _ = row_entries(S.indptr, np.unique(movie_idx))
        out = np.zeros(self.n_movies, np.float32)
        np.add.at(out, S.indices[take], S.data[take])
        return out

    def _predict_ratings(self, user_idx: int, movie_idx: np.ndarray) -> np.ndarray:
        movie_idx = np.asarray(movie_idx, np.int64)
        base = self.global_mean + self.bu[user_idx] + self.bi[movie_idx]
        rated, r = self.seen(user_idx)
        resid = np.full(self.n_movies, np.nan)
        resid[rated] = r - (self.global_mean + self.bu[user_idx] + self.bi[rated])
        out = base.copy()
        S = self.sim_rate
        k = self.rating_neighbours
        for pos, i in enumerate(movie_idx):
            a, b = S.indptr[i], S.indptr[i + 1]
            nb, sims = S.indices[a:b], S.data[a:b]
            d = resid[nb]
            ok = ~np.isnan(d)
            if not ok.any():
                continue
            sims, d = sims[ok], d[ok]
            if len(sims) > k:
                top = np.argpartition(-sims, k - 1)[:k]
                sims, d = sims[top], d[top]
            out[pos] = base[pos] + float(sims @ d) / float(sims.sum())
        return out

    def _get_extra_meta(self) -> dict[str, Any]:
        return {"global_mean": self.global_mean}

    def _get_arrays(self) -> dict[str, np.ndarray]:
        rank_indices, rank_indptr = index_arrays(self.sim_rank)
        rate_indices, rate_indptr = index_arrays(self.sim_rate)
        return {
            "rank_data": self.sim_rank.data,
            "rank_indices": rank_indices,
            "rank_indptr": rank_indptr,
            "rate_data": self.sim_rate.data,
            "rate_indices": rate_indices,
            "rate_indptr": rate_indptr,
            "bu": self.bu,
            "bi": self.bi,
        }

    def _set_state(self, meta: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        n = len(self.movie_ids)
        self.global_mean = float(meta["extra"]["global_mean"])
        self.sim_rank = sparse.csr_matrix(
            (arrays["rank_data"], arrays["rank_indices"], arrays["rank_indptr"]), shape=(n, n)
        )
        self.sim_rate = sparse.csc_matrix(
            (arrays["rate_data"], arrays["rate_indices"], arrays["rate_indptr"]), shape=(n, n)
        )
        self.bu = np.asarray(arrays["bu"], np.float64)
        self.bi = np.asarray(arrays["bi"], np.float64)
