"""Every process serving a model port that this project started: recorded, found, stopped.

ZenML tracks only its daemon; the daemon starts `uvicorn` (the master), which starts the
workers. If the master dies, its workers keep serving the port and nothing in ZenML knows them
(issue 15, item 7). So each of these processes records itself (pid, start time, port, model) in
a directory of the deployer (`record_this_process`, called by serving/asgi.py in the master and
in every worker), and a server process is found by port and verified before it is stopped: it
must still be the process that was recorded (same start time) or listen on the port, and its
environment must say this project started it for this port.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import psutil

PID_DIR_ENV = "MOVIE_ROULETTE_PID_DIR"
PORT_ENV = "MOVIE_ROULETTE_SERVER_PORT"
MODEL_ENV = "MOVIE_ROULETTE_SERVER_MODEL"  # "<name>:<version>"
# MLflow's scoring server reads the model from this variable: servers started before the
# records existed (ZenML's stock command) are recognised by it, the variable our deployment
# always set for them, and uvicorn's command line; only on a port asked about.
MLFLOW_MODEL_ENV = "__pyfunc_model_path__"
DEPLOYED_ENV = "MOVIE_ROULETTE_WARM_SECONDS"
STOP_SECONDS = 10.0


@dataclass(frozen=True)
class ServerProcess:
    pid: int
    port: int
    model: str  # "<name>:<version>", or "" when not recorded


def record_this_process() -> None:
    """Record this process as a server process (no-op outside a server started by us)."""
    folder, port = os.environ.get(PID_DIR_ENV), os.environ.get(PORT_ENV)
    if folder and port:
        record(os.getpid(), Path(folder), int(port), os.environ.get(MODEL_ENV, ""))


def record(pid: int, folder: Path, port: int, model: str) -> None:
    proc = psutil.Process(pid)
    entry = {"pid": pid, "create_time": proc.create_time(), "port": port, "model": model}
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{pid}.tmp"
    tmp.write_text(json.dumps(entry), encoding="utf-8")
    tmp.replace(folder / f"{pid}.json")


def _records(folder: Path | None) -> list[dict]:
    if folder is None or not folder.is_dir():
        return []
    out = []
    for file in folder.glob("*.json"):
        try:
            out.append(json.loads(file.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return out


def _listeners() -> dict[int, set[int]]:
    """port -> pids of processes holding a listening TCP socket on it."""
    found: dict[int, set[int]] = {}
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.pid and conn.laddr:
            found.setdefault(conn.laddr.port, set()).add(conn.pid)
    return found


def _ours(proc: psutil.Process, port: int) -> bool:
    """Started by this project to serve `port`: our marker, or MLflow's scoring server started
    by our deployment before the markers existed."""
    try:
        env = proc.environ()
        if env.get(PORT_ENV) == str(port):
            return True
        cmdline = " ".join(proc.cmdline())
    except psutil.Error:
        return False
    legacy = MLFLOW_MODEL_ENV in env and DEPLOYED_ENV in env
    return legacy and ("uvicorn" in cmdline or "multiprocessing" in cmdline)


def server_processes(folder: Path | None, port: int | None = None) -> list[ServerProcess]:
    """Live server processes this project started (of one port, or all recorded ports).

    A recorded process counts if it is still the one recorded (same start time) and ours;
    an unrecorded one if it listens on the port asked about and is ours (never without a
    port: other MLflow servers on the machine are not this project's). Stale records are
    deleted."""
    found: dict[int, ServerProcess] = {}
    for record in _records(folder):
        pid, rport = int(record.get("pid", 0)), int(record.get("port", 0))
        try:
            proc = psutil.Process(pid)
            same = abs(proc.create_time() - float(record.get("create_time", 0))) < 0.01
        except psutil.Error:
            same = False
        if not same or not _ours(proc, rport):
            if folder is not None:
                with contextlib.suppress(OSError):
                    (folder / f"{pid}.json").unlink()
            continue
        if port is None or rport == port:
            found[pid] = ServerProcess(pid, rport, str(record.get("model", "")))
    if port is None:
        return sorted(found.values(), key=lambda p: p.pid)
    for lport, pids in _listeners().items():
        if lport != port:
            continue
        for pid in pids - set(found):
            try:
                proc = psutil.Process(pid)
            except psutil.Error:
                continue
            if _ours(proc, lport):
                found[pid] = ServerProcess(pid, lport, "")
    return sorted(found.values(), key=lambda p: p.pid)


def stop_processes(processes: list[ServerProcess], timeout: float = STOP_SECONDS) -> list[int]:
    """SIGTERM, then SIGKILL after `timeout`; return the pids that were stopped."""
    procs = []
    for item in processes:
        with contextlib.suppress(psutil.Error):
            proc = psutil.Process(item.pid)
            proc.terminate()
            procs.append(proc)
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(alive, timeout=5)
    return [p.pid for p in procs]
