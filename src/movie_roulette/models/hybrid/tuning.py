"""Blend-weight search: coordinate search over a weight grid maximising NDCG@k on a seeded
sample of validation users, with the NDCG of `evaluation.metrics` (the one the offline
evaluation reports) over the ranked list the hybrid would serve (ties: the lower movie id).

Each user is scored on a candidate set, the union of every component's top-`pool` unseen movies
(a movie outside all of them is assumed never to reach the blended top-k), so the search holds
components x users x (at most components x pool) float32 values, never users x catalogue."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from movie_roulette.evaluation import metrics as M
from movie_roulette.evaluation.sampling import sample_users

WEIGHT_GRID = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0)
SEARCH_POOL = 100  # per user, the union of every component's top-100 movies
CHUNK_USERS = 64  # users scored at once (components x chunk x catalogue float64 in memory)

# (user ids) -> ({component: users x movies z-scores over the blend's movies}, candidate mask)
ZRows = Callable[[np.ndarray], tuple[dict[str, np.ndarray], np.ndarray]]


@dataclass(frozen=True)
class SearchSet:
    """Per user the candidate movies (positions, ascending; -1 = padding) and every
    component's z-scores there."""

    names: list[str]
    z: np.ndarray  # float32, components x users x width
    cols: np.ndarray  # int64, users x width
    top_z: dict[str, float]  # median over users of each component's top candidate z


def build_search_set(
    names: Sequence[str], z_rows: ZRows, users: np.ndarray, pool: int = SEARCH_POOL
) -> SearchSet:
    blocks: list[tuple[np.ndarray, np.ndarray]] = []
    tops: dict[str, list[np.ndarray]] = {n: [] for n in names}
    for start in range(0, len(users), CHUNK_USERS):
        z, candidates = z_rows(users[start : start + CHUNK_USERS])
        n_movies = candidates.shape[1]
        lists = []
        for name in names:
            zn = np.where(candidates, z[name], -np.inf)
            tops[name].append(zn.max(axis=1))
            m = min(pool, n_movies)
            top = np.argpartition(-zn, m - 1, axis=1)[:, :m] if m < n_movies else None
            lists.append(top)
        rows = []
        for r in range(candidates.shape[0]):
            if lists[0] is None:
                cols = np.flatnonzero(candidates[r])
            else:
                cols = np.unique(np.concatenate([t[r] for t in lists]))
                cols = cols[candidates[r, cols]]
            rows.append(cols)
        width = max((len(c) for c in rows), default=0)
        take = np.full((len(rows), width), -1, np.int64)
        for r, cols in enumerate(rows):
            take[r, : len(cols)] = cols
        safe = np.maximum(take, 0)
        zb = np.stack([np.take_along_axis(z[name], safe, axis=1) for name in names]).astype(
            np.float32
        )
        zb[:, take < 0] = 0.0
        blocks.append((zb, take))
    width = max((b[1].shape[1] for b in blocks), default=0)
    z_all = np.zeros((len(names), len(users), width), np.float32)
    cols_all = np.full((len(users), width), -1, np.int64)
    row = 0
    for zb, take in blocks:
        n, w = take.shape
        z_all[:, row : row + n, :w] = zb
        cols_all[row : row + n, :w] = take
        row += n
    top_z = {n: float(np.median(np.concatenate(tops[n]))) for n in names} if len(users) else {}
    return SearchSet(list(names), z_all, cols_all, top_z)


