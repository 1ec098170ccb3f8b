"""(Re)deploy the model version that currently holds the production alias."""

from typing import Annotated, Any

from zenml import get_step_context, step

from movie_roulette.config import config_from_dict
from movie_roulette.monitoring.batches import event_log_path
from serving.deploy_records import mark_replaced
from serving.deployment import DeploymentError, deploy_version
from serving.registry import production_version


@step(enable_cache=False)
def deploy_production(config: dict[str, Any]) -> Annotated[dict[str, Any], "deployment"]:
    cfg = config_from_dict(config)
    version = production_version(cfg.model_name)
    if version is None:
        raise DeploymentError(
            f"Model {cfg.model_name!r} has no production version yet; train one first "
            "(`make run`, or `python run_pipeline.py --config ...`)."
        )
    context = get_step_context()
    server = deploy_version(
        cfg.model_name,
        version,
        cfg.serving,
        pipeline_name=context.pipeline.name,
        step_name=context.step_run.name,
        event_log=event_log_path(cfg),
    )
    result = {"deployed": True, "reason": f"serving production version {version}"}
    result.update(server.to_dict())
    mark_replaced(cfg.model_name, version, live_record=result)
    print(f"Serving {cfg.model_name} version {version} at {server.url}")
    return result
