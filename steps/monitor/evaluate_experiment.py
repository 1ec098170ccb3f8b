"""Evaluate the running online experiment: promote + redeploy the challenger, stop it, or go on.

Recorded like the drift decision: MLflow metrics + tags on the step's run, ZenML metadata, and
in the experiment's own record (docs/experiments.md). When the rule says promote and the model
card is on (`audit.enabled`), nothing is acted on here: the verdict comes back `pending` and the
pipeline builds the challenger's model card, then `conclude_experiment` applies the audit gate.
"""

from typing import Annotated, Any

from zenml import get_step_context, log_metadata, step

from movie_roulette.config import PipelineConfig
from serving.experiments import conclude, verdict
from steps.monitor.experiment_record import record_decision


@step(experiment_tracker="mlflow_tracker", enable_cache=False)
def evaluate_experiment(config: PipelineConfig) -> Annotated[dict[str, Any], "experiment_decision"]:
    context = get_step_context()
    found = verdict(config)
    if found is None:
        print("Experiment: none running.")
        return {"action": "none", "reason": "no experiment is running"}
    if found["action"] == "promote" and config.audit.enabled:
        pending = {**found, "pending": "model card and audit gate (conclude_experiment)"}
        print(f"Experiment {found['experiment_id']}: the rule says promote; model card next.")
        log_metadata(metadata={"experiment_verdict": pending})
        return pending
    decision = conclude(
        config, found, pipeline_name=context.pipeline.name, step_name=context.step_run.name
    )
    return record_decision(decision)