def ranked(search: SearchSet, weights: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per user, the top-k of the candidate set under `weights`: (users x k indices into the
    candidate columns, users x k mask of real entries), best first, ties broken by the lower
    movie position as `models.base.top_k_indices` breaks them (i.e. as served). The blend is
    summed in float32 over the components with a weight."""
    n_users, width = search.cols.shape
    total = np.zeros((n_users, width), np.float32)
    for c in np.flatnonzero(weights):
        total += np.float32(weights[c]) * search.z[c]
    total[search.cols < 0] = -np.inf
    k = min(k, width)
    if k == 0:
        return np.zeros((n_users, 0), np.int64), np.zeros((n_users, 0), bool)
    # the k best by score, ordered by (score desc, column asc): the columns hold ascending
    # positions. Rows with ties at the k-th score are sorted in full (a stable sort keeps the
    # lower position first among equal scores).
    part = np.argpartition(-total, k - 1, axis=1)[:, :k]
    vals = np.take_along_axis(total, part, axis=1)
    top = np.take_along_axis(part, np.lexsort((part, -vals), axis=1), axis=1)
    tied = (total >= vals.min(axis=1)[:, None]).sum(axis=1) > k
    if tied.any():
        top[tied] = np.argsort(-total[tied], axis=1, kind="stable")[:, :k]
    return top, np.isfinite(np.take_along_axis(total, top, axis=1))


def relevance_mask(search: SearchSet, relevant_positions: Sequence[np.ndarray]) -> np.ndarray:
    """users x candidate columns: is the movie there one of the user's relevant movies."""
    mask = np.zeros(search.cols.shape, bool)
    for r, pos in enumerate(relevant_positions):
        mask[r] = np.isin(search.cols[r], pos) & (search.cols[r] >= 0)
    return mask


def mean_ndcg(
    search: SearchSet, weights: np.ndarray, relevant: np.ndarray, n_relevant: np.ndarray, k: int
) -> float:
    """Mean NDCG@k over the users of the search set: `evaluation.metrics.ndcg_from_hits`, the
    vectorised `ndcg_at_k` (`relevant`: `relevance_mask`; `n_relevant`: each user's number of
    relevant movies, known to the model or not, as the offline evaluation counts them)."""
    top, real = ranked(search, weights, k)
    if top.shape[0] == 0:
        return 0.0
    hits = np.take_along_axis(relevant, top, axis=1) & real
    return float(np.mean(M.ndcg_from_hits(hits, n_relevant, k)))


def coordinate_search(
    evaluate: Callable[[np.ndarray], float], n: int, rounds: int = 3
) -> tuple[np.ndarray, float, list[float]]:
    """Start from the best single component, then change one weight at a time over
    `WEIGHT_GRID` while NDCG improves. Returns (weights, best score, single scores)."""
    single = []
    for c in range(n):
        w = np.zeros(n)
        w[c] = 1.0
        single.append(evaluate(w))
    w = np.zeros(n)
    w[int(np.argmax(single))] = 1.0
    best = max(single)
    for _ in range(rounds):
        improved = False
        for c in range(n):
            for value in WEIGHT_GRID:
                if value == w[c]:
                    continue
                trial = w.copy()
                trial[c] = value
                if not trial.any():
                    continue
                score = evaluate(trial)
                if score > best + 1e-6:
                    best, w, improved = score, trial, True
        if not improved:
            break
    return w, best, single


def search_weights(
    names: Sequence[str],
    z_rows: ZRows,
    relevant_by_user: Mapping[int, set[int]],
    movie_positions: Callable[[np.ndarray], np.ndarray],
    k: int,
    max_users: int | None,
    seed: int,
) -> tuple[dict[str, float], dict[str, float], dict[str, Any]]:
    """(weights, top_z, info) chosen on a seeded sample of the users in `relevant_by_user`
    ({user id: relevant movie ids}); `movie_positions` maps movie ids to the blend's positions
    (-1: unknown)."""
    users = sample_users(np.fromiter(relevant_by_user, np.int64), max_users, seed)
    if len(users) == 0:
        return {}, {}, {"valid_users": 0}
    search = build_search_set(names, z_rows, users)
    relevant_ids = [np.fromiter(relevant_by_user[int(u)], np.int64) for u in users]
    n_relevant = np.array([len(ids) for ids in relevant_ids], np.int64)
    relevant = relevance_mask(search, [movie_positions(ids) for ids in relevant_ids])

    def evaluate(w: np.ndarray) -> float:
        return mean_ndcg(search, w, relevant, n_relevant, k)

    w, best, single = coordinate_search(evaluate, len(names))
    weights = {name: float(w[c]) for c, name in enumerate(names)}
    info = {
        "valid_users": len(users),
        "search_width": int(search.cols.shape[1]),
        f"valid_ndcg@{k}": best,
        **{f"valid_ndcg@{k}_{n}": v for n, v in zip(names, single, strict=True)},
        "weights": dict(weights),
        "top_z": dict(search.top_z),
    }
    return weights, search.top_z, info
