"""(Re)deploy the model version that currently holds the production alias."""

from pathlib import Path
from typing import Annotated, Any

from zenml import get_step_context, step

from movie_roulette.config import ServingConfig
from serving.deploy_records import mark_replaced
from serving.deployment import DeploymentError, deploy_version
from serving.registry import production_version


@step(enable_cache=False)
def deploy_production(
    model_name: str, serving: ServingConfig, event_log: str
) -> Annotated[dict[str, Any], "deployment"]:
    version = production_version(model_name)
    if version is None:
        raise DeploymentError(
            f"Model {model_name!r} has no production version yet; train one first "
            "(`make run`, or `python run_pipeline.py --config ...`)."
        )
    context = get_step_context()
    server = deploy_version(
        model_name,
        version,
        serving,
        pipeline_name=context.pipeline.name,
        step_name=context.step_run.name,
        event_log=Path(event_log),
    )
    result = {"deployed": True, "reason": f"serving production version {version}"}
    result.update(server.to_dict())
    mark_replaced(model_name, version, live_record=result)
    print(f"Serving {model_name} version {version} at {server.url}")
    return result
