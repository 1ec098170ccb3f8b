"""Scale benchmark (issue 13): the hybrid, trained as the pipeline trains it, on synthetic
MovieLens-shaped data of growing size, and served by a real 2-worker model server.

    python benchmarks/scale.py --sizes 1000000,5000000,25000000 --json
    python benchmarks/scale.py --sizes 1000000 --data-root /tmp/scale-base-bench --no-serve
    python benchmarks/scale.py --bundle DIR   # only step 4, on a saved bundle (e.g. the
                                              # pipeline's: `run_pipeline.py --reports` names it)

For each size it reuses (or generates, under --data-root) a synthetic data set with MovieLens
25M's users and movies per rating (`movie_roulette.data.synthetic.ml25m_shape`; a folder
`synthetic-<ratings>-seed<seed>` or `synthetic-<ratings>` whose truth.json has that size), then,
in a fresh process per size (so peak RSS is that size's own):

1. loads ratings and catalogue as the pipeline does (MovieLens reader, `merge_catalogue`,
   `add_content_text`) and splits them with the pipeline's `train_valid_test` (--config, default
   configs/ml-25m.yaml: per user, 20 % test, 20 % of the rest validation);
2. `train_hybrid` with the config's model settings (the scalable component set), timed:
   `fit_s` (components on train, weight search and rating stack on valid, refit on
   train + valid) and `peak_rss_mb` (ru_maxrss of the process right after training);
3. NDCG@10 (`evaluation.offline.ranking_metrics`, relevant = rating >= 4) on a seeded sample of
   --eval-users test users: the hybrid, popularity, and every component alone (each as fitted
   inside the hybrid); `ndcg@10_best_component` is the best non-popularity one;
   `ndcg@10_oracle` ranks with the generator's true tastes (`synthetic.TruthOracle`): the
   ceiling on this data;
4. `bundle.save` (schema 2, uncompressed .npy) -> `bundle_mb`; packaged as the pipeline
   registers it (pyfunc from code) and served by MLflow's scoring server as `make serve`
   deploys it (uvicorn's access log off, every request in the event log;
   `benchmarks/serving.py`'s "computed" mode) with --workers processes (default 2), the answer
   cache off and no warm-up; after 8 closed-loop clients send `recommend` requests for
   --duration seconds, `serve_rss_mb` is the PSS of the whole server (every process, shared
   pages counted once) and `recommend_p50_ms` / `recommend_p99_ms` the latencies.

Prints one JSON object: {"sizes": [...], "growth": {"fit_s_exponent", "peak_rss_exponent"}}
where `growth` is the least-squares slope of log(cost) on log(ratings) over the sizes.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


def _serving_bench():
    """benchmarks/serving.py (its Server and load_test), loaded under another name: the
    project's `serving` package has the same name."""
    spec = importlib.util.spec_from_file_location("serving_bench", ROOT / "benchmarks/serving.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def data_dir(root: Path, ratings: int, seed: int) -> Path:
    from movie_roulette.data import movielens
    from movie_roulette.data.synthetic import generate, ml25m_shape

    for folder in (root / f"synthetic-{ratings}-seed{seed}", root / f"synthetic-{ratings}"):
        truth = folder / "truth.json"
        if movielens.has_movielens(folder) and truth.is_file():
            meta = json.loads(truth.read_text())
            if meta.get("seed", seed) == seed:
                return folder
    folder = root / f"synthetic-{ratings}-seed{seed}"
    generate(ml25m_shape(ratings, seed), folder)
    return folder


DEFAULT_CONFIG = ROOT / "configs" / "ml-25m.yaml"


def add_synthetic_arguments(parser: argparse.ArgumentParser, config: Path = DEFAULT_CONFIG) -> None:
    """--config, --data-root, --seed: the options every synthetic-data benchmark shares."""
    parser.add_argument("--config", type=Path, default=config)
    parser.add_argument("--data-root", type=Path, default=Path("/tmp/movie-roulette-synthetic"))
    parser.add_argument("--seed", type=int, default=0)


def synthetic_config(args: argparse.Namespace, ratings: int):
    """--config with its data section pointing at the synthetic folder of `ratings` (generated
    under --data-root when absent; never downloaded)."""
    from movie_roulette.config import load_config

    folder = data_dir(args.data_root, ratings, args.seed)
    cfg = load_config(args.config)
    data = cfg.data.model_copy(update=dict(data_dir=str(folder), download=False))
    return cfg.model_copy(update=dict(data=data))


def load_split(cfg) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(ratings, train, valid, test) as the pipeline loads and splits them."""
    from movie_roulette.data import sources
    from movie_roulette.data.split import train_valid_test

    ratings = sources.load_ratings(cfg.data, seed=cfg.seed)
    return (ratings, *train_valid_test(ratings, cfg.split, seed=cfg.seed))


def load_catalogue(cfg, ratings: pd.DataFrame) -> pd.DataFrame:
    """The catalogue as the pipeline builds it (merge_catalogue, add_content_text)."""
    from movie_roulette.data import sources
    from movie_roulette.data.catalogue import merge_catalogue
    from movie_roulette.features.text import add_content_text

    sources_ = sources.load_catalogue_sources(cfg.data, seed=cfg.seed)
    return add_content_text(merge_catalogue(sources_, ratings=ratings))


def evaluation_sample(
    train: pd.DataFrame, valid: pd.DataFrame, test: pd.DataFrame, eval_users: int, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(seen = train + valid, the test rows of a seeded sample of `eval_users` test users): the
    evaluation protocol every synthetic-data benchmark shares (scale, synthetic_ceiling,
    als_sweep), so their NDCGs sit side by side."""
    cols = ["user_id", "movie_id", "rating"]
    seen = pd.concat([train[cols], valid[cols]], ignore_index=True)
    rng = np.random.default_rng(seed)
    users = np.unique(test["user_id"].to_numpy())
    sample = np.sort(rng.choice(users, min(eval_users, len(users)), replace=False))
    return seen, test[test["user_id"].isin(sample)]


def folder_mb(path: Path) -> float:
    """Size of every file under `path`, in MB (one decimal)."""
    return round(sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file()) / 2**20, 1)


