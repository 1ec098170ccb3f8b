"""Act on an experiment the rule says to promote, once the challenger's model card is built:
the audit gate (`audit.gate`, docs/model-card.md) passes -> promote + redeploy; it fails ->
stop, production kept. Recorded like `evaluate_experiment`'s decisions."""

from typing import Annotated, Any

from zenml import get_step_context, step

from movie_roulette.config import PipelineConfig
from movie_roulette.promotion import check_audit_gate
from serving.experiments import conclude
from steps.monitor.experiment_record import record_decision


@step(experiment_tracker="mlflow_tracker", enable_cache=False)
def conclude_experiment(
    experiment_verdict: dict[str, Any], audit: dict[str, Any], config: PipelineConfig
) -> Annotated[dict[str, Any], "experiment_decision"]:
    context = get_step_context()
    checks = check_audit_gate(
        config.audit.gate, audit["candidate"], audit["production"], config.evaluation.k
    )
    verdict = {k: v for k, v in experiment_verdict.items() if k != "pending"}
    decision = conclude(
        config,
        verdict,
        checks,
        pipeline_name=context.pipeline.name,
        step_name=context.step_run.name,
    )
    return record_decision(decision)
