"""Act on an experiment the rule says to promote, once the challenger's model card is built:
the audit gate (`audit.gate`, docs/model-card.md) passes -> promote + redeploy; it fails ->
stop, production kept. Recorded like `evaluate_experiment`'s decisions."""

from typing import Annotated, Any

import mlflow
from zenml import get_step_context, log_metadata, step

from movie_roulette.config import PipelineConfig
from movie_roulette.experiments.card_gate import decision_metrics
from movie_roulette.promotion import check_audit_gate
from serving.experiments import conclude


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
    metrics, tags = decision_metrics(decision)
    mlflow.log_metrics(metrics)
    mlflow.set_tags(tags)
    log_metadata(metadata={"experiment_decision": decision})
    print(f"Experiment {decision['experiment_id']}: {decision['reason']}")
    return decision
