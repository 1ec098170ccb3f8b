"""Scale benchmark (issue 13), first part: the scalable components on synthetic MovieLens data.

    python benchmarks/scale.py --sizes 1000000,5000000 --json
    python benchmarks/scale.py --sizes 1000000 --components als,itemknn --data-root /tmp/synth

For each size it generates (or reuses, under --data-root) a synthetic data set with MovieLens
25M's users and movies per rating (`movie_roulette.data.synthetic.ml25m_shape`), then, in a fresh
process per size (so peak RSS is that size's own): loads the ratings with the MovieLens reader,
splits them per user (20 % test, the pipeline's split), fits each component on train, and
measures fit time, NDCG@10 on a sample of test users (`evaluation.offline.ranking_metrics`,
relevant = rating >= 4), bundle size (`bundle.save` of the component alone) and in-process
`recommend` latency. It prints one JSON object in the issue's shape:

    {"sizes": [{"ratings", "users", "movies", "fit_s", "peak_rss_mb", "bundle_mb", "ndcg@10",
                "ndcg@10_popularity", "serve_rss_mb", "recommend_p50_ms", "recommend_p99_ms",
                "components": {name: {...}}}],
     "growth": {"fit_s_exponent", "peak_rss_exponent"}}

Not yet the issue's full benchmark: the hybrid does not compose these components yet (its
restructure is the next step), so "ndcg@10" is the best component's, the latencies are the
slowest component's in-process `recommend` (no server: "serve_rss_mb" is null), and "fit_s" is
the sum of the component fits. `growth` is the least-squares slope of log(cost) on log(ratings).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

COMPONENTS = ("popularity", "als", "itemknn", "ease")


def _component(name: str, args: argparse.Namespace):
    from movie_roulette.models.implicit import EASERecommender
    from movie_roulette.models.popularity import PopularityRecommender
    from movie_roulette.models.scalable import ALSRecommender, SparseItemKNNRecommender

    if name == "popularity":
        return PopularityRecommender()
    if name == "als":
        return ALSRecommender(factors=64, iterations=15, seed=args.seed)
    if name == "itemknn":
        return SparseItemKNNRecommender(n_neighbours=100, max_user_items=args.knn_max_user_items)
    if name == "ease":
        return EASERecommender(l2=300.0, max_items=args.ease_max_items, memory_budget_gb=12)
    raise SystemExit(f"--components: unknown component {name!r}; use {COMPONENTS}.")


def data_dir(root: Path, ratings: int, seed: int) -> Path:
    from movie_roulette.data import movielens
    from movie_roulette.data.synthetic import generate, ml25m_shape

    folder = root / f"synthetic-{ratings}-seed{seed}"
    if not (movielens.has_movielens(folder) and (folder / "truth.json").is_file()):
        generate(ml25m_shape(ratings, seed), folder)
    return folder


def measure_size(args: argparse.Namespace) -> dict:
    """One size, in this process (called in a child process per size)."""
    from movie_roulette import bundle
    from movie_roulette.data import movielens
    from movie_roulette.data.split import per_user_holdout
    from movie_roulette.evaluation.offline import ranking_metrics

    folder = data_dir(args.data_root, args.child, args.seed)
    ratings = movielens.load_ratings(folder)
    movies = movielens.load_movies_with_links(folder)
    train, test = per_user_holdout(ratings, 0.2, args.seed)
    rng = np.random.default_rng(args.seed)
    users = np.unique(test["user_id"].to_numpy())
    sample = rng.choice(users, min(args.eval_users, len(users)), replace=False)
    test_sample = test[test["user_id"].isin(sample)]
    out: dict = {
        "ratings": int(len(ratings)),
        "users": int(ratings["user_id"].nunique()),
        "movies": int(len(movies)),
        "components": {},
    }
    for name in args.components.split(","):
        model = _component(name, args)
        start = time.perf_counter()
        model.fit(train)
        fit_s = time.perf_counter() - start
        metrics = ranking_metrics(model, train, test_sample, k=10)
        lat = []
        for user in sample[: args.latency_users]:
            t0 = time.perf_counter()
            model.recommend(int(user), k=10)
            lat.append((time.perf_counter() - t0) * 1000)
        with tempfile.TemporaryDirectory() as tmp:
            path = bundle.save(Path(tmp) / name, model, movies.head(0))
            size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
        out["components"][name] = {
            "fit_s": round(fit_s, 2),
            "ndcg@10": round(metrics["ndcg@10"], 4),
            "bundle_mb": round(size / 2**20, 1),
            "recommend_p50_ms": round(float(np.percentile(lat, 50)), 2),
            "recommend_p99_ms": round(float(np.percentile(lat, 99)), 2),
        }
        del model
    comps = out["components"]
    scalable = {n: c for n, c in comps.items() if n != "popularity"} or comps
    out["fit_s"] = round(sum(c["fit_s"] for c in comps.values()), 2)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    out["bundle_mb"] = round(sum(c["bundle_mb"] for c in comps.values()), 1)
    out["ndcg@10"] = max(c["ndcg@10"] for c in scalable.values())
    out["ndcg@10_popularity"] = comps.get("popularity", {}).get("ndcg@10")
    out["serve_rss_mb"] = None
    out["recommend_p50_ms"] = max(c["recommend_p50_ms"] for c in comps.values())
    out["recommend_p99_ms"] = max(c["recommend_p99_ms"] for c in comps.values())
    return out


def growth(sizes: list[dict], key: str) -> float | None:
    points = [(s["ratings"], s[key]) for s in sizes if s.get(key)]
    if len(points) < 2:
        return None
    x, y = np.log([p[0] for p in points]), np.log([p[1] for p in points])
    return round(float(np.polyfit(x, y, 1)[0]), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,5000000")
    parser.add_argument("--components", default=",".join(COMPONENTS))
    parser.add_argument("--data-root", type=Path, default=Path("/tmp/movie-roulette-synthetic"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-users", type=int, default=2000)
    parser.add_argument("--latency-users", type=int, default=300)
    parser.add_argument("--ease-max-items", type=int, default=5000)
    parser.add_argument("--knn-max-user-items", type=int, default=500)
    parser.add_argument("--json", action="store_true", help="only the JSON object on stdout")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure_size(args)))
        return
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        cmd = [sys.executable, __file__, *sys.argv[1:], "--child", str(size)]
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        if not args.json:
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    report = {
        "sizes": results,
        "growth": {
            "fit_s_exponent": growth(results, "fit_s"),
            "peak_rss_exponent": growth(results, "peak_rss_mb"),
        },
        "settings": {
            k: getattr(args, k)
            for k in ("components", "seed", "eval_users", "ease_max_items", "knn_max_user_items")
        },
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
