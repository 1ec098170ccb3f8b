"""Deploy, list and stop model servers through the stack's ZenML MLflow model deployer.

One server per registered model, on the configured loopback port: deploying a version stops the
server of any other version of the same model first (the port is reused, so clients keep one URL),
and redeploying the version already being served is a no-op.
"""

from __future__ import annotations

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

PING_TIMEOUT_SECONDS = 2.0
EVENT_LOG_ENV = "MOVIE_ROULETTE_EVENT_LOG"  # read by serving/pyfunc_model.py
WARM_SECONDS_ENV = "MOVIE_ROULETTE_WARM_SECONDS"  # read by serving/pyfunc_model.py
ACCESS_LOG_ENV = "UVICORN_ACCESS_LOG"  # uvicorn reads its options from UVICORN_* variables


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


def _info(service: Any) -> ServerInfo:
    url = service.endpoint.status.uri if service.endpoint else None
    return ServerInfo(
        uuid=str(service.uuid),
        model_name=service.config.model_name,
        model_version=str(service.config.model_version),
        url=url.rstrip("/") if url else None,
        running=bool(service.is_running),
        pid=str(service.status.pid) if getattr(service.status, "pid", None) else None,
        log_file=getattr(service.status, "log_file", None),
    )


def _services(model_name: str | None = None) -> list[Any]:
    """The deployer's services, optionally of one registered model.

    (Filtered here: ZenML's `find_model_server(model_name=...)` matches the *ZenML* model's
    latest version, which is not the registry version being served.)
    """
    services = _deployer().find_model_server()
    return [s for s in services if model_name is None or s.config.model_name == model_name]


def _stop(service: Any, timeout: int = 30) -> None:
    """Stop a server and forget it. ZenML stops only its daemon process; the `uvicorn` it
    started would live on holding the port, so its children are stopped here too."""
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


def list_servers(model_name: str | None = None) -> list[ServerInfo]:
    """Every model server the stack's deployer knows (running or not)."""
    return [_info(s) for s in _services(model_name)]


def stop_servers(model_name: str | None = None) -> list[ServerInfo]:
    """Stop and forget the servers of one model (or all); return what was stopped."""
    stopped = []
    for service in _services(model_name):
        stopped.append(_info(service))
        _stop(service)
    return stopped


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
) -> ServerInfo:
    """Serve `model_name` version `version` on serving.host:serving.port; return where.

    With `event_log`, the server appends every request to that durable log (live traffic for
    the continuous-training drift check)."""
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
    deployer = _deployer()
    registry = Client().active_stack.model_registry
    if registry is None:
        raise DeploymentError("The active ZenML stack has no model registry; run `make setup`.")
    try:
        model_version = registry.get_model_version(name=model_name, version=str(version))
    except (KeyError, RuntimeError) as err:
        raise DeploymentError(f"Model {model_name!r} has no registered version {version}.") from err

    for service in _services(model_name):
        info = _info(service)
        if info.model_version == str(version) and info.running and info.url and ping(info.url):
            return info  # already serving this version
        _stop(service)

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
        name=f"{model_name}-server",
        model_name=model_name,
        model_version=str(version),
        model_uri=model_version.model_source_uri,
        registry_model_name=model_name,
        registry_model_version=str(version),
        workers=serving.workers,
        pipeline_name=pipeline_name,
        # unique per model: see MovieRouletteModelDeployer.deploy_on_port
        pipeline_step_name=f"{step_name or 'deploy'}:{model_name}",
        timeout=serving.start_timeout_seconds,
    )
    try:
        service = deployer.deploy_on_port(
            config, port=serving.port, timeout=serving.start_timeout_seconds
        )
    except RuntimeError as err:
        raise DeploymentError(f"Deploying {model_name} version {version} failed: {err}") from err
    info = _info(service)
    if (info.model_name, info.model_version) != (model_name, str(version)):
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
