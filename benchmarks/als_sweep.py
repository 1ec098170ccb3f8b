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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=int, default=1_000_000)
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "ml-25m.yaml")
    parser.add_argument("--data-root", type=Path, default=Path("/tmp/movie-roulette-synthetic"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--eval-users", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from benchmarks.scale import data_dir, evaluation_sample
    from movie_roulette.config import load_config
    from movie_roulette.data import sources
    from movie_roulette.data.split import train_valid_test
    from movie_roulette.evaluation.offline import ranking_metrics
    from movie_roulette.models.scalable import ALSRecommender

    folder = data_dir(args.data_root, args.ratings, args.seed)
    cfg = load_config(args.config)
    data_cfg = cfg.data.model_copy(update=dict(data_dir=str(folder), download=False))
    ratings = sources.load_ratings(data_cfg, seed=cfg.seed)
    train, valid, test = train_valid_test(ratings, cfg.split, seed=cfg.seed)
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
        print(json.dumps({"ratings": len(ratings), "folder": str(folder), "settings": rows}))


if __name__ == "__main__":
    main()
