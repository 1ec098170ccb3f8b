"""Serving benchmark: latency and throughput of the model server under concurrent clients.

    python benchmarks/serving.py                       # ml-latest-small model, 8 clients, 10 s/kind
    python benchmarks/serving.py --dataset demo --duration 3 --json
    python benchmarks/serving.py --server http://127.0.0.1:8000   # a server `make serve` started
    python benchmarks/serving.py --baseline 6bd485b --modes computed   # before/after, one run

What it does, in one run:
1. trains the hybrid on the dataset exactly as the pipeline does (configs/movielens.yaml or
   configs/quickstart.yaml model settings) and packages it exactly as the pipeline registers it
   (pyfunc from code, same signature; cached under --cache-dir between runs, and packaged
   again, without retraining, when the library changed: the package carries a copy of it;
   --rebuild retrains);
2. serves it the way ZenML's MLflow deployer does (MLflow's scoring server command with the
   guarded app, serving/command.py; the config's `serving.workers` and `serving.warm_seconds`) on
   a free loopback port, in each mode: as deployed (answer cache on, warmed at start-up), with
   every request computed (cache off), and computed with each request handed to MLflow's app in
   a thread (`computed-threaded`, the path before serving/direct.py); then a trivial identity
   pyfunc with the same signature the same way;
3. for each request kind (recommend, similar, predict, spin), runs N closed-loop clients (one
   keep-alive connection each, raw `http.client`: the load generator shares the machine's cores
   with the server, so it is kept lean and its own CPU per request is reported) for a fixed
   duration and records every latency; then the identity model under the recommend load (the
   server's own ceiling) with the machine to itself;
4. measures the in-process time of the loaded pyfunc's `predict` on the same requests, cache off
   (the floor: no HTTP, no JSON).
With `--baseline REF` the same trained bundle is also packaged with the library of git commit
REF and served before each mode ("computed@REF", then "computed"): before and after in one run,
on the same model and the same (shared, noisy) machine, with their ratios.
Prints p50/p95/p99 latency (ms), throughput (req/s), server and load-generator CPU per request,
and the ratios to the identity server; the targets are checked on the deployed configuration.
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
# issue 13: with every request computed (answer cache off), 8 clients
COMPUTED_TARGETS = {"recommend_p99_ms": 40.0, "similar_p99_ms": 20.0}
BASELINE_SUFFIX = "@"  # "computed@6bd485b": a mode served with the library of another commit


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
        if _code_stamp(target) != library_fingerprint():  # the library changed: same bundle
            repackage(target, target / "artifacts" / "bundle")
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
    (staging / CODE_STAMP).write_text(library_fingerprint())
    if target.exists():
        import shutil

        shutil.rmtree(target)
    staging.rename(target)
    return target


CODE_STAMP = "library.sha256"


def library_fingerprint(root: Path = ROOT) -> str:
    """sha256 of the library and the pyfunc model file the package carries."""
    import hashlib

    digest = hashlib.sha256()
    files = sorted((root / "src" / "movie_roulette").rglob("*.py"))
    for path in [*files, root / "serving" / "pyfunc_model.py"]:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _code_stamp(model_dir: Path) -> str | None:
    stamp = model_dir / CODE_STAMP
    return stamp.read_text() if stamp.exists() else None


def repackage(target: Path, bundle_dir: Path, code_root: Path = ROOT) -> Path:
    """Package the trained bundle at `bundle_dir` again, with the library and pyfunc model file
    of `code_root` (this checkout, or another commit's sources): no retraining. The bundle is
    copied first, as it may live inside `target`."""
    import shutil

    import mlflow

    from serving.registry import pyfunc_kwargs

    kwargs = pyfunc_kwargs()
    kwargs["python_model"] = str(code_root / "serving" / "pyfunc_model.py")
    kwargs["code_paths"] = [str(code_root / "src" / "movie_roulette")]
    with tempfile.TemporaryDirectory() as tmp:
        bundle_copy = Path(tmp) / "bundle"
        shutil.copytree(bundle_dir, bundle_copy)
        staging = target.with_name(f".{target.name}.tmp")
        if staging.exists():
            shutil.rmtree(staging)
        mlflow.pyfunc.save_model(str(staging), artifacts={"bundle": str(bundle_copy)}, **kwargs)
    (staging / CODE_STAMP).write_text(library_fingerprint(code_root))
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)
    print(f"packaged {target.name} with the library of {code_root}", file=sys.stderr)
    return target


def build_baseline(model_dir: Path, ref: str, cache_dir: Path) -> Path:
    """The same trained bundle packaged with the library of git commit `ref` (before/after in
    one run: same model, same machine, same load)."""
    import subprocess as sp

    target = cache_dir / f"serving-model-baseline-{ref}"
    with tempfile.TemporaryDirectory() as tmp:
        archive = sp.run(
            ["git", "-C", str(ROOT), "archive", ref, "src/movie_roulette", "serving"],
            check=True, capture_output=True,
        ).stdout  # fmt: skip
        sp.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        code_root = Path(tmp)
        if not target.is_dir() or _code_stamp(target) != library_fingerprint(code_root):
            repackage(target, model_dir / "artifacts" / "bundle", code_root)
    return target


def build_identity(cache_dir: Path) -> Path:
    import mlflow

    from serving.registry import pyfunc_kwargs

    target = cache_dir / "serving-identity"
    if not target.is_dir():
        kwargs = pyfunc_kwargs()
        kwargs["python_model"] = str(ROOT / "benchmarks" / "identity_model.py")
        mlflow.pyfunc.save_model(str(target), **kwargs)
    return target


class Server:
    """The model server for a saved model, started as ZenML's deployer starts it (MLflow's
    scoring server command, serving the guarded app of this checkout: serving/command.py)."""

    def __init__(self, model_dir: Path, workers: int, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            **(env or {}),
        }
        self.log = tempfile.NamedTemporaryFile(prefix="serving-bench-", suffix=".log", delete=False)
        from serving.command import guarded_command

        argv, command_env = guarded_command(str(model_dir), self.port, "127.0.0.1", workers)
        self.proc = subprocess.Popen(
            argv, stdout=self.log, stderr=subprocess.STDOUT, env={**command_env, **env},
            cwd=ROOT, start_new_session=True,
        )  # fmt: skip

    def wait(self, workers: int, timeout: float = 300.0) -> float:
        """Seconds until /ping answers and all `workers` have started (model loaded, cache warm).

        /ping answers as soon as one worker has loaded; a client connecting before the others
        are ready stays with that one worker (serving/deployment.py waits the same way before
        it reports a deployment)."""
        started = time.monotonic()
        deadline = started + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited; log: {Path(self.log.name).read_text()[-2000:]}")
            try:
                healthy = requests.get(f"{self.url}/ping", timeout=1).ok
            except requests.RequestException:
                healthy = False
            from serving.deployment import READY_LINE

            ready = Path(self.log.name).read_text(errors="replace").count(READY_LINE)
            if healthy and ready >= workers:
                return round(time.monotonic() - started, 1)
            time.sleep(0.25)
        raise RuntimeError(f"server not healthy in {timeout} s; log: {self.log.name}")

    def warm_log(self) -> list[str]:
        text = Path(self.log.name).read_text(errors="replace")
        return [line.strip() for line in text.splitlines() if "answer cache warmed" in line]

    def cpu_seconds(self) -> dict[int, float]:
        """User + system CPU of each process of the server's tree so far, by pid."""
        import psutil

        out = {}
        root = psutil.Process(self.proc.pid)
        for proc in [root, *root.children(recursive=True)]:
            try:
                times = proc.cpu_times()
                out[proc.pid] = times.user + times.system
            except psutil.NoSuchProcess:
                continue
        return out

    def worker_rss_mb(self) -> list[float]:
        """Resident memory of each process that serves requests (uvicorn and its workers)."""
        import psutil

        out = []
        for proc in psutil.Process(self.proc.pid).children(recursive=True):
            try:
                cmdline = " ".join(proc.cmdline())
                if "uvicorn" in cmdline or "multiprocessing" in cmdline:
                    out.append(round(proc.memory_info().rss / 2**20, 1))
            except psutil.Error:
                continue
        return out

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
    url: str,
    rows: list[dict[str, Any]],
    clients: int,
    duration: float,
    warmup: float,
    server: Server | None = None,
) -> dict[str, Any]:
    """`clients` closed-loop clients, each with one keep-alive connection, for `duration` s."""
    import http.client
    import resource
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host, port, prefix = parts.hostname or "127.0.0.1", parts.port or 80, parts.path.rstrip("/")
    bodies = [json.dumps({"inputs": [row]}).encode() for row in rows]
    headers = {"Content-Type": "application/json"}
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    closes = [0] * clients  # answers that closed their connection (serving/balance.py)
    start = time.perf_counter() + warmup
    stop = start + duration
    marks: dict[str, Any] = {}

    def client(i: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        j = i
        while True:
            body = bodies[j % len(bodies)]
            j += clients
            t0 = time.perf_counter()
            if t0 >= stop:
                conn.close()
                return
            try:
                conn.request("POST", f"{prefix}/invocations", body, headers)
                response = conn.getresponse()
                data = response.read()
                ok = response.status == 200 and "error" not in json.loads(data)["predictions"][0]
                closes[i] += response.will_close
            except (OSError, http.client.HTTPException, ValueError, KeyError, TypeError):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=30)
            t1 = time.perf_counter()
            if t0 >= start:
                latencies[i].append(t1 - t0)
                errors[i] += not ok

    def cpu_mark(name: str, at: float) -> None:
        time.sleep(max(0.0, at - time.perf_counter()))
        usage = resource.getrusage(resource.RUSAGE_SELF)
        marks[f"client_{name}"] = usage.ru_utime + usage.ru_stime
        marks[f"server_{name}"] = server.cpu_seconds() if server else {}

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    cpu_mark("start", start)
    cpu_mark("stop", stop)
    for t in threads:
        t.join()
    lat = np.array([x for per in latencies for x in per]) * 1000
    n = max(int(lat.size), 1)
    out = {
        "requests": int(lat.size),
        "errors": int(sum(errors)),
        "p50_ms": round(float(np.percentile(lat, 50)), 2),
        "p95_ms": round(float(np.percentile(lat, 95)), 2),
        "p99_ms": round(float(np.percentile(lat, 99)), 2),
        "throughput_rps": round(lat.size / duration, 1),
        "client_cpu_ms_per_request": round(
            1000 * (marks["client_stop"] - marks["client_start"]) / n, 3
        ),
        # requests each client completed, most first: clients whose connection landed on the
        # less loaded worker complete more (uneven splits of keep-alive connections)
        "requests_per_client": sorted((len(per) for per in latencies), reverse=True),
        # connections the server closed to spread the clients over its workers, warm-up
        # included (each client reconnected at once)
        "reconnects": int(sum(closes)),
    }
    if server is not None:
        before, after = marks["server_start"], marks["server_stop"]
        used = {pid: after[pid] - before.get(pid, 0.0) for pid in after}
        out["server_cpu_ms_per_request"] = round(1000 * sum(used.values()) / n, 3)
        # how the load fell on the server's processes (keep-alive connections stay with the
        # worker that accepted them): the busiest processes' share of the server's CPU, in %
        total = sum(used.values()) or 1.0
        busy = sorted((v for v in used.values() if v / total >= 0.02), reverse=True)
        out["server_cpu_share_pct"] = [round(100 * v / total) for v in busy]
    return out


