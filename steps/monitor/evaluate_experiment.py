"""Evaluate the running online experiment: promote + redeploy the challenger, stop it, or go on.

Recorded like the drift decision: MLflow metrics + tags on the step's run, ZenML metadata, and
in the experiment's own record (docs/experiments.md)."""

from typing import Annotated, Any

import mlflow
from zenml import get_step_context, log_metadata, step

from movie_roulette.config import PipelineConfig
from serving.experiments import decide


@step(experiment_tracker="mlflow_tracker", enable_cache=False)
def evaluate_experiment(config: PipelineConfig) -> Annotated[dict[str, Any], "experiment_decision"]:
    context = get_step_context()
    decision = decide(config, pipeline_name=context.pipeline.name, step_name=context.step_run.name)
    if decision is None:
        print("Experiment: none running.")
        return {"action": "none", "reason": "no experiment is running"}
    metrics = {
        "experiment.p_challenger_better": decision["p_challenger_better"],
        "experiment.promoted": float(decision["action"] == "promote"),
        "experiment.stopped": float(decision["action"] == "stop"),
    }
    for arm in ("production", "challenger"):
        metrics[f"experiment.{arm}.impressions"] = float(decision[arm]["impressions"])
        metrics[f"experiment.{arm}.success_rate"] = decision[arm]["mean"]
    mlflow.log_metrics(metrics)
    mlflow.set_tags(
        {
            "experiment.id": decision["experiment_id"],
            "experiment.action": decision["action"],
            "experiment.reason": decision["reason"][:5000],
        }
    )
    log_metadata(metadata={"experiment_decision": decision})
    print(f"Experiment {decision['experiment_id']}: {decision['reason']}")
    return decision
