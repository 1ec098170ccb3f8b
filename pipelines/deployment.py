"""Deployment: serve the current production version on the configured loopback port."""

from zenml import pipeline

from movie_roulette.config import PipelineConfig
from movie_roulette.monitoring.batches import event_log_path
from steps.deploy.deploy_production import deploy_production


@pipeline
def deployment_pipeline(config: PipelineConfig) -> None:
    deploy_production(config.model_name, config.serving, str(event_log_path(config)))
