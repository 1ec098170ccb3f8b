"""Serve the version that was just promoted (or say why nothing is deployed)."""

from pathlib import Path
from typing import Annotated, Any

from zenml import get_step_context, log_metadata, step

from movie_roulette.config import ServingConfig
from movie_roulette.rollback import stamp
from serving.deploy_records import mark_replaced
from serving.deployment import deploy_version


@step(enable_cache=False)
def deploy_model(
    promotion: dict[str, Any], model_name: str, serving: ServingConfig, event_log: str
) -> Annotated[dict[str, Any], "deployment"]:
    version = promotion.get("candidate_version")
    if not serving.deploy:
        result = {"deployed": False, "reason": "serving.deploy is off in the config"}
    elif not promotion.get("promote"):
        result = {
            "deployed": False,
            "reason": f"version {version} was not promoted ({promotion.get('reason')}); "
            f"production version {promotion.get('production_version')} keeps serving",
        }
    else:
        context = get_step_context()
        server = deploy_version(
            model_name,
            str(version),
            serving,
            pipeline_name=context.pipeline.name,
            step_name=context.step_run.name,
            event_log=Path(event_log),
        )
        result = {
            "deployed": True,
            "reason": f"serving promoted version {version}",
            **server.to_dict(),
            "deployed_at": stamp(),
        }
        mark_replaced(model_name, str(version))
    print(f"Deployment: {result['reason']}" + (f" at {result['url']}" if result.get("url") else ""))
    log_metadata(metadata={"deployment": result}, infer_model=True)
    return result