def in_process(model_dir: Path, pool: dict[str, list[dict[str, Any]]], n: int) -> dict[str, Any]:
    import mlflow

    computed = {"MOVIE_ROULETTE_ANSWER_CACHE": "0", "MOVIE_ROULETTE_WARM_SECONDS": "0"}
    saved = {name: os.environ.get(name) for name in computed}
    os.environ.update(computed)  # the floor: every request computed
    try:
        model = mlflow.pyfunc.load_model(str(model_dir))
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    out = {}
    for kind, rows in pool.items():
        times = []
        for row in rows[:n]:
            t0 = time.perf_counter()
            model.predict([row])
            times.append(time.perf_counter() - t0)
        t = np.array(times) * 1000
        out[kind] = {
            "p50_ms": round(float(np.percentile(t, 50)), 2),
            "p99_ms": round(float(np.percentile(t, 99)), 2),
        }
    return out


def deployed_env(warm: float, log: Path) -> dict[str, str]:
    """As `make serve` deploys it: the answer cache on, warmed for serving.warm_seconds at
    start, every request appended to the event log, uvicorn's access log off."""
    return {
        "MOVIE_ROULETTE_WARM_SECONDS": str(warm),
        "MOVIE_ROULETTE_EVENT_LOG": str(log),
        "UVICORN_ACCESS_LOG": "false",
    }


