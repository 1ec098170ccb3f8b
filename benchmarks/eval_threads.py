"""The offline evaluation's loop with OpenBLAS's default threads against one thread.

    python benchmarks/eval_threads.py --ratings 5000000 --data-root /tmp/scale-base-bench --json

Fits the hybrid as the pipeline does (--config, default configs/ml-25m.yaml, on the synthetic
data of benchmarks/scale.py), then times `ranking_metrics` + `rating_metrics` of the hybrid
(NDCG@10, RMSE) on a seeded sample of --eval-users test users, once to warm up, then four ways:
default threads, one thread, each on an idle machine and next to a busy-looping process (what
a shared machine, a second pipeline or a test run beside it, looks like). "default" runs the
functions' bodies without their `one_blas_thread` limit (`__wrapped__`); "one" runs them as the
library does. Prints one JSON object: {"ratings", "movies", "eval_users", "seconds": {"idle":
{"default", "one"}, "busy": {...}}, "ratio_default_over_one": {...}, "ndcg@10", "rmse"}; the
metrics must agree across the four runs (checked).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _spin(stop) -> None:  # a competing process: one core kept busy in pure Python
    while not stop.is_set():
        sum(i * i for i in range(10_000))


def main() -> None:
    from benchmarks.scale import (
        add_synthetic_arguments,
        evaluation_sample,
        load_split,
        synthetic_config,
    )

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=int, default=5_000_000)
    add_synthetic_arguments(parser)
    parser.add_argument("--eval-users", type=int, default=300)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from movie_roulette.evaluation.offline import ranking_metrics, rating_metrics
    from movie_roulette.models.hybrid import train_hybrid

    cfg = synthetic_config(args, args.ratings)
    _, train, valid, test = load_split(cfg)
    model = train_hybrid(train, valid, None, cfg.model, seed=cfg.seed, k=10, threshold=4.0)
    seen, sample = evaluation_sample(train, valid, test, args.eval_users, cfg.seed)

    def run(limited: bool) -> tuple[float, float, float]:
        rank = ranking_metrics if limited else ranking_metrics.__wrapped__
        rate = rating_metrics if limited else rating_metrics.__wrapped__
        start = time.perf_counter()
        ndcg = rank(model, seen, sample, k=10, threshold=4.0)["ndcg@10"]
        rmse = rate(model, sample)["rmse"]
        return time.perf_counter() - start, ndcg, rmse

    run(True)  # warm-up, not counted: the first request fills the model's per-process caches
    seconds: dict[str, dict[str, float]] = {}
    metrics = set()
    for load in ("idle", "busy"):
        stop = mp.Event()
        spinner = mp.Process(target=_spin, args=(stop,)) if load == "busy" else None
        if spinner is not None:
            spinner.start()
            time.sleep(1.0)
        try:
            for mode, limited in (("default", False), ("one", True)):
                took, ndcg, rmse = run(limited)
                seconds.setdefault(load, {})[mode] = round(took, 2)
                metrics.add((round(ndcg, 6), round(rmse, 6)))
                print(f"{load} {mode}: {took:.2f} s", file=sys.stderr)
        finally:
            stop.set()
            if spinner is not None:
                spinner.join()
    if len(metrics) != 1:
        raise SystemExit(f"the four runs disagree on the metrics: {sorted(metrics)}")
    ((ndcg, rmse),) = metrics
    result = {
        "ratings": args.ratings,
        "movies": int(model.n_movies),
        "eval_users": int(sample["user_id"].nunique()),
        "seconds": seconds,
        "ratio_default_over_one": {
            load: round(s["default"] / s["one"], 2) for load, s in seconds.items()
        },
        "ndcg@10": ndcg,
        "rmse": rmse,
    }
    print(json.dumps(result, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
