"""The Python driver's memory while the Spark engine's hybrid is fitted (issue 17's driver).

    python benchmarks/fit_memory.py --ratings 5000000 --data-root /tmp/scale-base-bench --json

Fits the Spark path's recipe (explicit + implicit ALS, content, popularity) as the pipeline
does: `train_hybrid`'s fit on train, weight search on 2,000 validation users and refit on
train + valid, optionally `evaluate_models` (`--eval-users`), then `refit_on_all_ratings`
(`final_fit.refit_for_serving` on train + valid + test) and optionally `promote_model`'s
comparison (`--compare`), on a synthetic MovieLens-shaped folder, and samples this process's
resident memory every 20 ms. With `--engine driver-only` the two ALS components get seeded
random factors instead of a Spark job, so the figures are the driver's own Python work (the
frames, indices and arrays the hybrid and its components build); `--engine spark` runs
pyspark.ml ALS in `local[2]`. Prints one JSON object: the rows of each phase, the resident
memory before it and its peak, and the peak above what the process held before, per rating.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE / 2**20


class PeakSampler:
    """The highest resident memory seen since `reset`, sampled every `interval` seconds."""

    def __init__(self, interval: float = 0.02) -> None:
        self.peak = _rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)
        self._thread.start()

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self.peak = max(self.peak, _rss_mb())

    def reset(self) -> float:
        """Hand freed heap memory back to the OS first (glibc), so the peak counts new work."""
        import gc

        gc.collect()
        try:
            import ctypes

            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except OSError:
            pass
        self.peak = now = _rss_mb()
        return now

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _random_fitter(model, data):  # noqa: ANN001, ANN202  (factor_als.Fitter)
    """Seeded random factors of the right shapes: the driver's side without a Spark job."""
    rng = np.random.default_rng(model.seed)
    return (
        rng.standard_normal((data.n_users, model.rank), np.float32) * 0.1,
        rng.standard_normal((data.n_movies, model.rank), np.float32) * 0.1,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--ratings", type=int, default=5_000_000)
    ap.add_argument("--data-root", default="/tmp/scale-base-bench")
    ap.add_argument("--engine", choices=["driver-only", "spark"], default="driver-only")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--tune-users", type=int, default=2000, help="as model.tune_max_users")
    ap.add_argument(
        "--eval-users",
        type=int,
        default=0,
        help="also time evaluate_models on this many sampled test users, between the refit on "
        "train + valid and the refit on all ratings, as the pipeline does (its configs: 10000)",
    )
    ap.add_argument(
        "--compare",
        action="store_true",
        help="then promote_model's like-for-like comparison: the evaluated model against the "
        "served one as production (which saw the test ratings, so its recipe is refitted)",
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from movie_roulette.config import ContentConfig, config_from_dict
    from movie_roulette.data import movielens
    from movie_roulette.data.split import train_valid_test
    from movie_roulette.models.content import ContentRecommender
    from movie_roulette.models.factor_als import ExplicitALSRecommender, ImplicitALSRecommender
    from movie_roulette.models.hybrid import HybridRecommender
    from movie_roulette.models.popularity import PopularityRecommender

    folder = Path(args.data_root) / f"synthetic-{args.ratings}"
    catalogue = movielens.load_movies_with_links(folder)
    train, valid, test = train_valid_test(
        movielens.load_ratings(folder), config_from_dict({}).split, seed=args.seed
    )
    if args.engine == "spark":
        import movie_roulette.spark.als  # noqa: F401  (registers the "spark" fitter)
        from movie_roulette.spark.session import get_session

        get_session(
            config_from_dict({"spark": {"master": "local[2]", "driver_memory": "4g"}}).spark
        )
        engine = "spark"
    else:
        from movie_roulette.models.factor_als import register_fitter

        register_fitter("driver-only", _random_fitter)
        engine = "driver-only"
    content = ContentConfig()
    components = {
        "als_explicit": ExplicitALSRecommender(rank=32, max_iter=5, engine=engine),
        "als_implicit": ImplicitALSRecommender(rank=64, max_iter=5, engine=engine),
        "content": ContentRecommender(
            like_threshold=content.like_threshold,
            max_features=content.max_features,
            n_neighbours=content.n_neighbours,
        ),
        "popularity": PopularityRecommender(),
    }
    sampler = PeakSampler()
    loaded = sampler.reset()
    start = time.perf_counter()
    model = HybridRecommender(components).fit(train, catalogue)
    fit_s, fit_peak = time.perf_counter() - start, sampler.peak
    tune_loaded = sampler.reset()
    start = time.perf_counter()
    model.tune(valid, k=10, threshold=4.0, max_users=args.tune_users, seed=args.seed)
    tune_s, tune_peak = time.perf_counter() - start, sampler.peak
    refit_loaded = sampler.reset()
    start = time.perf_counter()
    model.refit([train, valid], catalogue)  # as train_hybrid does
    refit_s, refit_peak = time.perf_counter() - start, sampler.peak
    n_both = len(train) + len(valid)
    eval_loaded = eval_peak = eval_s = None
    if args.eval_users:  # the pipeline's sample_test_users and evaluate_models
        from movie_roulette.evaluation.compare import evaluate_bundle
        from movie_roulette.evaluation.sampling import sample_user_rows

        eval_loaded = sampler.reset()
        start = time.perf_counter()
        sampled = sample_user_rows(test, args.eval_users, args.seed)
        evaluate_bundle(model, train, valid, sampled, k=10, threshold=4.0)
        eval_s, eval_peak = time.perf_counter() - start, sampler.peak
        del sampled
    candidate = copy.deepcopy(model) if args.compare else None  # the evaluated model
    # the pipeline's refit_on_all_ratings: the evaluated model refitted on every rating
    from movie_roulette.final_fit import refit_for_serving

    served_loaded = sampler.reset()
    start = time.perf_counter()
    refit_for_serving(model, train, valid, test, catalogue)
    served_s, served_peak = time.perf_counter() - start, sampler.peak
    compare_loaded = compare_peak = compare_s = None
    if candidate is not None:  # promote_model: the served model plays production
        from movie_roulette.evaluation.like_for_like import compare_like_with_like
        from movie_roulette.evaluation.sampling import sample_user_rows

        compare_loaded = sampler.reset()
        start = time.perf_counter()
        sampled = sample_user_rows(test, args.eval_users or 10_000, args.seed)
        compare_like_with_like(candidate, model, train, valid, sampled, "ndcg@10")
        compare_s, compare_peak = time.perf_counter() - start, sampler.peak
    sampler.stop()
    out = {
        "ratings": args.ratings,
        "engine": engine,
        "train_rows": len(train),
        "refit_rows": n_both,
        "loaded_rss_mb": round(loaded),
        "fit_peak_rss_mb": round(fit_peak),
        "fit_bytes_per_row": round((fit_peak - loaded) * 2**20 / len(train)),
        "tune_loaded_rss_mb": round(tune_loaded),
        "tune_peak_rss_mb": round(tune_peak),
        "tune_s": round(tune_s, 1),
        "refit_loaded_rss_mb": round(refit_loaded),
        "refit_peak_rss_mb": round(refit_peak),
        "refit_bytes_per_row": round((refit_peak - refit_loaded) * 2**20 / n_both),
        "eval_users": args.eval_users,
        "eval_loaded_rss_mb": None if eval_loaded is None else round(eval_loaded),
        "eval_peak_rss_mb": None if eval_peak is None else round(eval_peak),
        "eval_s": None if eval_s is None else round(eval_s, 1),
        "served_rows": len(train) + len(valid) + len(test),
        "served_loaded_rss_mb": round(served_loaded),
        "served_peak_rss_mb": round(served_peak),
        "served_s": round(served_s, 1),
        "compare_loaded_rss_mb": None if compare_loaded is None else round(compare_loaded),
        "compare_peak_rss_mb": None if compare_peak is None else round(compare_peak),
        "compare_s": None if compare_s is None else round(compare_s, 1),
        "fit_s": round(fit_s, 1),
        "refit_s": round(refit_s, 1),
    }
    print(json.dumps(out) if args.json else "\n".join(f"{k}: {v}" for k, v in out.items()))


if __name__ == "__main__":
    main()
