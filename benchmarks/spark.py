"""Spark benchmark (issue 17): the local path and the Spark path on the same data and split.

    python benchmarks/spark.py --ratings 5000000 --json
    python benchmarks/spark.py --ratings 5000000 --json --modes local,spark --cluster-workers 1,2
    python benchmarks/spark.py --ratings 5000000 --modes spark --implicit-min-rating 4 \
        --implicit-reg 0.5 --json

Data: the scale issue's synthetic MovieLens-shaped set under --data-root (default
/tmp/scale-base-bench, read only; generated with `movie_roulette.data.synthetic` when absent).
Every mode runs in a fresh process (so its peak RSS is its own) and does the same work:

* split: the pipeline's per-user train / valid / test split (local: `data.split`; Spark modes:
  `spark.split` on the ratings read by Spark: the same rows, checked by the unit tests);
* fit: `HybridRecommender` over its components, fitted on train, blend weights and rating
  stack tuned on (a sample of --tune-users) valid users (and with --refit refitted on train +
  valid, as `models.hybrid.train_hybrid` does; off by default: it doubles the time and changes
  no ratio between the modes), evaluated on test;
  - local: implicit ALS (the `implicit` package, ranking) + surprise SVD (ratings) + content +
    popularity: the local components with the same roles as Spark's two ALS;
  - spark / cluster: pyspark.ml ALS implicit (ranking) + ALS explicit (ratings) + content +
    popularity (`spark.training.make_spark_components`);
* evaluation: NDCG@10 (relevant = rating >= 4) and RMSE over --eval-users sampled test users
  with the library's metrics (`evaluation.metrics`), identical for every mode.

Modes: local, spark (local[2]), cluster-N (the namespace cluster with N workers, started and
stopped here; needs root). Spark memory stays modest: driver --driver-memory (default 4g),
executors --executor-memory (default 2g). peak_rss_mb is the driver's Python process
(ru_maxrss); jvm_peak_rss_mb the driver JVM's VmHWM (local modes: the JVM also runs the tasks).

Prints {"local": {...}, "spark": {...}, "cluster": {"1": {...}, "2": {...}}, "ratios": {...}}.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _jvm_hwm_mb(spark) -> float | None:
    try:
        pid = spark.sparkContext._gateway.proc.pid  # the spark-submit JVM
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except (AttributeError, OSError, ValueError):
        return None
    return None


def _evaluate(model, test, users: np.ndarray) -> dict[str, float]:
    from movie_roulette.evaluation.metrics import ndcg_at_k

    sample = test[test["user_id"].isin(users)]
    ndcgs, errors = [], []
    for user, group in sample.groupby("user_id"):
        liked = set(group.loc[group["rating"] >= 4.0, "movie_id"])
        if not model.knows_user(user):
            continue
        if liked:
            ndcgs.append(ndcg_at_k([m for m, _ in model.recommend(user, k=10)], liked, 10))
        known = group[np.isin(group["movie_id"].to_numpy(), model.movie_ids)]
        if len(known):
            pred = model.predict_rating(user, known["movie_id"].to_numpy())
            errors.append(pred - known["rating"].to_numpy())
    err = np.concatenate(errors) if errors else np.zeros(1)
    return {
        "ndcg@10": round(float(np.mean(ndcgs)), 4),
        "rmse": round(float(np.sqrt(np.mean(err**2))), 4),
        "eval_users": len(ndcgs),
    }


def _fit_hybrid(components, train, valid, catalogue, tune_users: int, refit: bool):

    from movie_roulette.models.hybrid import HybridRecommender

    model = HybridRecommender(components).fit(train, catalogue)
    model.tune(valid, k=10, threshold=4.0, max_users=tune_users)
    if refit:
        model.refit([train, valid], catalogue)  # as train_hybrid does
    return model


def run_mode(args: argparse.Namespace) -> dict:
    """One mode, in this process."""
    import pandas as pd

    from movie_roulette.config import ContentConfig, SparkConfig, SplitConfig, config_from_dict
    from movie_roulette.data import movielens

    folder = Path(args.data_root) / f"synthetic-{args.ratings}"
    catalogue = movielens.load_movies_with_links(folder)
    split_cfg = SplitConfig()
    timings: dict[str, float] = {}
    start = time.perf_counter()
    jvm = None
    content = ContentConfig()
    if args.mode == "local":
        from movie_roulette.data.split import train_valid_test
        from movie_roulette.models.collaborative import SVDRecommender
        from movie_roulette.models.content import ContentRecommender
        from movie_roulette.models.popularity import PopularityRecommender
        from movie_roulette.models.scalable import ALSRecommender

        ratings = movielens.load_ratings(folder)
        train, valid, test = train_valid_test(ratings, split_cfg, seed=args.seed)
        del ratings
        timings["split_s"] = round(time.perf_counter() - start, 1)
        components = {
            "als": ALSRecommender(factors=64, iterations=args.iterations, seed=args.seed),
            "svd": SVDRecommender(n_factors=100, n_epochs=20, seed=args.seed),
        }
    else:
        from movie_roulette.models.content import ContentRecommender
        from movie_roulette.models.popularity import PopularityRecommender
        from movie_roulette.spark import prep
        from movie_roulette.spark.als import make_spark_als_components
        from movie_roulette.spark.session import get_session
        from movie_roulette.spark.split import train_valid_test

        spark_raw = {
            "driver_memory": args.driver_memory,
            "executor_memory": args.executor_memory,
            "shuffle_partitions": 8,
            "als": {"rank": 32, "max_iter": args.iterations, "reg_param": 0.08},
            "als_implicit": {
                "rank": 64,
                "max_iter": args.iterations,
                "reg_param": args.implicit_reg,
                "alpha": 10.0,
                "min_rating": args.implicit_min_rating,
            },
        }
        if args.mode == "spark":
            spark_raw["master"] = "local[2]"
        else:
            spark_raw.update(
                master=args.master, driver_host=args.driver_host, connect_timeout_s=180
            )
        cfg: SparkConfig = config_from_dict({"spark": spark_raw}).spark
        spark = get_session(cfg)
        timings["session_s"] = round(time.perf_counter() - start, 1)
        clean, _ = prep.clean_ratings(prep.read_ratings(spark, folder / "ratings.csv"))
        clean = clean.persist()
        parts = train_valid_test(clean, split_cfg, args.seed)
        train, valid, test = (prep.to_pandas(p) for p in parts)
        timings["split_s"] = round(time.perf_counter() - start, 1)
        components = dict(make_spark_als_components(cfg, seed=args.seed))
    components["content"] = ContentRecommender(
        like_threshold=content.like_threshold,
        max_features=content.max_features,
        n_neighbours=content.n_neighbours,
    )
    components["popularity"] = PopularityRecommender()
    fit_start = time.perf_counter()
    model = _fit_hybrid(components, train, valid, catalogue, args.tune_users, args.refit)
    fit_s = time.perf_counter() - fit_start
    if args.mode != "local":
        jvm = _jvm_hwm_mb(spark)
    users = np.random.default_rng(args.seed).choice(
        np.unique(test["user_id"].to_numpy()), size=args.eval_users, replace=False
    )
    out = {
        "fit_s": round(fit_s, 1),
        "split_s": timings.get("split_s"),
        "session_s": timings.get("session_s"),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "jvm_peak_rss_mb": jvm,
        "component_fit_seconds": model.fit_info.get("component_fit_seconds"),
        "refit_component_fit_seconds": model.fit_info.get("refit_component_fit_seconds"),
        "weights": {k: round(float(v), 3) for k, v in model.weights.items()},
        "train_rows": len(train),
        "valid_rows": len(valid),
        "test_rows": len(test),
        "test_sha": int(
            pd.util.hash_pandas_object(
                test[["user_id", "movie_id"]].sort_values(["user_id", "movie_id"]), index=False
            ).sum()
            % (2**61)
        ),
    }
    out.update(_evaluate(model, test, users))
    return out


def _child(args: argparse.Namespace, mode: str, **extra: str) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--ratings",
        str(args.ratings),
        "--data-root",
        args.data_root,
        "--seed",
        str(args.seed),
        "--iterations",
        str(args.iterations),
        "--tune-users",
        str(args.tune_users),
        "--eval-users",
        str(args.eval_users),
        "--driver-memory",
        args.driver_memory,
        "--executor-memory",
        args.executor_memory,
        "--mode",
        mode,
    ]
    if args.refit:
        cmd.append("--refit")
    if args.implicit_min_rating is not None:
        cmd += ["--implicit-min-rating", str(args.implicit_min_rating)]
    cmd += ["--implicit-reg", str(args.implicit_reg)]
    for key, value in extra.items():
        cmd += [f"--{key.replace('_', '-')}", value]
    print(f"[spark-benchmark] {mode} {extra or ''}", file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        return {"error": f"exit {proc.returncode}: {tail}"}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"[spark-benchmark] {mode}: {result}", file=sys.stderr, flush=True)
    return result


def _ratios(base: dict, other: dict) -> dict:
    if "error" in base or "error" in other:
        return {}
    return {
        "ndcg@10": round(other["ndcg@10"] / base["ndcg@10"], 4),
        "rmse": round(other["rmse"] / base["rmse"], 4),
        "fit_s": round(other["fit_s"] / base["fit_s"], 2),
        "same_split": other["test_sha"] == base["test_sha"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=int, default=5_000_000)
    parser.add_argument("--data-root", default="/tmp/scale-base-bench")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--tune-users", type=int, default=2000)
    parser.add_argument("--eval-users", type=int, default=2000)
    parser.add_argument("--driver-memory", default="4g")
    parser.add_argument("--executor-memory", default="2g")
    parser.add_argument("--modes", default="local,spark,cluster")
    parser.add_argument("--cluster-workers", default="1,2")
    parser.add_argument(
        "--refit",
        action="store_true",
        help="refit on train + valid after tuning (the pipeline does)",
    )
    parser.add_argument(
        "--implicit-min-rating",
        type=float,
        default=None,
        help="Spark's implicit ALS on ratings >= this only (spark.als_implicit.min_rating; "
        "default: every rating)",
    )
    parser.add_argument(
        "--implicit-reg",
        type=float,
        default=0.01,
        help="reg_param of Spark's implicit ALS (spark.als_implicit.reg_param)",
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    parser.add_argument("--master", help=argparse.SUPPRESS)
    parser.add_argument("--driver-host", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.mode:
        print(json.dumps(run_mode(args)))
        return 0
    folder = Path(args.data_root) / f"synthetic-{args.ratings}"
    if not (folder / "ratings.csv").is_file():
        raise SystemExit(
            f"{folder}/ratings.csv is missing: generate it with python -m "
            f"movie_roulette.data.synthetic --ratings {args.ratings} ... --out {folder}"
        )
    modes = args.modes.split(",")
    results: dict = {}
    if "local" in modes:
        results["local"] = _child(args, "local")
    if "spark" in modes:
        results["spark"] = _child(args, "spark")
    if "cluster" in modes:
        from movie_roulette.spark import cluster

        results["cluster"] = {}
        for n in [int(x) for x in args.cluster_workers.split(",")]:
            ok, why = cluster.can_create_namespaces()
            if not ok:
                results["cluster"][str(n)] = {"error": f"skipped: {why}"}
                continue
            state = cluster.start(n_workers=n, worker_cores=2 // n or 1, worker_memory="2g")
            try:
                results["cluster"][str(n)] = _child(
                    args, "cluster", master=state.master_url, driver_host=state.driver_ip
                )
            finally:
                cluster.stop()
    if "local" in results:
        results["ratios"] = {
            k: _ratios(results["local"], v)
            for k, v in [("spark", results.get("spark", {}))]
            + [(f"cluster-{n}", r) for n, r in results.get("cluster", {}).items()]
            if v
        }
    print(json.dumps(results, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