def status_mb(field: str, pid: int | str = "self") -> float:
    """A memory line of /proc/PID/status (VmRSS, VmHWM: the peak) in MB."""
    text = Path(f"/proc/{pid}/status").read_text()
    return int(text.split(f"{field}:")[1].split()[0]) / 1024


def reset_peak_mb() -> float:
    """Reset this process's peak RSS (VmHWM) to its current RSS and return that, in MB: a later
    `status_mb("VmHWM")` minus it is the peak of the work in between."""
    Path("/proc/self/clear_refs").write_text("5")
    return status_mb("VmRSS")


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg} (peak RSS {_rss_mb()} MB)", file=sys.stderr)


def server_pss_mb(server) -> float:
    """PSS of every process of the server (shared pages counted once across them)."""
    import psutil

    root = psutil.Process(server.proc.pid)
    total = 0
    for proc in [root, *root.children(recursive=True)]:
        try:
            total += proc.memory_full_info().pss
        except psutil.Error:
            continue
    return round(total / 2**20, 1)


def serve(model_path: Path, catalogue, users: np.ndarray, args: argparse.Namespace) -> dict:
    import mlflow

    from serving.registry import pyfunc_kwargs

    bench = _serving_bench()
    with tempfile.TemporaryDirectory(prefix="scale-serve-") as tmp:
        packaged = Path(tmp) / "model"
        kwargs = pyfunc_kwargs()
        kwargs["code_paths"] = [str(args.library_snapshot)]  # the code this run trained with
        mlflow.pyfunc.save_model(str(packaged), artifacts={"bundle": str(model_path)}, **kwargs)
        # as `make serve` deploys it (uvicorn's access log off, every request appended to the
        # event log), with every answer computed: benchmarks/serving.py's "computed" mode
        # (or "computed-threaded": --serve-mode)
        env = bench.MODES[args.serve_mode](0, Path(tmp) / "events.jsonl")
        server = bench.Server(packaged, workers=args.workers, env=env)
        try:
            start_s = server.wait(args.workers, timeout=1800)
            _log(f"server up in {start_s} s")
            rows = [{"kind": "recommend", "user_id": int(u), "k": 10} for u in users]
            load = bench.load_test(server.url, rows, 8, args.duration, 2.0, server)
            pss = server_pss_mb(server)
            rss = server.worker_rss_mb()
        finally:
            server.stop()
    return {
        "serve_mode": args.serve_mode,
        "serve_workers": args.workers,
        "serve_rss_mb": pss,
        "serve_worker_rss_mb": rss,
        "serve_start_s": start_s,
        "recommend_p50_ms": load["p50_ms"],
        "recommend_p99_ms": load["p99_ms"],
        "recommend_requests": load["requests"],
        "recommend_errors": load["errors"],
        # keep-alive connections stay with the worker that accepted them: how the 8 clients'
        # load fell on the server's processes (% of its CPU) explains much of a run's latency
        "recommend_server_cpu_ms": load.get("server_cpu_ms_per_request"),
        "recommend_server_cpu_share_pct": load.get("server_cpu_share_pct"),
        "recommend_requests_per_client": load.get("requests_per_client"),
        "recommend_reconnects": load.get("reconnects"),
    }


