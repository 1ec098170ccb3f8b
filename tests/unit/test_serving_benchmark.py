"""The serving benchmark's load generator, against a tiny local server with known answers."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType

import pytest

from tests.benchmarks_support import load_benchmark


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_benchmark("serving")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like uvicorn
    seen: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        row = body["inputs"][0]
        type(self).seen.append(row)
        if row["user_id"] == 2:
            status, answer = 200, {"predictions": [{"kind": "recommend", "error": "unknown"}]}
        elif row["user_id"] == 3:
            status, answer = 500, {"error_code": "INTERNAL_ERROR"}
        else:
            status, answer = 200, {"predictions": [{"kind": "recommend", "items": []}]}
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if row["user_id"] == 5:  # as serving/balance.py sheds a connection
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Handler.seen = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_load_test_counts_every_request_and_error_entries_and_http_errors_as_errors(
    bench: ModuleType, url: str
) -> None:
    rows = [{"kind": "recommend", "user_id": u} for u in (1, 2, 3, 4)]
    result = bench.load_test(url, rows, clients=2, duration=1.0, warmup=0.2)
    assert result["requests"] > 20
    # users 2 (an error entry) and 3 (HTTP 500) are half of the rows every client cycles through
    assert abs(result["errors"] / result["requests"] - 0.5) < 0.1
    assert 0 < result["p50_ms"] <= result["p95_ms"] <= result["p99_ms"]
    assert result["throughput_rps"] == pytest.approx(result["requests"] / 1.0)
    assert result["client_cpu_ms_per_request"] > 0
    assert {r["user_id"] for r in _Handler.seen} == {1, 2, 3, 4}  # every row was sent
    assert result["reconnects"] == 0


def test_load_test_counts_the_connections_the_server_closed_and_goes_on(
    bench: ModuleType, url: str
) -> None:
    rows = [{"kind": "recommend", "user_id": u} for u in (1, 5)]
    result = bench.load_test(url, rows, clients=1, duration=1.0, warmup=0.0)
    assert result["errors"] == 0 and result["requests"] > 20
    # every second answer said `Connection: close`: the client reconnected each time
    assert abs(result["reconnects"] - result["requests"] / 2) <= 2


def test_machine_noise_reports_the_spread_of_a_fixed_task() -> None:
    noise = load_benchmark("machine_noise")
    r = noise.spread(lambda: sum(range(1000)), 0.2)
    assert r["repetitions"] > 100
    assert 0 < r["p50_ms"] <= r["p99_ms"] <= r["max_ms"]
    assert 0 <= r["over_5x_median"] < r["repetitions"]
    with pytest.raises(SystemExit):
        noise.main(["--seconds", "0"])


def test_markdown_reports_every_mode_and_the_targets(bench: ModuleType) -> None:
    r = {"p50_ms": 5.0, "p95_ms": 9.0, "p99_ms": 30.0, "throughput_rps": 800.0, "errors": 0,
         "server_cpu_ms_per_request": 2.0, "client_cpu_ms_per_request": 0.2}  # fmt: skip
    kinds = {kind: r for kind in bench.KINDS}
    result = {
        "clients": 8, "duration_s": 10, "workers": 2, "warm_seconds": 30, "cpus": 2,
        "dataset": "demo", "server": {"deployed": kinds, "computed": kinds},
        "in_process": {kind: {"p50_ms": 1.0} for kind in bench.KINDS},
        "identity": {**r, "throughput_rps": 1000.0},
        "ratios": {m: {"recommend_throughput_vs_identity": 0.8} for m in ("deployed", "computed")},
        "targets": {
            "deployed": {"recommend_p50_ms<=10": True, "recommend_p99_ms<=40": True},
            "computed": {"recommend_p50_ms<=10": False, "recommend_p99_ms<=40": True},
        },
        "warm_up": {"deployed": ["answer cache warmed for 610 users in 2.9 s"]},
    }  # fmt: skip
    text = bench.markdown(result)
    assert "| deployed | recommend | 5.0 |" in text and "| computed | spin |" in text
    assert "* computed: throughput 0.8x identity; recommend_p50_ms<=10: NOT met" in text
    assert "answer cache warmed for 610 users" in text


def test_before_after_divides_the_baselines_figures_by_this_checkouts(bench: ModuleType) -> None:
    def figures(p50: float, p99: float, rps: float, cpu: float) -> dict:
        return {"p50_ms": p50, "p99_ms": p99, "throughput_rps": rps,
                "server_cpu_ms_per_request": cpu}  # fmt: skip

    servers = {
        "computed@abc123": {"recommend": figures(20.0, 120.0, 200.0, 8.0)},
        "computed": {"recommend": figures(10.0, 30.0, 400.0, 4.0)},
        "deployed": {"recommend": figures(5.0, 15.0, 1000.0, 1.0)},  # no baseline: no ratios
    }
    ratios = bench.before_after(servers)
    assert ratios == {
        "computed": {
            "recommend": {
                "p50_speedup": 2.0,
                "p99_speedup": 4.0,
                "throughput_gain": 2.0,
                "server_cpu_saving": 2.0,
            }
        }
    }
    result = {
        "clients": 8, "duration_s": 10, "workers": 2, "warm_seconds": 30, "cpus": 2,
        "dataset": "demo", "baseline": "abc123",
        "server": {m: {"recommend": {**k["recommend"], "p95_ms": 1.0, "errors": 0,
                                     "client_cpu_ms_per_request": 0.2}}
                   for m, k in servers.items()},
        "in_process": {"recommend": {"p50_ms": 1.0}},
        "identity": {**figures(1.0, 2.0, 2000.0, 0.5), "p95_ms": 1.5, "errors": 0,
                     "client_cpu_ms_per_request": 0.2},
        "ratios": {m: {"recommend_throughput_vs_identity": 0.1} for m in servers},
        "targets": {m: {} for m in servers},
        "before_after": ratios,
    }  # fmt: skip
    text = bench.markdown(result)
    assert "| computed@abc123 | recommend | 20.0 |" in text  # no in-process floor for it: "–"
    assert "* computed recommend, before (abc123) / after: p50_speedup 2.0x" in text
