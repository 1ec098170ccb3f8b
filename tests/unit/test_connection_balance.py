"""Keep-alive connections spread evenly over the model server's workers (serving/balance.py):
the rule on a fake clock, the guard's `Connection: close`, and a real 2-worker uvicorn whose 8
clients all landed on one worker."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from serving.balance import ConnectionBalancer
from serving.guard import RequestGuard
from tests.unit.test_request_guard import run

REPO = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class Worker:
    """A worker's connections (a list of client ids) and its balancer, on a fake clock."""

    def __init__(self, tmp_path: Path, name: str, clock: Clock, clients: list[int]) -> None:
        self.clients = clients
        self.balancer = ConnectionBalancer(
            2, tmp_path, name, clock=clock, count=lambda port: len(self.clients)
        )

    def answer(self) -> int | None:
        """One answer, on its first connection's port 5000; the client it closes, if any."""
        if not self.clients or not self.balancer.close_after(5000):
            return None
        return self.clients.pop(0)


def test_the_busier_worker_sheds_one_connection_every_other_period_until_even(
    tmp_path: Path,
) -> None:
    clock = Clock()
    a = Worker(tmp_path, "a", clock, [1, 2, 3, 4, 5, 6])
    b = Worker(tmp_path, "b", clock, [7, 8])
    moves = []
    for _ in range(12):
        b.answer()
        shed = a.answer()
        if shed is not None:
            moves.append(clock.now)
            b.clients.append(shed)  # it reconnected, and b accepted it
        clock.now += 0.25
    assert (len(a.clients), len(b.clients)) == (4, 4)
    assert (a.balancer.closed, b.balancer.closed) == (2, 0)
    assert moves[1] - moves[0] > 0.49  # two counts over the share in a row, each time


def test_an_even_split_a_lone_client_and_a_brief_surplus_are_left_alone(tmp_path: Path) -> None:
    clock = Clock()
    a = Worker(tmp_path, "a", clock, [1, 2, 3])
    b = Worker(tmp_path, "b", clock, [4, 5, 6])
    for _ in range(10):
        assert a.answer() is None and b.answer() is None
        clock.now += 0.3
    (tmp_path / "lone").mkdir()
    lone = Worker(tmp_path / "lone", "c", clock, [1])
    for _ in range(5):
        assert lone.answer() is None  # 1 connection, a share of ceil(1/2) = 1
        clock.now += 0.3
    # a client that switches connections: for one count the old one is still open
    (tmp_path / "switch").mkdir()
    switching = Worker(tmp_path / "switch", "d", clock, [1])
    for step in range(10):
        switching.clients = [1, 2] if step % 3 == 0 else [2]
        assert switching.answer() is None
        clock.now += 0.3
    assert a.balancer.closed == b.balancer.closed == lone.balancer.closed == 0


def test_a_silent_workers_old_count_does_not_count(tmp_path: Path) -> None:
    clock = Clock()
    a = Worker(tmp_path, "a", clock, [1, 2])
    b = Worker(tmp_path, "b", clock, [7, 8, 9, 10])
    b.answer()  # b's file: 4 ...
    clock.now += 5.0  # ... counted 5 s ago: b has answered nothing since
    shed = [a.answer()]
    clock.now += 0.3
    shed.append(a.answer())
    # a holds 2 of 2 live connections (share 1): it sheds one, for the idle worker to take
    assert shed == [None, 1] and a.balancer.closed == 1
    assert a.balancer.close_after(None) is False  # not a TCP listener (a Unix socket): never


def test_a_missing_directory_pauses_balancing_without_failing_requests(tmp_path: Path) -> None:
    clock = Clock()
    gone = Worker(tmp_path / "gone", "a", clock, [1, 2, 3])
    for _ in range(3):
        gone.answer()
        clock.now += 0.3
    gone.balancer.leave()


def test_open_connections_counts_this_processs_accepted_sockets_on_the_port() -> None:
    from serving.balance import open_connections

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    assert open_connections(port) == 0  # the listening socket is not a connection
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
    accepted = [listener.accept()[0] for _ in range(3)]
    # the clients' ends are sockets of this process too, but on other local ports
    assert open_connections(port) == 3
    accepted[0].close()
    assert open_connections(port) == 2
    for sock in [*clients, *accepted[1:], listener]:
        sock.close()


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return int(done.stdout)


def test_a_starting_worker_removes_what_stopped_servers_and_dead_workers_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    from serving import balance

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone, dead_worker = _dead_pid(), _dead_pid()
    stopped = tmp_path / f"{balance.FOLDER_PREFIX}{gone}"  # a server stopped by a signal
    stopped.mkdir()
    (stopped / "123").write_text("4 0.0")
    mine = tmp_path / f"{balance.FOLDER_PREFIX}{os.getppid()}"  # this test's "master" lives
    mine.mkdir()
    (mine / str(dead_worker)).write_text("4 0.0")
    (mine / str(os.getpid())).write_text("1 0.0")  # a live one (here: this process)
    other = tmp_path / "unrelated"
    other.mkdir()
    balancer = ConnectionBalancer.for_this_worker(2)
    assert balancer is not None and balancer.directory == mine
    assert not stopped.exists() and other.exists()
    assert sorted(p.name for p in mine.iterdir()) == [str(os.getpid())]
    balancer.leave()
    assert not mine.exists()  # the last worker out removes the folder