def _watch_memory(every_s: float = 60.0) -> None:
    """Log the current and peak RSS every minute (a run stopped halfway still says how far it
    got and what it held)."""
    import threading

    import psutil

    def loop() -> None:
        proc = psutil.Process()
        while True:
            time.sleep(every_s)
            _log(f"rss now {proc.memory_info().rss / 2**20:.0f} MB")

    threading.Thread(target=loop, daemon=True).start()


def measure_size(args: argparse.Namespace) -> dict:
    """One size, in this process (called in a child process per size)."""
    import logging

    logging.basicConfig(
        level=logging.INFO, format="[%(asctime)s] %(name)s: %(message)s", stream=sys.stderr
    )
    _watch_memory()
    import shutil

    import movie_roulette
    from movie_roulette import bundle
    from movie_roulette.evaluation.offline import ranking_metrics
    from movie_roulette.models.hybrid import train_hybrid

    # a copy of the library as this process imported it: the server is packaged with it, so an
    # edit of the working tree during a long run cannot reach the served code
    snapshot = Path(tempfile.mkdtemp(prefix="scale-library-")) / "movie_roulette"
    shutil.copytree(Path(movie_roulette.__file__).parent, snapshot)
    args.library_snapshot = snapshot
    cfg = synthetic_config(args, args.child)
    model_cfg = cfg.model
    if args.ease_max_items is not None:
        imp = model_cfg.implicit.model_copy(update=dict(ease_max_items=args.ease_max_items))
        model_cfg = model_cfg.model_copy(update=dict(implicit=imp))
    if args.genre_taste:
        taste = model_cfg.genre_taste.model_copy(update=dict(enabled=True))
        model_cfg = model_cfg.model_copy(update=dict(genre_taste=taste))
    t0 = time.perf_counter()
    ratings, train, valid, test = load_split(cfg)
    catalogue = load_catalogue(cfg, ratings)
    out: dict = {
        "ratings": int(len(ratings)),
        "users": int(ratings["user_id"].nunique()),
        "movies": int(catalogue["movie_id"].nunique()),
        "load_split_s": round(time.perf_counter() - t0, 1),
    }
    del ratings
    gc.collect()
    _log(f"loaded {out}")
    start = time.perf_counter()
    model = train_hybrid(train, valid, catalogue, model_cfg, seed=cfg.seed)
    out["fit_s"] = round(time.perf_counter() - start, 1)
    out["peak_rss_mb"] = _rss_mb()
    info = model.fit_info
    out["fit_info"] = {
        k: info.get(k)
        for k in (
            "component_fit_seconds",
            "refit_component_fit_seconds",
            "weight_search_seconds",
            "rating_stack_seconds",
            "valid_users",
            "search_width",
            "weights",
            "memory_estimate_gb",
        )
    }
    _log(f"trained in {out['fit_s']} s")
    seen, test_sample = evaluation_sample(train, valid, test, args.eval_users, args.seed)
    sample = np.unique(test_sample["user_id"].to_numpy())
    start = time.perf_counter()
    ndcg = {"hybrid": ranking_metrics(model, seen, test_sample, k=10)["ndcg@10"]}
    for name, comp in model.components.items():
        ndcg[name] = ranking_metrics(comp, seen, test_sample, k=10)["ndcg@10"]
    from movie_roulette.data.synthetic import TruthOracle

    # the generator's own ranking (true tastes): the ceiling a learned model approaches
    oracle = TruthOracle(cfg.data.data_dir, seen)
    ndcg_oracle = round(ranking_metrics(oracle, seen, test_sample, k=10)["ndcg@10"], 4)
    del oracle
    ndcg = {k: round(v, 4) for k, v in ndcg.items()}
    _log(f"evaluated in {time.perf_counter() - start:.0f} s: {ndcg}")
    singles = {k: v for k, v in ndcg.items() if k not in ("hybrid", "popularity")}
    best = max(singles, key=lambda k: singles[k]) if singles else None
    out.update(
        {
            "ndcg@10": ndcg["hybrid"],
            "ndcg@10_popularity": ndcg.get("popularity"),
            "ndcg@10_oracle": ndcg_oracle,
            "ndcg@10_best_component": ndcg.get(best) if best else None,
            "best_component": best,
            "ndcg@10_components": ndcg,
        }
    )
    with tempfile.TemporaryDirectory(prefix="scale-bundle-") as tmp:
        path = bundle.save(Path(tmp) / "bundle", model, catalogue, {"benchmark": "scale"})
        out["bundle_mb"] = folder_mb(path)
        _log(f"bundle {out['bundle_mb']} MB")
        del model, train, valid, seen
        gc.collect()
        if args.no_serve:
            out.update({"serve_rss_mb": None, "recommend_p50_ms": None, "recommend_p99_ms": None})
        else:
            out.update(serve(path, catalogue, sample, args))
    _log("done")
    return out