def computed_env(warm: float, log: Path) -> dict[str, str]:
    """Every request computed: no answer cache, no warm-up; otherwise as deployed."""
    return {**deployed_env(0, log), "MOVIE_ROULETTE_ANSWER_CACHE": "0"}


MODES = {
    "deployed": deployed_env,
    "computed": computed_env,
    # computed, each request answered by MLflow's app in a thread of its own (serving/direct.py)
    "computed-threaded": lambda warm, log: {
        **computed_env(warm, log),
        "MOVIE_ROULETTE_DIRECT_INVOCATIONS": "0",
    },
}


def serving_defaults(dataset: str) -> tuple[int, float]:
    from movie_roulette.config import load_config

    cfg = load_config(
        ROOT / "configs" / ("quickstart.yaml" if dataset == "demo" else "movielens.yaml")
    )
    return cfg.serving.workers, cfg.serving.warm_seconds


def run(args: argparse.Namespace) -> dict[str, Any]:
    cache_dir = Path(args.cache_dir).expanduser()
    cache_dir.mkdir(parents=True, exist_ok=True)
    workers, warm = serving_defaults(args.dataset)
    workers = args.workers or workers
    warm = warm if args.warm_seconds is None else args.warm_seconds
    model_dir = build_model(args.dataset, args.data_dir, cache_dir, args.rebuild)
    baseline_dir = build_baseline(model_dir, args.baseline, cache_dir) if args.baseline else None
    identity_dir = build_identity(cache_dir)
    pool = request_pool(model_dir, 2000, args.seed)
    result: dict[str, Any] = {
        "dataset": args.dataset,
        "clients": args.clients,
        "duration_s": args.duration,
        "workers": workers,
        "warm_seconds": warm,
        "cpus": os.cpu_count(),
        "load_average_before": os.getloadavg()[0],
        "in_process": in_process(model_dir, pool, args.in_process_requests),
        "server": {},
        "start_seconds": {},
    }
    if args.baseline:
        result["baseline"] = args.baseline
    event_log = Path(tempfile.mkdtemp(prefix="serving-bench-")) / "events.jsonl"
    modes: dict[str, tuple[dict[str, str], Path]] = {}
    if args.server:
        modes["given"] = ({}, model_dir)
    for m in [] if args.server else args.modes:
        if baseline_dir is not None:  # the baseline first, then this checkout, mode by mode
            modes[f"{m}{BASELINE_SUFFIX}{args.baseline}"] = (
                MODES[m](warm, event_log),
                baseline_dir,
            )
        modes[m] = (MODES[m](warm, event_log), model_dir)
    for mode, (env, served) in modes.items():
        server = None
        try:
            if args.server:
                url = args.server.rstrip("/")
            else:  # one server at a time: each gets the machine to itself
                server = Server(served, workers, env)
                result["start_seconds"][mode] = server.wait(workers)
                url = server.url
            result["server"][mode] = {}
            for kind in KINDS:
                result["server"][mode][kind] = load_test(
                    url, pool[kind], args.clients, args.duration, args.warmup, server
                )
                print(f"{mode} {kind}: {result['server'][mode][kind]}", file=sys.stderr)
            if server is not None:
                result.setdefault("warm_up", {})[mode] = server.warm_log()
                result.setdefault("rss_mb", {})[mode] = server.worker_rss_mb()
        finally:
            if server is not None:
                server.stop()
        if "MOVIE_ROULETTE_EVENT_LOG" in env:  # the server flushes its request log at exit
            logged = sum(1 for _ in event_log.open()) if event_log.exists() else 0
            result.setdefault("requests_logged", {})[mode] = logged
            event_log.unlink(missing_ok=True)
    identity = Server(identity_dir, workers, {"UVICORN_ACCESS_LOG": "false"})  # like ours
    try:
        result["start_seconds"]["identity"] = identity.wait(workers)
        result["identity"] = load_test(
            identity.url, pool["recommend"], args.clients, args.duration, args.warmup, identity
        )
        print(f"identity: {result['identity']}", file=sys.stderr)
    finally:
        identity.stop()
    ident = result["identity"]
    result["ratios"] = {}
    result["targets"] = {}
    for mode, kinds in result["server"].items():
        rec = kinds["recommend"]
        result["ratios"][mode] = {
            "recommend_throughput_vs_identity": round(
                rec["throughput_rps"] / ident["throughput_rps"], 3
            ),
            "recommend_p50_vs_identity": round(rec["p50_ms"] / ident["p50_ms"], 2),
        }
        if mode.startswith("computed"):
            result["targets"][mode] = {
                f"{kind}_p99_ms<={limit:g}": kinds[kind]["p99_ms"] <= limit
                for kind, limit in (
                    (name.removesuffix("_p99_ms"), value)
                    for name, value in COMPUTED_TARGETS.items()
                )
            }
            continue
        result["targets"][mode] = {
            "recommend_p50_ms<=10": rec["p50_ms"] <= TARGETS["recommend_p50_ms"],
            "recommend_p99_ms<=40": rec["p99_ms"] <= TARGETS["recommend_p99_ms"],
            "throughput>=0.5x_identity": result["ratios"][mode]["recommend_throughput_vs_identity"]
            >= TARGETS["throughput_vs_identity"],
        }
    result["before_after"] = before_after(result["server"])
    return result


