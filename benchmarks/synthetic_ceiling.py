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
    from benchmarks.scale import evaluation_sample, load_split, synthetic_config
    from movie_roulette.data.synthetic import TruthOracle
    from movie_roulette.evaluation.offline import ranking_metrics
    from movie_roulette.models.popularity import PopularityRecommender

    cfg = synthetic_config(args, size)
    folder = cfg.data.data_dir
    ratings, train, valid, test = load_split(cfg)
    seen, test_sample = evaluation_sample(train, valid, test, args.eval_users, args.seed)
    del ratings, train, valid, test
    start = time.perf_counter()
    out = {"ratings": size, "folder": folder}
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
    from benchmarks.scale import add_synthetic_arguments

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000")
    add_synthetic_arguments(parser)
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