def serve_bundle(args: argparse.Namespace) -> dict:
    """--bundle: serve a saved bundle (e.g. the one `run_pipeline.py` registered) as step 4
    does, without training: requests for a seeded sample of --eval-users of its users."""
    import shutil

    import movie_roulette
    from movie_roulette import bundle

    snapshot = Path(tempfile.mkdtemp(prefix="scale-library-")) / "movie_roulette"
    shutil.copytree(Path(movie_roulette.__file__).parent, snapshot)
    args.library_snapshot = snapshot
    users = bundle.load_user_ids(args.bundle)
    rng = np.random.default_rng(args.seed)
    sample = np.sort(rng.choice(users, min(args.eval_users, len(users)), replace=False))
    out = {
        "bundle": str(args.bundle),
        "users": int(len(users)),
        "bundle_mb": folder_mb(args.bundle),
    }
    out.update(serve(args.bundle, None, sample, args))
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
    add_synthetic_arguments(parser)
    parser.add_argument("--eval-users", type=int, default=2000)
    parser.add_argument("--duration", type=float, default=20.0, help="load test seconds")
    parser.add_argument(
        "--workers", type=int, default=2, help="model server worker processes (serving.workers)"
    )
    parser.add_argument(
        "--serve-mode",
        choices=["computed", "computed-threaded"],
        default="computed",
        help="computed-threaded: each request answered in MLflow's thread (serving/direct.py)",
    )
    parser.add_argument(
        "--ease-max-items", type=int, default=None, help="override the config's EASE item cap"
    )
    parser.add_argument(
        "--genre-taste",
        action="store_true",
        help="add the genre_taste component (model.genre_taste.enabled) to the config's hybrid",
    )
    parser.add_argument("--no-serve", action="store_true", help="skip the model server")
    parser.add_argument("--json", action="store_true", help="only the JSON object on stdout")
    parser.add_argument(
        "--bundle", type=Path, help="only serve this saved model bundle (no data, no training)"
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bundle:
        print(json.dumps(serve_bundle(args), indent=2))
        return
    if args.child:
        print(json.dumps(measure_size(args)))
        return
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        cmd = [sys.executable, __file__, *sys.argv[1:], "--child", str(size)]
        done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
        if done.returncode != 0:
            results.append({"ratings": size, "error": f"exit {done.returncode} (see stderr)"})
            continue
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
            "config": str(args.config),
            "seed": args.seed,
            "eval_users": args.eval_users,
            "ease_max_items_override": args.ease_max_items,
            "genre_taste_added": args.genre_taste,
            "duration_s": args.duration,
        },
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