def test_single_worker_servers_do_not_balance() -> None:
    assert ConnectionBalancer.for_this_worker(1) is None
    with pytest.raises(ValueError, match="at least 2 workers"):
        ConnectionBalancer(1, Path("."), "a")


def _guard_headers(balancer: Any) -> tuple[int, dict[bytes, bytes]]:
    """The status and headers of one checked POST /invocations answered directly."""

    async def inner(scope, receive, send):  # pragma: no cover - never reached
        raise AssertionError

    def answer(body: bytes) -> tuple[int, str, bytes]:
        return 200, "application/json", b'{"predictions": []}'

    body = json.dumps({"inputs": [{"kind": "recommend", "user_id": 1}]}).encode()
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict] = []

    async def receive() -> dict:
        return messages.pop(0)

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http", "method": "POST", "path": "/invocations",
        "headers": [(b"content-type", b"application/json")], "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 5000),
    }  # fmt: skip
    run(RequestGuard(inner, answer=answer, balancer=balancer)(scope, receive, send))
    return sent[0]["status"], dict(sent[0]["headers"])


def test_the_guard_closes_the_connection_its_balancer_names() -> None:
    class Named:
        def close_after(self, port: Any) -> bool:
            return port == 5000

    assert _guard_headers(Named()) == (
        200,
        {b"content-type": b"application/json", b"content-length": b"19", b"connection": b"close"},
    )
    assert b"connection" not in _guard_headers(None)[1]


APP = """
import os, time
from serving.balance import ConnectionBalancer
from serving.guard import RequestGuard
import json

async def inner(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})

def answer(body):
    row = json.loads(body)["inputs"][0]
    time.sleep(row.get("sleep", 0.0))  # in the event loop: this worker accepts nothing meanwhile
    return 200, "application/json", json.dumps({"pid": os.getpid()}).encode()

app = RequestGuard(inner, answer=answer, balancer=ConnectionBalancer.for_this_worker(2))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(conn: http.client.HTTPConnection, row: dict) -> tuple[int, bool]:
    conn.request("POST", "/invocations", json.dumps({"inputs": [row]}), {})
    response = conn.getresponse()
    pid = json.loads(response.read())["pid"]
    return pid, (response.getheader("connection") or "").lower() == "close"


def test_a_real_two_worker_server_spreads_eight_clients_that_all_landed_on_one(
    tmp_path: Path,
) -> None:
    (tmp_path / "balanced_app.py").write_text(textwrap.dedent(APP))
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{tmp_path}"}
    argv = [sys.executable, "-m", "uvicorn", "balanced_app:app", "--workers", "2",
            "--host", "127.0.0.1", "--port", str(port), "--no-access-log"]  # fmt: skip
    server = subprocess.Popen(argv, env=env, cwd=tmp_path, start_new_session=True)
    try:
        pids: set[int] = set()
        deadline = time.time() + 60
        while len(pids) < 2 and time.time() < deadline:  # both workers up
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                pids.add(_post(conn, {})[0])
                conn.close()
            except OSError:
                time.sleep(0.2)
        assert len(pids) == 2, "the 2-worker server did not start"
        # one worker sleeps in its event loop while 8 clients connect: the other accepts all 8
        sleeper = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        sleeping = threading.Thread(target=_post, args=(sleeper, {"sleep": 1.5}))
        sleeping.start()
        time.sleep(0.3)
        conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(8)]
        answers = [_post(c, {}) for c in conns]
        sleeping.join()
        sleeper.close()
        first = [pid for pid, _ in answers]
        assert len(set(first)) == 1, f"the clients did not all land on one worker: {first}"
        # the clients go on, concurrently, each request 2 ms of a worker's loop (each client
        # reconnects when asked to close); the split must become 4/4
        closes = sum(closed for _, closed in answers)
        latest, stop, lock = list(first), threading.Event(), threading.Lock()

        def client(i: int) -> None:
            nonlocal closes
            while not stop.is_set():
                pid, closed = _post(conns[i], {"sleep": 0.002})
                with lock:
                    latest[i], closes = pid, closes + closed

        threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        deadline, even = time.time() + 20, 0
        while time.time() < deadline and even < 3:  # even at 3 looks in a row (0.3 s)
            time.sleep(0.1)
            with lock:
                split = sorted(Counter(latest).values())
            even = even + 1 if split == [4, 4] else 0
        stop.set()
        for t in threads:
            t.join()
        assert even == 3, Counter(latest)
        assert closes >= 4  # at least the 4 moves
        for c in conns:
            c.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