def before_after(servers: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """For each mode served both with a baseline library and with this checkout's, per kind:
    the baseline's figure divided by this checkout's (p50, p99: > 1 = faster now; req/s and
    server CPU per request as after/before and before/after)."""
    out: dict[str, Any] = {}
    for name, before in servers.items():
        if BASELINE_SUFFIX not in name:
            continue
        mode = name.split(BASELINE_SUFFIX)[0]
        after = servers.get(mode)
        if after is None:
            continue
        out[mode] = {}
        for kind, b in before.items():
            a = after.get(kind)
            if not a:
                continue
            ratios = {
                "p50_speedup": round(b["p50_ms"] / max(a["p50_ms"], 1e-9), 2),
                "p99_speedup": round(b["p99_ms"] / max(a["p99_ms"], 1e-9), 2),
                "throughput_gain": round(a["throughput_rps"] / max(b["throughput_rps"], 1e-9), 2),
            }
            if "server_cpu_ms_per_request" in a and "server_cpu_ms_per_request" in b:
                ratios["server_cpu_saving"] = round(
                    b["server_cpu_ms_per_request"] / max(a["server_cpu_ms_per_request"], 1e-9), 2
                )
            out[mode][kind] = ratios
    return out


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"{result['clients']} concurrent clients, {result['duration_s']:g} s per kind, "
        f"{result['workers']} server worker(s), warm-up {result['warm_seconds']:g} s, "
        f"{result['cpus']} CPUs, dataset {result['dataset']}",
        "",
        "| server | kind | p50 ms | p95 ms | p99 ms | req/s | errors | server CPU ms/req "
        "| load-generator CPU ms/req | in-process p50 ms |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]

    def row(name: str, kind: str, r: dict[str, Any], floor: Any) -> str:
        return (
            f"| {name} | {kind} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} "
            f"| {r['throughput_rps']} | {r['errors']} | {r.get('server_cpu_ms_per_request', '–')} "
            f"| {r['client_cpu_ms_per_request']} | {floor} |"
        )

    for mode, kinds in result["server"].items():
        for kind, r in kinds.items():
            floor = "–" if BASELINE_SUFFIX in mode else result["in_process"][kind]["p50_ms"]
            lines.append(row(mode, kind, r, floor))
    lines.append(row("identity pyfunc (ceiling)", "recommend", result["identity"], "–"))
    lines.append("")
    for mode, targets in result["targets"].items():
        ratio = result["ratios"][mode]["recommend_throughput_vs_identity"]
        met = ", ".join(f"{name}: {'met' if ok else 'NOT met'}" for name, ok in targets.items())
        lines.append(f"* {mode}: throughput {ratio}x identity; {met}")
    for mode, kinds in result.get("before_after", {}).items():
        for kind, r in kinds.items():
            parts = ", ".join(f"{name} {value}x" for name, value in r.items())
            lines.append(f"* {mode} {kind}, before ({result['baseline']}) / after: {parts}")
    for mode, rss in result.get("rss_mb", {}).items():
        lines.append(f"* {mode}: resident memory per server process after the load: {rss} MB")
    for mode, logged in result.get("requests_logged", {}).items():
        lines.append(f"* {mode}: {logged} requests (warm-up seconds included) in the event log")
    for mode, log in result.get("warm_up", {}).items():
        if log:
            lines.append(f"* {mode} start-up: {'; '.join(log)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=["ml-latest-small", "demo"], default="ml-latest-small")
    parser.add_argument("--data-dir", default=os.environ.get("MOVIE_ROULETTE_DATA_DIR"))
    parser.add_argument("--server", help="benchmark this running server instead of starting one")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per request kind")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--workers", type=int, default=None,
                        help="server workers (default: the config's serving.workers)")  # fmt: skip
    parser.add_argument("--warm-seconds", type=float, default=None,
                        help="start-up warm-up (default: serving.warm_seconds)")  # fmt: skip
    parser.add_argument("--modes", nargs="+", choices=list(MODES), default=list(MODES))
    parser.add_argument("--in-process-requests", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", default=os.environ.get(
        "MOVIE_ROULETTE_CACHE_DIR", "~/.cache/movie_roulette"))  # fmt: skip
    parser.add_argument("--rebuild", action="store_true", help="retrain the cached model")
    parser.add_argument("--baseline", metavar="GIT_REF",
                        help="also serve the same model with the library of this commit, "
                        "before each mode (before/after in one run)")  # fmt: skip
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
