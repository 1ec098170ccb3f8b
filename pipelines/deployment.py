"""Deployment: serve the current production version on the configured loopback port."""

from typing import Any

from zenml import pipeline

from steps.deploy.deploy_production import deploy_production


@pipeline(enable_cache=False)
def deployment_pipeline(config: dict[str, Any]) -> None:
    deploy_production(config)
