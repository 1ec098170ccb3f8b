"""Deploy, list and stop model servers through the stack's ZenML MLflow model deployer.

One server per registered model, on the configured loopback port: deploying a version stops the
server of any other version of the same model first (the port is reused, so clients keep one URL),
and redeploying the version already being served is a no-op.

ZenML knows a server by its daemon only. Every process this project started to serve a port (the
`uvicorn` master and each worker) is recorded too (serving/processes.py), so stop, list and
deploy also find the workers a dead master left serving, and stop them.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil
import requests

from movie_roulette.config import ServingConfig
from movie_roulette.exceptions import MovieRouletteError
from serving.guard import MAX_BODY_BYTES_ENV, MAX_ROWS_ENV
from serving.processes import ServerProcess, server_processes, stop_processes

logger = logging.getLogger(__name__)

PING_TIMEOUT_SECONDS = 2.0
EVENT_LOG_ENV = "MOVIE_ROULETTE_EVENT_LOG"  # read by serving/pyfunc_model.py
WARM_SECONDS_ENV = "MOVIE_ROULETTE_WARM_SECONDS"  # read by serving/pyfunc_model.py
ACCESS_LOG_ENV = "UVICORN_ACCESS_LOG"  # uvicorn reads its options from UVICORN_* variables
ORPHANED = "(orphaned)"  # ServerInfo.uuid of processes no ZenML service knows any more


CHALLENGER_SUFFIX = ".challenger"  # an experiment's challenger server: <model>.challenger


class DeploymentError(MovieRouletteError):
    """The model server could not be started or found; the message says why."""


@dataclass(frozen=True)
class ServerInfo:
    uuid: str
    model_name: str
    model_version: str
    url: str | None
    running: bool
    pid: str | None
    log_file: str | None
    # every process serving the port that this project started (master and workers)
    pids: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def ensure_venv_bin_on_path() -> None:
    """ZenML starts the scoring server as `uvicorn`: this interpreter's bin/ must be on PATH."""
    bin_dir = str(Path(sys.executable).parent)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if bin_dir not in parts:
        os.environ["PATH"] = os.pathsep.join([bin_dir, *parts])


def _deployer() -> Any:
    from zenml.client import Client

    from serving.zenml_deployer import FLAVOR_NAME, MovieRouletteModelDeployer

    deployer = Client().active_stack.model_deployer
    if not isinstance(deployer, MovieRouletteModelDeployer):
        raise DeploymentError(
            f"The active ZenML stack's model deployer is not the {FLAVOR_NAME!r} flavor; "
            "run `make setup` (stack_setup.py) to activate the project's stack."
        )
    return deployer


def _pid_folder() -> Path:
    from serving.zenml_deployer import pid_folder

    return pid_folder(_deployer().local_path)


def _port(service: Any) -> int | None:
    port = getattr(service.endpoint.status, "port", None) if service.endpoint else None
    if port is None and service.endpoint is not None:
        port = getattr(service.endpoint.config, "port", None)
    return int(port) if port else None


def _info(service: Any, processes: list[ServerProcess] | None = None) -> ServerInfo:
    url = service.endpoint.status.uri if service.endpoint else None
    port = _port(service)
    if processes is None:
        processes = server_processes(_pid_folder(), port) if port else []
    mine = tuple(p.pid for p in processes if p.port == port)
    return ServerInfo(
        uuid=str(service.uuid),
        model_name=service.config.model_name,
        model_version=str(service.config.model_version),
        url=url.rstrip("/") if url else None,
        running=bool(service.is_running) or bool(mine),
        pid=str(service.status.pid) if getattr(service.status, "pid", None) else None,
        log_file=getattr(service.status, "log_file", None),
        pids=mine,
    )


def _orphans(
    services: list[Any], processes: list[ServerProcess], model_name: str | None
) -> list[ServerInfo]:
    """Recorded server processes on a port no known service of theirs claims, per port."""
    claimed = {(_port(s), s.config.model_name) for s in services}
    by_port: dict[tuple[int, str], list[int]] = {}
    for proc in processes:
        name, _, version = proc.model.partition(":")
        if (proc.port, name) in claimed or (model_name is not None and name != model_name):
            continue
        by_port.setdefault((proc.port, proc.model), []).append(proc.pid)
    return [
        ServerInfo(
            uuid=ORPHANED,
            model_name=model.partition(":")[0] or "?",
            model_version=model.partition(":")[2] or "?",
            url=f"http://127.0.0.1:{port}",
            running=True,
            pid=None,
            log_file=None,
            pids=tuple(pids),
        )
        for (port, model), pids in sorted(by_port.items())
    ]


