"""ZenML's MLflow model deployer, with the server's TCP port chosen by the caller.

ZenML's stock MLflow deployer gives every new server the first free port from 8000 upwards; the
project wants a fixed, configurable port (`serving.port`) so that clients and the web app keep one
URL across redeployments. This flavor changes only that: it passes an endpoint with the requested
port (and `allocate_port=False`, so a busy port is an error instead of a silent move) when it
creates the service. Everything else (daemon, `mlflow` scoring server, registry lookups, the
`zenml model-deployer models ...` commands) is ZenML's own, except how the daemon starts the
scoring server (`GuardedMLFlowDeploymentService.run`, serving/command.py): `uvicorn` serves
`serving.asgi:app`, MLflow's app behind the request guard (serving/guard.py: size and row
limits, JSON nesting, a default Content-Type; POST /invocations answered in the event loop,
serving/direct.py), and every server process is recorded (serving/processes.py) so that a dead
master's workers can still be found and stopped.

Registered by `stack_setup.py` as flavor `movie_roulette_mlflow`.
"""

from __future__ import annotations

import ctypes
import signal
import subprocess
from pathlib import Path
from typing import Any
from uuid import UUID

from zenml.integrations.mlflow.flavors.mlflow_model_deployer_flavor import (
    MLFlowModelDeployerFlavor,
)
from zenml.integrations.mlflow.model_deployers.mlflow_model_deployer import MLFlowModelDeployer
from zenml.integrations.mlflow.services.mlflow_deployment import (
    MLFLOW_HEALTHCHECK_URL_PATH,
    MLFLOW_PREDICTION_URL_PATH,
    MLFlowDeploymentConfig,
    MLFlowDeploymentEndpoint,
    MLFlowDeploymentEndpointConfig,
    MLFlowDeploymentService,
)
from zenml.services import HTTPEndpointHealthMonitor, HTTPEndpointHealthMonitorConfig
from zenml.services.service_endpoint import ServiceEndpointProtocol

FLAVOR_NAME = "movie_roulette_mlflow"
PIDS_FOLDER = "movie_roulette_pids"  # under the deployer's local path: outlives a service's own


def pid_folder(root: str | Path) -> Path:
    return Path(root) / PIDS_FOLDER


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """SIGTERM when the daemon dies (what MLflow's own backend does)."""
    try:
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class GuardedMLFlowDeploymentService(MLFlowDeploymentService):
    """ZenML's MLflow deployment service, serving MLflow's app behind `serving.guard`."""

    def run(self) -> None:
        """Runs in ZenML's daemon: the scoring server as MLflow's backend would start it (same
        model download, environment and `uvicorn` options), with the guarded app, recorded."""
        from mlflow.tracking.artifact_utils import _download_artifact_from_uri
        from zenml.client import Client
        from zenml.integrations.mlflow.experiment_trackers.mlflow_experiment_tracker import (
            MLFlowExperimentTracker,
        )

        from serving.command import guarded_command
        from serving.processes import MODEL_ENV, PID_DIR_ENV, PORT_ENV, record

        self.endpoint.prepare_for_start()
        tracker = Client().active_stack.experiment_tracker
        if not isinstance(tracker, MLFlowExperimentTracker):
            raise ValueError("The model server needs the stack's MLflow experiment tracker.")
        tracker.configure_mlflow()
        port = int(self.endpoint.status.port)
        local = _download_artifact_from_uri(self.config.model_uri)
        argv, env = guarded_command(local, port, workers=self.config.workers)
        folder = pid_folder(self.config.root_runtime_path or ".")
        model = f"{self.config.model_name}:{self.config.model_version}"
        env.update({PID_DIR_ENV: str(folder), PORT_ENV: str(port), MODEL_ENV: model})
        proc = subprocess.Popen(argv, env=env, preexec_fn=_die_with_parent)  # noqa: PLW1509
        record(proc.pid, folder, port, model)
        try:
            proc.wait()
        except KeyboardInterrupt:
            proc.terminate()


def endpoint_on_port(port: int) -> MLFlowDeploymentEndpoint:
    return MLFlowDeploymentEndpoint(
        config=MLFlowDeploymentEndpointConfig(
            protocol=ServiceEndpointProtocol.HTTP,
            prediction_url_path=MLFLOW_PREDICTION_URL_PATH,
            port=port,
            allocate_port=False,
        ),
        monitor=HTTPEndpointHealthMonitor(
            config=HTTPEndpointHealthMonitorConfig(
                healthcheck_uri_path=MLFLOW_HEALTHCHECK_URL_PATH, use_head_request=False
            )
        ),
    )


class MovieRouletteModelDeployer(MLFlowModelDeployer):
    """MLflow model deployer whose `deploy_on_port` pins the server's port."""

    _requested_port: int | None = None

    def deploy_on_port(
        self, config: MLFlowDeploymentConfig, port: int, timeout: int
    ) -> MLFlowDeploymentService:
        self._requested_port = port
        try:
            # continuous_deployment_mode: the default mode looks for an "existing server with the
            # exact same configuration", but ZenML's service filter ignores the configuration
            # and hands back whichever MLflow server is newest, even another model's. The caller
            # makes pipeline_step_name unique per model, so this mode only replaces this model's.
            service = self.deploy_model(
                config=config,
                service_type=MLFlowDeploymentService.SERVICE_TYPE,
                timeout=timeout,
                continuous_deployment_mode=True,
            )
        finally:
            self._requested_port = None
        assert isinstance(service, MLFlowDeploymentService)
        return service

    def _create_new_service(
        self, id: UUID, timeout: int, config: MLFlowDeploymentConfig
    ) -> MLFlowDeploymentService:
        config.root_runtime_path = self.local_path
        attrs: dict[str, Any] = {}
        if self._requested_port is not None:
            attrs["endpoint"] = endpoint_on_port(self._requested_port)
        service = GuardedMLFlowDeploymentService(uuid=id, config=config, **attrs)
        service.start(timeout=timeout)
        return service


class MovieRouletteModelDeployerFlavor(MLFlowModelDeployerFlavor):
    """Flavor of `MovieRouletteModelDeployer` (same config as ZenML's MLflow deployer)."""

    @property
    def name(self) -> str:
        return FLAVOR_NAME

    @property
    def display_name(self) -> str:
        return "MLflow (fixed port)"

    @property
    def implementation_class(self) -> type[MovieRouletteModelDeployer]:
        return MovieRouletteModelDeployer


MovieRouletteModelDeployer.FLAVOR = MovieRouletteModelDeployerFlavor  # type: ignore[misc]
