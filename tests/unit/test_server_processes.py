"""Finding and stopping the processes a model server left on its port (serving/processes.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from serving.processes import (
    MODEL_ENV,
    PID_DIR_ENV,
    PORT_ENV,
    record,
    server_processes,
    stop_processes,
)
from tests.integration.conftest import free_port

# a stand-in for a uvicorn worker: holds a listening socket, records itself like serving/asgi.py
LISTENER = """
import socket, sys, time
from serving.processes import record_this_process
sock = socket.socket(); sock.bind(("127.0.0.1", int(sys.argv[1]))); sock.listen()
record_this_process()
print("ready", flush=True)
time.sleep(120)
"""


def _start(port: int, env: dict[str, str]) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", LISTENER, str(port)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen]]:
    procs: list[subprocess.Popen] = []
    yield procs
    for proc in procs:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def test_an_orphaned_server_process_is_found_by_port_and_stopped(
    tmp_path: Path, started: list[subprocess.Popen]
) -> None:
    """A dead master's worker keeps serving; ZenML no longer knows it (issue 15, item 7)."""
    port, other = free_port(), free_port()
    ours = {PID_DIR_ENV: str(tmp_path), PORT_ENV: str(port), MODEL_ENV: "m:3"}
    worker = _start(port, ours)
    stranger = _start(other, {})  # listening, but not started by this project
    started += [worker, stranger]
    found = server_processes(tmp_path, port)
    assert [(p.pid, p.port, p.model) for p in found] == [(worker.pid, port, "m:3")]
    assert server_processes(tmp_path, other) == []
    assert [p.pid for p in server_processes(tmp_path)] == [worker.pid]
    assert stop_processes(found, timeout=5) == [worker.pid]
    assert worker.wait(timeout=5) is not None
    assert stranger.poll() is None  # never touched
    assert server_processes(tmp_path) == [] and not list(tmp_path.glob("*.json"))


def test_a_stale_or_reused_pid_record_is_not_trusted(
    tmp_path: Path, started: list[subprocess.Popen]
) -> None:
    port = free_port()
    # a record of a process that is gone, and one whose pid now belongs to another process
    (tmp_path / "999999.json").write_text(json.dumps({"pid": 999999, "port": port}))
    me = psutil.Process()
    reused = {"pid": me.pid, "create_time": me.create_time() - 100, "port": port, "model": ""}
    (tmp_path / f"{me.pid}.json").write_text(json.dumps(reused))
    assert server_processes(tmp_path, port) == []
    assert not list(tmp_path.glob("*.json"))  # both dropped
    # a recorded master (it does not listen itself in this stand-in) is found by its record
    master = _start(free_port(), {PID_DIR_ENV: str(tmp_path), PORT_ENV: str(port)})
    started.append(master)
    record(master.pid, tmp_path, port, "m:1")
    assert [p.pid for p in server_processes(tmp_path, port)] == [master.pid]


def test_an_unrecorded_mlflow_server_on_the_port_is_recognised(
    tmp_path: Path, started: list[subprocess.Popen]
) -> None:
    """Servers started before the records (ZenML's stock `uvicorn ... mlflow...app:app`) are
    recognised by MLflow's model variable in their environment and their command line."""
    port, elses = free_port(), free_port()
    unrecorded = LISTENER.replace("record_this_process()", "")
    deployed = {"__pyfunc_model_path__": "/m", "MOVIE_ROULETTE_WARM_SECONDS": "30"}
    legacy = subprocess.Popen(
        [sys.executable, "-c", unrecorded, str(port), "uvicorn"],
        env={**os.environ, **deployed},
        stdout=subprocess.PIPE,
        text=True,
    )
    # someone else's MLflow server (not deployed by this project) on another port; without the
    # project's variables, which a deploy earlier in the same test session leaves in os.environ
    foreign = {k: v for k, v in os.environ.items() if not k.startswith("MOVIE_ROULETTE_")}
    other = subprocess.Popen(
        [sys.executable, "-c", unrecorded, str(elses), "uvicorn"],
        env={**foreign, "__pyfunc_model_path__": "/m"},
        stdout=subprocess.PIPE,
        text=True,
    )
    started += [legacy, other]
    for proc in (legacy, other):
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 5
    while not server_processes(tmp_path, port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [p.pid for p in server_processes(tmp_path, port)] == [legacy.pid]
    assert server_processes(tmp_path, elses) == []
    assert server_processes(tmp_path) == []  # without a port: recorded processes only
