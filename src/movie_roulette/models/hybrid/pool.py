"""A known user's recommendations scored over a head pool of the most-rated movies.

At 25M ratings (62,000 movies) the ALS and content mat-vecs over the whole catalogue were ~40 %
of a served request, and no served top-10 of 1,000 sampled users reached past popularity rank
3,553 (`benchmarks/candidate_pool.py`, docs/scale.md 6k). With the hybrid's `serve_pool` = P,
`recommend_items` for a known user scores only the P most-rated movies (by the model's training
interactions):

* the blend stays the whole catalogue's. Each component's z-statistics are over every movie but
  the user's seen ones, as in `fused`. A linear component (`linear_form`: ALS, content; scores
  `M @ q`) gets them without scoring every movie: sum = q . colsum(M), sum of squares =
  q^T (M^T M) q, minus the seen movies' scores `M[seen] @ q`. The other components are scored
  and blended as before (`fused.fused_blend`: its passes over the whole catalogue cost less
  than gathering the pool's movies from each component), then read at the pool's movies;
* the top-k is taken from the pool's movies. The picks are the whole catalogue's whenever those
  all rank < P by popularity; otherwise a pick outside the pool is replaced by the next best
  inside it (the approximation `serve_pool` accepts);
* the whole catalogue is scored instead when the pool has fewer than k movies to offer (a genre
  the head lacks) or a linear component's variance is too small to take from sums;
* the pool is used only when it leaves out at least `MIN_LEFT_OUT` movies. The scans it saves
  cost ~34 ns a movie, against ~0.5 ms of fixed work a request (the seen movies' scores, the
  sums, the reads at the pool): at 12,400 movies (5M ratings) pools of 3,000, 5,000 and 10,000
  were all slower than the whole catalogue (1.67 against 1.49 ms, 1.28 against 1.15, 1.88
  against 1.39; `benchmarks/candidate_pool.py`), at 62,000 movies a pool of 10,000 took 0.6x.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from movie_roulette.models.base import top_k_indices
from movie_roulette.models.hybrid import fused
from movie_roulette.models.rows import rows_dot
from movie_roulette.results import RecommendedItem

MIN_LEFT_OUT = 20_000  # movies a pool must leave out to pay for itself (see the module doc)
# a sparse linear form this narrow gets a dense float32 head: content's 45 features at 25M, a
# 10,000 x 45 head read as CSR (float64 values, int32 indices) took 0.21 ms a request, dense
# float32 (1.8 MB) 0.07 ms (docs/scale.md 6l)
DENSE_HEAD_WIDTH = 256


def most_rated(ui_indices: np.ndarray, n_movies: int) -> np.ndarray:
    """Movie positions by training interactions, most rated first (ties: the lower position)."""
    return np.argsort(-np.bincount(ui_indices, minlength=n_movies), kind="stable")


def pays(size: int | None, n_movies: int) -> bool:
    """Whether a pool of `size` movies is used for a catalogue of `n_movies`."""
    return size is not None and n_movies - size >= MIN_LEFT_OUT


@dataclass(frozen=True)
class LinearPart:
    """A linear component's arrays for the pool: `head` its rows at the pool's movies (pool
    order), `rows` its own matrix, `source` each blend position's row in it (None: the same),
    `colsum` and `gram` (float64) over the blend's movies."""

    head: Any
    rows: Any
    source: np.ndarray | None
    colsum: np.ndarray
    gram: np.ndarray

    @classmethod
    def of(cls, matrix: Any, source: np.ndarray | None, pool: np.ndarray) -> LinearPart:
        aligned = matrix if source is None else matrix[source]
        if sparse.issparse(aligned):
            aligned = sparse.csr_matrix(aligned, dtype=np.float64)
            colsum = np.asarray(aligned.sum(axis=0)).ravel()
            gram = (aligned.T @ aligned).toarray()
            head = aligned[pool]
            head = head.toarray().astype(np.float32) if head.shape[1] <= DENSE_HEAD_WIDTH else head
        else:
            wide = np.asarray(aligned, np.float64)
            colsum, gram = wide.sum(axis=0), wide.T @ wide
            head = np.ascontiguousarray(aligned[pool])
        return cls(head, matrix, source, colsum, gram)

    def head_scores(self, q: np.ndarray) -> np.ndarray:
        """Scores (float64) at the pool's movies; a dense head in its own precision (a float64
        query would copy a float32 head to float64 first)."""
        if isinstance(self.head, np.ndarray):
            q = np.asarray(q, self.head.dtype)
        return np.asarray(self.head @ q, np.float64).ravel()

    def at(self, positions: np.ndarray, q: np.ndarray) -> np.ndarray:
        """Scores (float64) at blend positions."""
        return rows_dot(self.rows, positions if self.source is None else self.source[positions], q)

    def zmap(self, q: np.ndarray, excluded: np.ndarray, n_movies: int) -> fused.ZMap | None:
        """The z-map over every blend movie but `excluded`, from sums (see the module doc).
        Raises `ArithmeticError` where the one-pass variance would lose digits."""
        if not np.any(q):
            return None  # every score 0: no spread, z = 0 (as `fused.zmap`)
        n = n_movies - len(excluded)
        if n < 2:
            return None
        q64 = np.asarray(q, np.float64)
        out = self.at(excluded, q)
        total = float(self.colsum @ q64) - float(out.sum())
        squares = float(q64 @ self.gram @ q64) - float(out @ out)
        mean = total / n
        var = squares / n - mean * mean
        if not math.isfinite(var) or var <= fused._CANCELLATION * max(mean * mean, 1e-300):
            raise ArithmeticError("variance too small to take from sums")
        std = math.sqrt(var)
        return None if std <= 1e-12 else fused.ZMap(mean, std, math.nan)


