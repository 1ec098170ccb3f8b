"""Implicit ALS settings on synthetic MovieLens-shaped data: NDCG@10 per setting.

    python benchmarks/als_sweep.py --ratings 1000000 --data-root /tmp/scale-base-bench --json

Each setting fits `models.scalable.ALSRecommender` (the scalable set's ALS) on train + valid of
the pipeline's split (--config, default configs/ml-25m.yaml) and is evaluated like
benchmarks/scale.py evaluates components (`ranking_metrics`, relevant = rating >= 4, a seeded
sample of --eval-users test users). The grid covers regularization, confidence (alpha), factors
and whether every rating or only liked ones (>= 4) are interactions; the first row is the
`ALSConfig` default. Prints one JSON object: {"ratings", "settings": [{..., "ndcg@10", "fit_s"}]}.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GRID = [
    # (factors, regularization, alpha, min_rating)
    (64, 0.05, 2.0, None),  # ALSConfig's default
    (64, 1.0, 5.0, None),
    (64, 1.0, 5.0, 4.0),
    (64, 10.0, 5.0, 4.0),
    (64, 10.0, 20.0, 4.0),
    (64, 50.0, 5.0, None),
    (64, 50.0, 5.0, 4.0),
    (64, 50.0, 20.0, 4.0),
    (64, 100.0, 5.0, 4.0),
    (64, 200.0, 5.0, 4.0),
    (128, 100.0, 5.0, 4.0),
    (32, 50.0, 5.0, 4.0),
    (16, 50.0, 5.0, 4.0),
    (32, 20.0, 5.0, 4.0),
]


def main() -> None:
    from benchmarks.scale import (
        add_synthetic_arguments,
        evaluation_sample,
        load_split,
        synthetic_config,
    )

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=int, default=1_000_000)
    add_synthetic_arguments(parser)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--eval-users", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from movie_roulette.evaluation.offline import ranking_metrics
    from movie_roulette.models.scalable import ALSRecommender

    cfg = synthetic_config(args, args.ratings)
    ratings, train, valid, test = load_split(cfg)
    seen, test_sample = evaluation_sample(train, valid, test, args.eval_users, args.seed)
    rows = []
    for factors, reg, alpha, min_rating in GRID:
        start = time.perf_counter()
        model = ALSRecommender(
            factors=factors,
            regularization=reg,
            alpha=alpha,
            iterations=args.iterations,
            min_rating=min_rating,
            seed=args.seed,
        ).fit(seen)
        fit_s = time.perf_counter() - start
        ndcg = ranking_metrics(model, seen, test_sample, k=10)["ndcg@10"]
        row = {
            "factors": factors,
            "regularization": reg,
            "alpha": alpha,
            "min_rating": min_rating,
            "ndcg@10": round(ndcg, 4),
            "fit_s": round(fit_s, 1),
        }
        rows.append(row)
        if not args.json:
            print(row, flush=True)
    if args.json:
        print(json.dumps({"ratings": len(ratings), "folder": cfg.data.data_dir, "settings": rows}))


if __name__ == "__main__":
    main()