def _services(model_name: str | None = None) -> list[Any]:
    """The deployer's services, optionally of one registered model.

    (Filtered here: ZenML's `find_model_server(model_name=...)` matches the *ZenML* model's
    latest version, which is not the registry version being served.)
    """
    services = _deployer().find_model_server()
    return [s for s in services if model_name is None or s.config.model_name == model_name]


def _stop(service: Any, timeout: int = 30) -> None:
    """Stop a server and forget it. ZenML stops only its daemon process; the `uvicorn` it
    started would live on holding the port, so its children are stopped here too, and then
    every recorded process still serving its port (a dead master's workers)."""
    port = _port(service)
    children: list[psutil.Process] = []
    pid = getattr(service.status, "pid", None)
    if pid:
        try:
            children = psutil.Process(pid).children(recursive=True)
        except psutil.Error:
            children = []
    _deployer().delete_model_server(service.uuid, timeout=timeout, force=False)
    for child in children:
        try:
            child.terminate()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(children, timeout=10)
    for child in alive:
        try:
            child.kill()
        except psutil.Error:
            pass
    if port:
        stop_processes(server_processes(_pid_folder(), port))


def list_servers(model_name: str | None = None) -> list[ServerInfo]:
    """Every model server the stack's deployer knows (running or not), plus processes this
    project started that still serve a port no known server claims (uuid "(orphaned)")."""
    services = _services(model_name)
    processes = server_processes(_pid_folder())
    return [_info(s, processes) for s in services] + _orphans(services, processes, model_name)


def stop_servers(model_name: str | None = None) -> list[ServerInfo]:
    """Stop and forget the servers of one model (or all), and every process this project
    started that still serves one of their ports; return what was stopped."""
    services = _services(model_name)
    processes = server_processes(_pid_folder())
    stopped = [_info(s, processes) for s in services]
    orphans = _orphans(services, processes, model_name)
    for service in services:
        _stop(service)
    for orphan in orphans:
        stop_processes([p for p in processes if p.pid in orphan.pids])
    return stopped + orphans


def take_over_port(port: int, model_name: str) -> list[ServerInfo]:
    """Stop this project's servers of *other* models on `port`: the configured port serves one
    model at a time (e.g. `make run`'s demo model, then a real-data run on the same port).
    Each one stopped is announced; a program this project did not start is never touched."""
    others = [s for s in _services() if s.config.model_name != model_name and _port(s) == port]
    taken = [_info(s) for s in others]
    for service in others:
        _stop(service)
    for info in taken:
        logger.warning(
            "Port %s served %s version %s: stopped it to serve %s there (give each config its "
            "own serving.port to run both).",
            port,
            info.model_name,
            info.model_version,
            model_name,
        )
    return taken


def stop_strays(port: int, model_name: str) -> list[int]:
    """Stop the processes this project started on `port` that no running server of another
    model owns (a dead master's workers, a server ZenML forgot); return their pids."""
    strays = [
        p
        for p in server_processes(_pid_folder(), port)
        if p.model.partition(":")[0] in ("", model_name)
    ]
    return stop_processes(strays) if strays else []


def ping(url: str, timeout: float = PING_TIMEOUT_SECONDS) -> bool:
    try:
        return requests.get(f"{url.rstrip('/')}/ping", timeout=timeout).ok
    except requests.RequestException:
        return False


