"""The sparse item-kNN's fit: time and peak memory by thread count, and against another library.

    python benchmarks/itemknn_fit.py --ratings 5000000 --data-root /tmp/scale-base-bench \
        --threads 1,2 [--before DIR] --json

Fits the hybrid's item-kNN component exactly as the pipeline builds it (`make_components` of
--config, default configs/ml-25m.yaml) on the train split of the synthetic data of
benchmarks/scale.py, once per entry of --threads, each in a fresh process (so each peak RSS is
its own). `--before DIR` adds one fit with the library under DIR/src (e.g. a `git worktree` of an
earlier commit) at its own default threading: the "before" of a change. Every fit's similarity
matrices are hashed; "identical" says whether all runs produced the same matrices, bit for bit.
Prints one JSON object: {"ratings", "train_ratings", "movies", "runs": [{"library", "threads",
"fit_s", "peak_rss_mb", "loaded_rss_mb", "digest"}], "identical"}.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(args: argparse.Namespace) -> dict:
    sys.path.insert(0, str(ROOT))
    import inspect

    from benchmarks.scale import load_split, synthetic_config
    from movie_roulette.models.hybrid.components import make_components

    cfg = synthetic_config(args, args.ratings)
    _, train, _, _ = load_split(cfg)
    loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    model = make_components(cfg.model, cfg.seed)["itemknn"]
    threads: int | str = "library default"
    if args.child_threads > 0:
        if "fit_threads" not in inspect.signature(type(model).__init__).parameters:
            raise SystemExit("this library's item-kNN has no fit_threads: use --before for it")
        model.fit_threads = args.child_threads
        threads = args.child_threads
    elif hasattr(model, "fit_threads"):
        threads = model.fit_threads
    start = time.perf_counter()
    model.fit(train[["user_id", "movie_id", "rating"]])
    seconds = time.perf_counter() - start
    digest = hashlib.sha256()
    for matrix in (model.sim_rank, model.sim_rate):
        for part in (matrix.indptr, matrix.indices, matrix.data):
            digest.update(part.tobytes())
    return {
        "library": str(Path(sys.modules["movie_roulette"].__file__).parents[1]),
        "threads": threads,
        "fit_s": round(seconds, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "loaded_rss_mb": round(loaded),
        "train_ratings": len(train),
        "movies": model.n_movies,
        "digest": digest.hexdigest()[:16],
    }


def run(args: argparse.Namespace, threads: int, src: Path) -> dict:
    cmd = [sys.executable, __file__, "--child", "--child-threads", str(threads)]
    cmd += ["--ratings", str(args.ratings), "--data-root", str(args.data_root)]
    cmd += ["--seed", str(args.seed), "--config", str(args.config)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), str(ROOT)])}
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from benchmarks.scale import add_synthetic_arguments

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_synthetic_arguments(parser)
    parser.add_argument("--ratings", type=int, default=5_000_000)
    parser.add_argument("--threads", default="1,2", help="comma-separated fit_threads values")
    parser.add_argument("--before", type=Path, help="another checkout: one fit with its library")
    parser.add_argument("--json", action="store_true", help="only the JSON object on stdout")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-threads", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return
    runs = []
    if args.before is not None:
        runs.append(run(args, 0, args.before.resolve() / "src"))
    for threads in (int(t) for t in args.threads.split(",")):
        runs.append(run(args, threads, ROOT / "src"))
        if not args.json:
            print(json.dumps(runs[-1]), file=sys.stderr)
    result = {
        "ratings": args.ratings,
        "train_ratings": runs[0]["train_ratings"],
        "movies": runs[0]["movies"],
        "runs": [
            {k: v for k, v in r.items() if k not in ("train_ratings", "movies")} for r in runs
        ],
        "identical": len({r["digest"] for r in runs}) == 1,
    }
    print(json.dumps(result, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
