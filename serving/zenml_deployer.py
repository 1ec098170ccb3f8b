"""ZenML's MLflow model deployer, with the server's TCP port chosen by the caller.

ZenML's stock MLflow deployer gives every new server the first free port from 8000 upwards; the
project wants a fixed, configurable port (`serving.port`) so that clients and the web app keep one
URL across redeployments. This flavor changes only that: it passes an endpoint with the requested
port (and `allocate_port=False`, so a busy port is an error instead of a silent move) when it
creates the service. Everything else (daemon, `mlflow` scoring server, registry lookups, the
`zenml model-deployer models ...` commands) is ZenML's own.

Registered by `stack_setup.py` as flavor `movie_roulette_mlflow`.
"""

from __future__ import annotations

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
        service = MLFlowDeploymentService(uuid=id, config=config, **attrs)
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