def _port_is_free(host: str, port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _log_tail(path: str | None, lines: int = 15) -> str:
    if not path or not Path(path).is_file():
        return "(no service log)"
    text = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(text[-lines:])


def deploy_version(
    model_name: str,
    version: str,
    serving: ServingConfig,
    *,
    pipeline_name: str = "",
    step_name: str = "",
    event_log: Path | None = None,
    server_name: str | None = None,
) -> ServerInfo:
    """Serve `model_name` version `version` on serving.host:serving.port; return where.

    With `event_log`, the server appends every request to that durable log (live traffic for
    the continuous-training drift check). `server_name` (default: the model name) names the
    server: deploying replaces only the server of that name, so an experiment's challenger
    (`challenger_server_name`) runs beside production on its own port."""
    name = server_name or model_name
    from zenml.client import Client
    from zenml.integrations.mlflow.services.mlflow_deployment import MLFlowDeploymentConfig

    ensure_venv_bin_on_path()
    # The server process inherits this process's environment (ZenML starts it as a daemon).
    if event_log is not None and serving.log_requests:
        os.environ[EVENT_LOG_ENV] = str(event_log)
    else:
        os.environ.pop(EVENT_LOG_ENV, None)
    os.environ[WARM_SECONDS_ENV] = str(serving.warm_seconds)
    os.environ[ACCESS_LOG_ENV] = "true" if serving.access_log else "false"
    os.environ[MAX_BODY_BYTES_ENV] = str(serving.max_body_bytes)
    os.environ[MAX_ROWS_ENV] = str(serving.max_rows)
    deployer = _deployer()
    registry = Client().active_stack.model_registry
    if registry is None:
        raise DeploymentError("The active ZenML stack has no model registry; run `make setup`.")
    try:
        model_version = registry.get_model_version(name=model_name, version=str(version))
    except (KeyError, RuntimeError) as err:
        raise DeploymentError(f"Model {model_name!r} has no registered version {version}.") from err

    for service in _services(name):
        info = _info(service)
        # (the daemon, not just processes: a dead master's workers answer but are not healthy)
        alive = bool(service.is_running)
        if info.model_version == str(version) and alive and info.url and ping(info.url):
            return info  # already serving this version
        _stop(service)
    take_over_port(serving.port, name)
    stop_strays(serving.port, name)  # what a dead master left serving the port

    deadline = time.monotonic() + 15
    while not _port_is_free(serving.host, serving.port) and time.monotonic() < deadline:
        time.sleep(0.5)  # a just-stopped server can hold the port for a moment
    if not _port_is_free(serving.host, serving.port):
        raise DeploymentError(
            f"Port {serving.port} on {serving.host} is in use by another program. Stop it or set "
            "serving.port in the config (servers this project started: "
            "`python run_pipeline.py --list-servers`)."
        )
    config = MLFlowDeploymentConfig(
        name=f"{name}-server",
        model_name=name,
        model_version=str(version),
        model_uri=model_version.model_source_uri,
        registry_model_name=model_name,
        registry_model_version=str(version),
        workers=serving.workers,
        pipeline_name=pipeline_name,
        # unique per model: see MovieRouletteModelDeployer.deploy_on_port
        pipeline_step_name=f"{step_name or 'deploy'}:{name}",
        timeout=serving.start_timeout_seconds,
    )
    try:
        service = deployer.deploy_on_port(
            config, port=serving.port, timeout=serving.start_timeout_seconds
        )
    except RuntimeError as err:
        raise DeploymentError(f"Deploying {model_name} version {version} failed: {err}") from err
    info = _info(service)
    if (info.model_name, info.model_version) != (name, str(version)):
        raise DeploymentError(
            f"ZenML answered with the server of {info.model_name} version {info.model_version} "
            f"when asked to deploy {model_name} version {version}; nothing was changed."
        )
    if not (info.running and info.url and ping(info.url)):
        _stop(service)
        hint = ""
        log = _log_tail(info.log_file)
        if "127" in log or "uvicorn" in log:
            hint = "\nIs `uvicorn` on PATH? It is installed in the project's virtualenv bin/."
        raise DeploymentError(
            f"The model server for {model_name} version {version} did not become healthy within "
            f"{serving.start_timeout_seconds} s. Last lines of its log ({info.log_file}):\n"
            f"{log}{hint}"
        )
    _wait_for_every_worker(service, info, serving)
    return info


# uvicorn logs this once per worker when the app module has been imported, i.e. after the model
# was loaded (and, for this project's pyfunc, its answer cache warmed). Any model version prints
# it, also versions registered before the warm-up existed.
READY_LINE = "Application startup complete."


def challenger_server_name(model_name: str) -> str:
    """The name of an online experiment's challenger server (docs/experiments.md)."""
    return f"{model_name}{CHALLENGER_SUFFIX}"


def _wait_for_every_worker(service: Any, info: ServerInfo, serving: ServingConfig) -> None:
    """/ping answers as soon as one worker has loaded; the others may still be loading and
    warming their answer caches, and a client connecting now would stay with the first
    worker. Wait until every worker has started (each says so once, in the service log)."""
    deadline = time.monotonic() + serving.start_timeout_seconds
    while True:
        text = ""
        if info.log_file and Path(info.log_file).is_file():
            text = Path(info.log_file).read_text(encoding="utf-8", errors="replace")
        if text.count(READY_LINE) >= serving.workers:
            return
        if time.monotonic() >= deadline:
            _stop(service)
            raise DeploymentError(
                f"{text.count(READY_LINE)} of the {serving.workers} workers of "
                f"{info.model_name} version {info.model_version} finished loading and warming "
                f"within {serving.start_timeout_seconds} s. Last lines of its log "
                f"({info.log_file}):\n{_log_tail(info.log_file)}"
            )
        time.sleep(0.25)
