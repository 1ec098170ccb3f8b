"""What capping EASE at the N most-rated movies buys and costs on ml-latest-small.

    python benchmarks/ease_cap.py                                # caps none,4000,2000
    python benchmarks/ease_cap.py --caps none,2000 --serve --json
    python benchmarks/ease_cap.py --dataset demo --caps none,150 --cv-folds 2   # quick check

`model.implicit.ease_max_items` = N makes the three EASE components of the hybrid model only the
N movies with the most interactions (the others get EASE's lowest z-score, in the blend and in
the rating stack). A served recommend sums one row of each EASE matrix per rated movie:
a user with 2,000 ratings reads 3 x 2,000 rows of 9,700 floats (230 MB) uncapped. For each cap
this script measures, in one run:

* holdout (the pipeline's split and seed, `train_hybrid` as the pipeline trains it): NDCG@10
  and RMSE on the test split, the hybrid's blend weights and its fit seconds;
* `--cv-folds` (default 5): 5-fold CV RMSE of the hybrid, as `benchmarks/accuracy.py` runs it
  (the issue's small-path targets: NDCG@10 >= 0.318, CV RMSE <= 0.8172);
* in-process: CPU ms of `recommend_items` for `--users` sampled known users on one BLAS thread
  (as a server worker), the caps interleaved over `--passes` passes so the machine's drift falls
  on all of them;
* `--serve`: each holdout model packaged and served as `make serve` serves it with every answer
  computed (`benchmarks/serving.py`'s "computed" mode: 2 workers, 8 closed-loop clients),
  recommend and similar p50 / p99 and server CPU per request.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


def _sibling(name: str) -> ModuleType:
    """benchmarks/<name>.py under another module name (`serving` is also a package)."""
    spec = importlib.util.spec_from_file_location(f"{name}_bench", ROOT / f"benchmarks/{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_caps(text: str) -> list[int | None]:
    """Caps from "none,4000,2000" (None: every movie); a cap is a positive whole number."""
    caps: list[int | None] = []
    for part in text.split(","):
        part = part.strip().lower()
        if part in ("none", "all", ""):
            caps.append(None)
        elif part.isdigit() and int(part) > 0:
            caps.append(int(part))
        else:
            raise ValueError(f"cap {part!r}: give a positive whole number of movies, or 'none'")
    return list(dict.fromkeys(caps))


def capped(model_cfg: Any, cap: int | None) -> Any:
    """The model config with `implicit.ease_max_items` = cap."""
    implicit = model_cfg.implicit.model_copy(update={"ease_max_items": cap})
    return model_cfg.model_copy(update={"implicit": implicit})


def label(cap: int | None) -> str:
    return "none" if cap is None else str(cap)


def recommend_cpu(
    models: dict[str, Any], n_users: int, passes: int, seed: int
) -> dict[str, dict[str, float]]:
    """CPU ms of one `recommend_items` per sampled known user, per model, interleaved."""
    import scipy.linalg  # noqa: F401  (loads the BLAS that threadpool_limits then limits)
    from threadpoolctl import threadpool_limits

    first = next(iter(models.values()))
    users = np.random.default_rng(seed).choice(first.user_ids, n_users)
    times: dict[str, list[float]] = {name: [] for name in models}
    with threadpool_limits(limits=1):
        for _ in range(passes):
            for name, model in models.items():
                for user in users:
                    started = time.process_time()
                    model.recommend_items(int(user), k=10)
                    times[name].append(time.process_time() - started)
    out = {}
    for name, spent in times.items():
        ms = np.array(spent) * 1000
        out[name] = {
            "mean_ms": round(float(ms.mean()), 3),
            "p50_ms": round(float(np.percentile(ms, 50)), 3),
            "p99_ms": round(float(np.percentile(ms, 99)), 2),
            "max_ms": round(float(ms.max()), 1),
        }
    return out


def serve(model: Any, catalogue: Any, duration: float, seed: int) -> dict[str, Any]:
    """recommend and similar through the computed server (see the module doc)."""
    import mlflow

    from movie_roulette import bundle
    from serving.registry import pyfunc_kwargs

    bench = _sibling("serving")
    with tempfile.TemporaryDirectory(prefix="ease-cap-serve-") as tmp:
        path = bundle.save(Path(tmp) / "bundle", model, catalogue, {"benchmark": True})
        packaged = Path(tmp) / "model"
        mlflow.pyfunc.save_model(str(packaged), artifacts={"bundle": str(path)}, **pyfunc_kwargs())
        pool = bench.request_pool(packaged, 2000, seed)
        server = bench.Server(packaged, 2, bench.computed_env(0, Path(tmp) / "events.jsonl"))
        try:
            server.wait(2)
            out = {}
            for kind in ("recommend", "similar"):
                load = bench.load_test(server.url, pool[kind], 8, duration, 1.0, server)
                out[kind] = {
                    "p50_ms": load["p50_ms"],
                    "p99_ms": load["p99_ms"],
                    "server_cpu_ms": load.get("server_cpu_ms_per_request"),
                    "errors": load["errors"],
                }
        finally:
            server.stop()
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    from movie_roulette import columns as C
    from movie_roulette.config import load_config
    from movie_roulette.models.hybrid import train_hybrid

    acc = _sibling("accuracy")
    config = "quickstart.yaml" if args.dataset == "demo" else "movielens.yaml"
    cfg = load_config(ROOT / "configs" / config)
    seed = cfg.seed
    ratings, catalogue = acc.load(args.dataset, args.data_dir, seed)
    train, valid, test = acc.train_valid_test(ratings, cfg.split, seed=seed)
    catalogue, _ = acc.with_review_sentiment(
        args.dataset, args.data_dir, seed, catalogue, valid, test
    )
    seen = acc.seen_ratings(train, valid, cfg.model.refit_on_train_and_valid)
    genres = dict(zip(catalogue[C.MOVIE_ID].astype(int), catalogue[C.GENRES], strict=True))
    result: dict[str, Any] = {"dataset": args.dataset, "ratings": len(ratings), "caps": {}}
    models = {}
    for cap in args.caps:
        started = time.perf_counter()
        model = train_hybrid(train, valid, catalogue, capped(cfg.model, cap), seed=seed)
        fit_s = time.perf_counter() - started
        metrics = acc.evaluate(model, seen, test, item_genres=genres)
        ease = model.components.get("ease")
        models[label(cap)] = model
        result["caps"][label(cap)] = {
            "ease_movies": None if ease is None else int(ease.n_movies),
            "movies": int(model.n_movies),
            "holdout_ndcg@10": round(float(metrics["ndcg@10"]), 4),
            "holdout_rmse": round(float(metrics["rmse"]), 4),
            "fit_s": round(fit_s, 1),
            "weights": {k: round(float(v), 3) for k, v in model.weights.items()},
        }
        _log(f"cap {label(cap)}: {result['caps'][label(cap)]}")
        if args.cv_folds >= 2:
            pcfg = cfg.model_copy(update={"model": capped(cfg.model, cap)})
            cv = acc.cross_validate(ratings, catalogue, pcfg, seed, args.cv_folds, [], _log)
            hybrid = cv["models"]["hybrid"]
            result["caps"][label(cap)]["cv_rmse"] = round(hybrid["rmse"], 4)
            result["caps"][label(cap)]["cv_rmse_per_fold"] = hybrid["rmse_per_fold"]
    cpu = recommend_cpu(models, args.users, args.passes, args.seed)
    for name, row in cpu.items():
        result["caps"][name]["recommend_cpu"] = row
    if args.serve:
        for name, model in models.items():
            result["caps"][name]["served_computed"] = serve(
                model, catalogue, args.duration, args.seed
            )
            _log(f"cap {name} served: {result['caps'][name]['served_computed']}")
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return result


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=["ml-latest-small", "demo"], default="ml-latest-small")
    parser.add_argument("--data-dir", default=os.environ.get("MOVIE_ROULETTE_DATA_DIR"))
    parser.add_argument("--caps", default="none,4000,2000", help="e.g. none,4000,2000")
    parser.add_argument("--cv-folds", type=int, default=5, help="0: no cross-validation")
    parser.add_argument("--users", type=int, default=1000, help="in-process recommend sample")
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--serve", action="store_true", help="also the computed server")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per served kind")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        args.caps = parse_caps(args.caps)
    except ValueError as err:
        parser.error(str(err))
    if args.data_dir is None and args.dataset != "demo":
        shared = ROOT.parent / "shared" / "data"
        args.data_dir = str(shared) if shared.is_dir() else None
    result = run(args)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for name, row in result["caps"].items():
            print(name, json.dumps(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