class HeadPool:
    """The pool of a fitted hybrid (built once, on its first request). `model` arguments are
    the fitted `HybridRecommender` (typed Any: models/hybrid/model.py imports this module)."""

    def __init__(self, model: Any, size: int) -> None:
        self.positions = np.sort(most_rated(model._ui_indices, model.n_movies)[:size])
        self.linear: dict[str, LinearPart] = {}
        for name, comp in model.components.items():
            al = model._alignments[name]
            if model.weights.get(name, 0.0) == 0.0 or not comp.personal:
                continue
            if al.scale != "raw" or len(al.unknown):  # scaled, or some movie unknown: not linear
                continue
            matrix = comp.linear_form()
            if matrix is not None:
                source = None if al.identity else al.source
                self.linear[name] = LinearPart.of(matrix, source, self.positions)

    def recommend(
        self,
        model: Any,
        user_id: int,
        seen: np.ndarray,
        k: int,
        exclude_seen: bool,
        genre: np.ndarray | None,
    ) -> list[RecommendedItem] | None:
        """The top-k from the pool, or None: score the whole catalogue instead."""
        pool = self.positions
        if exclude_seen and len(seen):
            blocked = np.zeros(model.n_movies, bool)
            blocked[seen] = True
            eligible = ~blocked[pool]
        else:
            eligible = np.ones(len(pool), bool)
        if genre is not None:
            eligible &= genre[pool]
        if int(eligible.sum()) < k:
            return None
        linear = {
            n: part
            for n, part in self.linear.items()
            if model.weights.get(n, 0.0) != 0.0 and model.components[n].knows_user(user_id)
        }
        own = model._own_scores(user_id, ranking=True, skip=set(linear))
        mixed = fused.fused_blend(own, model.weights, model._alignments, model.n_movies, seen)
        scores = mixed.total[pool] + mixed.offset
        queries, maps = {}, {}
        for name, part in linear.items():
            comp = model.components[name]
            q = comp.linear_query(comp.user_index(user_id))
            try:
                zm = part.zmap(q, seen, model.n_movies)
            except ArithmeticError:
                return None
            queries[name], maps[name] = q, zm
            if zm is not None:
                a = model.weights[name] * zm.factor / zm.std
                scores += a * (part.head_scores(q) - zm.mean)
        scores[~eligible] = -np.inf
        top = top_k_indices(scores, k, finite=True)
        picks = pool[top]
        z = mixed.z_at(model._alignments, picks)
        for name, zm in maps.items():
            part = self.linear[name]
            z[name] = np.zeros(len(picks)) if zm is None else zm.z(part.at(picks, queries[name]))
        return model._picked(picks, scores[top], {n: z[n] for n in model.components if n in z})
