"""How deep into the catalogue a served recommendation reaches, and what scoring only a head
pool of the most-rated movies would save: the measurement behind candidate-set serving.

    python benchmarks/candidate_pool.py --bundle /tmp/bundle-25m --users 1000 --json

A known user's served top-k (`recommend_items`, the blend z-scored over every unseen movie) is
computed exactly for a sample of users; each pick's popularity rank (by the model's training
interactions, 0 = most rated) is recorded. If the blend's z-statistics stay those of the whole
catalogue (they can be computed exactly from the linear components' column sums and Gram
matrices), scoring only the `P` most-rated movies changes an answer only where a pick ranks
>= P: so the picks' ranks tell which pool is lossless for these users, with or without a genre
filter (`--genre-share`: that share of requests ask for one random genre of the catalogue).

The cost side, timed per request on one BLAS thread (`time.process_time`, CPU): the ALS
mat-vec and content's sparse mat-vec over the whole catalogue as served, and a dense float32
mat-vec of the two stacked ([factors | content features]: one pass for both) over the whole
catalogue and over each head pool (rows in popularity order, contiguous). `--serve-pool P`
serves the same users with the hybrid's `serve_pool` = P (models/hybrid/pool.py) and without,
and reports how many answers are identical and the CPU of `recommend_items` each way.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def popularity_rank(model: Any) -> np.ndarray:
    """Each movie position's rank by training interactions (0 = most rated; stable ties)."""
    from movie_roulette.models.hybrid.pool import most_rated

    order = most_rated(model._ui_indices, model.n_movies)
    rank = np.empty(model.n_movies, np.int64)
    rank[order] = np.arange(model.n_movies)
    return rank


def pick_ranks(
    model: Any, users: np.ndarray, k: int, genre_share: float, seed: int
) -> dict[str, np.ndarray]:
    """The popularity ranks of each sampled user's exact top-k picks, by request kind."""
    rank = popularity_rank(model)
    position = {int(m): i for i, m in enumerate(model.movie_ids)}
    genres = sorted({g for gs in model._genre_sets for g in gs}) if genre_share else []
    rng = np.random.default_rng(seed + 1)
    out: dict[str, list[int]] = {"all genres": [], "one genre": []}
    for user in users:
        genre = str(rng.choice(genres)) if genres and rng.random() < genre_share else None
        recs = model.recommend_items(int(user), k=k, genre=genre)
        kind = "all genres" if genre is None else "one genre"
        out[kind].extend(int(rank[position[it.movie_id]]) for it in recs.items)
    return {kind: np.asarray(r, np.int64) for kind, r in out.items() if r}


def summary(ranks: np.ndarray, pools: list[int]) -> dict[str, Any]:
    return {
        "picks": len(ranks),
        "rank_p50": float(np.percentile(ranks, 50)),
        "rank_p99": float(np.percentile(ranks, 99)),
        "rank_p99_9": float(np.percentile(ranks, 99.9)),
        "rank_max": int(ranks.max()),
        "picks_inside_pool": {str(p): round(float((ranks < p).mean()), 5) for p in pools},
    }


def scan_costs(model: Any, users: np.ndarray, pools: list[int]) -> dict[str, float]:
    """CPU ms per request of the linear components' catalogue scans, as served and stacked."""
    als, content = model.components.get("als"), model.components.get("content")
    if als is None or content is None:
        return {}
    factors = np.ascontiguousarray(als.item_factors)
    matrix = content._scoring_matrix()
    order = np.argsort(popularity_rank(model), kind="stable")  # positions, most rated first
    # the hybrid's movie positions; both components know every movie in the same order here
    if len(factors) != model.n_movies or matrix.shape[0] != model.n_movies:
        return {}
    stacked = np.hstack([factors, matrix.toarray().astype(np.float32)])[order]
    spent: dict[str, float] = {}

    def timed(name: str, work: Any) -> None:
        started = time.process_time()
        work()
        spent[name] = spent.get(name, 0.0) + time.process_time() - started

    q = np.zeros(stacked.shape[1], np.float32)
    for user in users:
        u = als.user_factors[als.user_index(int(user))]
        p = np.random.default_rng(int(user)).random(matrix.shape[1])
        q[: len(u)], q[len(u) :] = u, p
        timed("als mat-vec, whole catalogue", lambda u=u: factors @ u)
        timed("content sparse mat-vec, whole catalogue", lambda p=p: matrix @ p)
        timed("stacked float32 mat-vec, whole catalogue", lambda: stacked @ q)
        for pool in pools:
            head = stacked[:pool]
            timed(f"stacked float32 mat-vec, head {pool}", lambda head=head: head @ q)
    return {name: round(1000 * s / len(users), 3) for name, s in spent.items()}


def served_with_pool(model: Any, users: np.ndarray, pool: int, k: int) -> dict[str, Any]:
    """The served answers with `serve_pool` = pool against the whole catalogue's, on the same
    users: identical lists, overlap, and CPU ms per `recommend_items` each way."""
    saved = model.serve_pool
    answers: dict[str, list[list[int]]] = {}
    cpu: dict[str, float] = {}
    try:
        for label, size in (("whole catalogue", None), (f"pool {pool}", pool)):
            model.serve_pool = size
            model.recommend_items(int(users[0]), k=k)  # builds the pool (once per model)
            started = time.process_time()
            answers[label] = [model.recommend_items(int(u), k=k).movie_ids for u in users]
            cpu[label] = round(1000 * (time.process_time() - started) / len(users), 3)
    finally:
        model.serve_pool = saved
    whole, pooled = answers.values()
    same = sum(a == b for a, b in zip(whole, pooled, strict=True))
    overlap = np.mean(
        [len(set(a) & set(b)) / max(len(a), 1) for a, b in zip(whole, pooled, strict=True)]
    )
    return {
        "users": len(users),
        "identical_answers": same,
        "overlap_at_k": round(float(overlap), 5),
        "recommend_items_cpu_ms": cpu,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, required=True, help="a saved model bundle")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--pools", default="2000,5000,10000,20000")
    parser.add_argument("--genre-share", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--serve-pool", type=int, default=None,
        help="also serve the users with this `serve_pool` and compare with the whole catalogue",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    import scipy.linalg  # noqa: F401  (loads the BLAS that threadpool_limits then limits)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)  # as the server (serving/pyfunc_model.py)
    from movie_roulette import bundle

    model = bundle.load(args.bundle).model
    pools = [int(p) for p in args.pools.split(",")]
    users = np.random.default_rng(args.seed).choice(
        model.user_ids, min(args.users, len(model.user_ids)), replace=False
    )
    ranks = pick_ranks(model, users, args.k, args.genre_share, args.seed)
    result = {
        "movies": int(model.n_movies),
        "users": len(users),
        "k": args.k,
        "picks": {kind: summary(r, pools) for kind, r in ranks.items()},
        "scan_ms_per_request": scan_costs(model, users[:300], pools),
        "served": None
        if args.serve_pool is None
        else served_with_pool(model, users, args.serve_pool, args.k),
        "load_average": round(os.getloadavg()[0], 1),
    }
    print(json.dumps(result, indent=2) if args.json else result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
