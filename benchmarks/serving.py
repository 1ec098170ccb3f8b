"""Serving benchmark: latency and throughput of the model server under concurrent clients.

    python benchmarks/serving.py                       # ml-latest-small model, 8 clients, 10 s/kind
    python benchmarks/serving.py --dataset demo --duration 3 --json
    python benchmarks/serving.py --server http://127.0.0.1:8000   # a server `make serve` started

What it does, in one run:
1. trains the hybrid on the dataset exactly as the pipeline does (configs/movielens.yaml or
   configs/quickstart.yaml model settings) and packages it exactly as the pipeline registers it
   (pyfunc from code, same signature; cached under --cache-dir between runs);
2. serves it the way ZenML's MLflow deployer does (MLflow's scoring server: uvicorn,
   `--env-manager local`, 1 worker) on a free loopback port, and a trivial identity pyfunc with
   the same signature the same way;
3. for each request kind (recommend, similar, predict, spin), runs N closed-loop clients (keep-alive
   HTTP sessions) for a fixed duration and records every latency; then the identity model under
   the recommend load (the server's own ceiling);
4. measures the in-process time of the loaded pyfunc's `predict` on the same requests (the floor:
   no HTTP, no JSON).
Prints p50/p95/p99 latency (ms), throughput (req/s) and the ratios to the identity server.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

KINDS = ("recommend", "similar", "predict", "spin")
TARGETS = {"recommend_p50_ms": 10.0, "recommend_p99_ms": 40.0, "throughput_vs_identity": 0.5}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------------------------- the model
def build_model(dataset: str, data_dir: str | None, cache_dir: Path, rebuild: bool) -> Path:
    """Train + package the pipeline's model once; reuse it from the cache afterwards."""
    import mlflow

    from movie_roulette import bundle
    from movie_roulette.config import DataConfig, load_config
    from movie_roulette.data import sources
    from movie_roulette.data.catalogue import merge_catalogue
    from movie_roulette.data.split import train_valid_test
    from movie_roulette.features.text import add_content_text
    from movie_roulette.models.hybrid import train_hybrid
    from serving.registry import pyfunc_kwargs

    target = cache_dir / f"serving-model-{dataset}"
    if target.is_dir() and not rebuild:
        return target
    cfg = load_config(
        ROOT / "configs" / ("quickstart.yaml" if dataset == "demo" else "movielens.yaml")
    )
    data_cfg = (
        DataConfig(source="demo")
        if dataset == "demo"
        else DataConfig(source="movielens", data_dir=data_dir or cfg.data.data_dir)
    )
    t0 = time.perf_counter()
    ratings = sources.load_ratings(data_cfg, seed=cfg.seed)
    catalogue = add_content_text(
        merge_catalogue(sources.load_catalogue_sources(data_cfg, seed=cfg.seed), ratings=ratings)
    )
    train, valid, _ = train_valid_test(ratings, cfg.split, seed=cfg.seed)
    model = train_hybrid(train, valid, catalogue, cfg.model, seed=cfg.seed)
    print(f"trained the {dataset} model in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        path = bundle.save(Path(tmp) / "bundle", model, catalogue, {"benchmark": True})
        staging = cache_dir / f".{target.name}.tmp"
        if staging.exists():
            import shutil

            shutil.rmtree(staging)
        mlflow.pyfunc.save_model(str(staging), artifacts={"bundle": str(path)}, **pyfunc_kwargs())
    if target.exists():
        import shutil

        shutil.rmtree(target)
    staging.rename(target)
    return target


def build_identity(cache_dir: Path) -> Path:
    import mlflow

    from serving.registry import pyfunc_kwargs

    target = cache_dir / "serving-identity"
    if not target.is_dir():
        kwargs = pyfunc_kwargs()
        kwargs["python_model"] = str(ROOT / "benchmarks" / "identity_model.py")
        kwargs["code_paths"] = None
        mlflow.pyfunc.save_model(str(target), **kwargs)
    return target


class Server:
    """MLflow's scoring server for a saved model, started like ZenML's deployer starts it."""

    def __init__(self, model_dir: Path, workers: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        }
        self.log = tempfile.NamedTemporaryFile(prefix="serving-bench-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "models", "serve", "-m", str(model_dir),
             "--env-manager", "local", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(workers)],
            stdout=self.log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )  # fmt: skip

    def wait(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited; log: {Path(self.log.name).read_text()[-2000:]}")
            try:
                if requests.get(f"{self.url}/ping", timeout=1).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"server not healthy in {timeout} s; log: {self.log.name}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


# -------------------------------------------------------------------------------- the requests
def request_pool(model_dir: Path, n: int, seed: int) -> dict[str, list[dict[str, Any]]]:
    from movie_roulette import bundle

    loaded = bundle.load(model_dir / "artifacts" / "bundle")
    rng = np.random.default_rng(seed)
    users = rng.choice(loaded.model.user_ids, n)
    movies = rng.choice(loaded.catalogue["movie_id"].to_numpy(), n)
    return {
        "recommend": [{"kind": "recommend", "user_id": int(u), "k": 10} for u in users],
        "similar": [{"kind": "similar", "movie_id": int(m), "k": 10} for m in movies],
        "predict": [
            {"kind": "predict", "user_id": int(u), "movie_id": int(m)}
            for u, m in zip(users, movies, strict=True)
        ],
        "spin": [{"kind": "spin", "user_id": int(u), "seed": i} for i, u in enumerate(users)],
    }


def load_test(
    url: str, rows: list[dict[str, Any]], clients: int, duration: float, warmup: float
) -> dict[str, Any]:
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    start = time.perf_counter() + warmup
    stop = start + duration

    def client(i: int) -> None:
        session = requests.Session()
        j = i
        while True:
            row = rows[j % len(rows)]
            j += clients
            t0 = time.perf_counter()
            if t0 >= stop:
                return
            try:
                response = session.post(
                    f"{url}/invocations", json={"dataframe_records": [row]}, timeout=30
                )
                ok = (
                    response.status_code == 200 and "error" not in response.json()["predictions"][0]
                )
            except (requests.RequestException, ValueError, KeyError, TypeError):
                ok = False
            t1 = time.perf_counter()
            if t0 >= start:
                latencies[i].append(t1 - t0)
                errors[i] += not ok

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lat = np.array([x for per in latencies for x in per]) * 1000
    return {
        "requests": int(lat.size),
        "errors": int(sum(errors)),
        "p50_ms": round(float(np.percentile(lat, 50)), 2),
        "p95_ms": round(float(np.percentile(lat, 95)), 2),
        "p99_ms": round(float(np.percentile(lat, 99)), 2),
        "throughput_rps": round(lat.size / duration, 1),
    }


def in_process(model_dir: Path, pool: dict[str, list[dict[str, Any]]], n: int) -> dict[str, Any]:
    import mlflow

    from serving.schema import request_frame

    model = mlflow.pyfunc.load_model(str(model_dir))
    out = {}
    for kind, rows in pool.items():
        times = []
        for row in rows[:n]:
            frame = request_frame([row])
            t0 = time.perf_counter()
            model.predict(frame)
            times.append(time.perf_counter() - t0)
        t = np.array(times) * 1000
        out[kind] = {
            "p50_ms": round(float(np.percentile(t, 50)), 2),
            "p99_ms": round(float(np.percentile(t, 99)), 2),
        }
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    cache_dir = Path(args.cache_dir).expanduser()
    cache_dir.mkdir(parents=True, exist_ok=True)
    model_dir = build_model(args.dataset, args.data_dir, cache_dir, args.rebuild)
    identity_dir = build_identity(cache_dir)
    pool = request_pool(model_dir, 2000, args.seed)
    result: dict[str, Any] = {
        "dataset": args.dataset,
        "clients": args.clients,
        "duration_s": args.duration,
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "load_average_before": os.getloadavg()[0],
        "in_process": in_process(model_dir, pool, args.in_process_requests),
        "server": {},
    }
    servers = []
    try:
        if args.server:
            url = args.server.rstrip("/")
        else:
            ours = Server(model_dir, args.workers)
            servers.append(ours)
            ours.wait()
            url = ours.url
        identity = Server(identity_dir, args.workers)
        servers.append(identity)
        identity.wait()
        for kind in KINDS:
            result["server"][kind] = load_test(
                url, pool[kind], args.clients, args.duration, args.warmup
            )
            print(f"{kind}: {result['server'][kind]}", file=sys.stderr)
        for s in servers[:-1]:
            s.stop()  # the identity run gets the machine to itself
        result["identity"] = load_test(
            identity.url, pool["recommend"], args.clients, args.duration, args.warmup
        )
        print(f"identity: {result['identity']}", file=sys.stderr)
    finally:
        for s in servers:
            s.stop()
    rec, ident = result["server"]["recommend"], result["identity"]
    result["ratios"] = {
        "recommend_throughput_vs_identity": round(
            rec["throughput_rps"] / ident["throughput_rps"], 3
        ),
        "recommend_p50_vs_identity": round(rec["p50_ms"] / ident["p50_ms"], 2),
        "recommend_p50_vs_in_process": round(
            rec["p50_ms"] / result["in_process"]["recommend"]["p50_ms"], 2
        ),
    }
    result["targets"] = {
        "recommend_p50_ms<=10": rec["p50_ms"] <= TARGETS["recommend_p50_ms"],
        "recommend_p99_ms<=40": rec["p99_ms"] <= TARGETS["recommend_p99_ms"],
        "throughput>=0.5x_identity": result["ratios"]["recommend_throughput_vs_identity"]
        >= TARGETS["throughput_vs_identity"],
    }
    return result


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"{result['clients']} concurrent clients, {result['duration_s']:g} s per kind, "
        f"{result['workers']} server worker(s), {result['cpus']} CPUs, dataset {result['dataset']}",
        "",
        "| server | p50 ms | p95 ms | p99 ms | req/s | errors | in-process p50 ms |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for kind, r in result["server"].items():
        floor = result["in_process"][kind]["p50_ms"]
        lines.append(
            f"| {kind} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | {r['throughput_rps']} "
            f"| {r['errors']} | {floor} |"
        )
    r = result["identity"]
    lines.append(
        f"| identity pyfunc (ceiling) | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} "
        f"| {r['throughput_rps']} | {r['errors']} | – |"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=["ml-latest-small", "demo"], default="ml-latest-small")
    parser.add_argument("--data-dir", default=os.environ.get("MOVIE_ROULETTE_DATA_DIR"))
    parser.add_argument("--server", help="benchmark this running server instead of starting one")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per request kind")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--in-process-requests", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", default=os.environ.get(
        "MOVIE_ROULETTE_CACHE_DIR", "~/.cache/movie_roulette"))  # fmt: skip
    parser.add_argument("--rebuild", action="store_true", help="retrain the cached model")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    if args.data_dir is None and args.dataset != "demo":
        shared = ROOT.parent / "shared" / "data"
        args.data_dir = str(shared) if shared.is_dir() else None
    result = run(args)
    print(json.dumps(result, indent=2) if args.json else markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
