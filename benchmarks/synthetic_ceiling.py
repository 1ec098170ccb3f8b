"""The NDCG@10 ceiling of the synthetic data: the generator's own ranking (`TruthOracle`: true
tastes, qualities, popularities) evaluated exactly as benchmarks/scale.py evaluates the models.

    python benchmarks/synthetic_ceiling.py --sizes 1000000,5000000,25000000 \
        --data-root /tmp/scale-base-bench --json

Same data folders, split (--config, default configs/ml-25m.yaml), seen ratings (train + valid),
seeded sample of --eval-users test users and metric (`evaluation.offline.ranking_metrics`,
relevant = rating >= 4) as scale.py, so `ndcg@10_oracle` sits next to its `ndcg@10` (hybrid)
and `ndcg@10_best_component`: how much of the reachable signal a model has found, and how far
a blend of the components could still go. Popularity is reported as the floor.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def measure(size: int, args: argparse.Namespace) -> dict:
    from benchmarks.scale import data_dir, evaluation_sample
    from movie_roulette.config import load_config
    from movie_roulette.data import sources
    from movie_roulette.data.split import train_valid_test
    from movie_roulette.data.synthetic import TruthOracle
    from movie_roulette.evaluation.offline import ranking_metrics
    from movie_roulette.models.popularity import PopularityRecommender

    folder = data_dir(args.data_root, size, args.seed)
    cfg = load_config(args.config)
    data_cfg = cfg.data.model_copy(update=dict(data_dir=str(folder), download=False))
    ratings = sources.load_ratings(data_cfg, seed=cfg.seed)
    train, valid, test = train_valid_test(ratings, cfg.split, seed=cfg.seed)
    seen, test_sample = evaluation_sample(train, valid, test, args.eval_users, args.seed)
    del ratings, train, valid, test
    start = time.perf_counter()
    out = {"ratings": size, "folder": str(folder)}
    for name, model in (
        ("oracle", TruthOracle(folder, seen)),
        ("popularity", PopularityRecommender().fit(seen)),
    ):
        out[f"ndcg@10_{name}"] = round(
            ranking_metrics(model, seen, test_sample, k=10)["ndcg@10"], 4
        )
    out["eval_s"] = round(time.perf_counter() - start, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000")
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "ml-25m.yaml")
    parser.add_argument("--data-root", type=Path, default=Path("/tmp/movie-roulette-synthetic"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-users", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = [measure(int(s), args) for s in args.sizes.split(",")]
    if args.json:
        print(json.dumps({"sizes": results}))
    else:
        for row in results:
            print(row)


if __name__ == "__main__":
    main()
