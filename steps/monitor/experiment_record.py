"""Recording an experiment decision from a step: MLflow metrics and tags, ZenML metadata and the
console line (shared by `evaluate_experiment` and `conclude_experiment`)."""

from typing import Any

import mlflow
from zenml import log_metadata

from movie_roulette.experiments.card_gate import decision_metrics


def record_decision(decision: dict[str, Any]) -> dict[str, Any]:
    metrics, tags = decision_metrics(decision)
    mlflow.log_metrics(metrics)
    mlflow.set_tags(tags)
    log_metadata(metadata={"experiment_decision": decision})
    print(f"Experiment {decision['experiment_id']}: {decision['reason']}")
    return decision
