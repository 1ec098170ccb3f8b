"""Retrain or not: drift over the threshold, enough new interactions, forced, or no model."""

from typing import Annotated, Any

import mlflow
from zenml import log_metadata, step

from movie_roulette.config import ContinuousConfig
from movie_roulette.monitoring.decision import decide_retraining as decide


@step(experiment_tracker="mlflow_tracker", enable_cache=False)
def decide_retraining(
    drift_summary: dict[str, Any], data_info: dict[str, Any], continuous: ContinuousConfig
) -> Annotated[dict[str, Any], "retrain_decision"]:
    decision = decide(
        drift_summary,
        new_interactions=data_info["new_interactions"],
        drift_share_threshold=continuous.drift_share_threshold,
        min_new_interactions=continuous.min_new_interactions,
        force=continuous.force,
        has_production=data_info["production_version"] is not None,
        min_drift_rows=continuous.min_drift_rows,
    )
    mlflow.log_metric("ct.retrain", float(decision["retrain"]))
    mlflow.set_tags(
        {"ct.retrain": str(decision["retrain"]), "ct.reason": decision["reason"][:5000]}
    )
    # on the step run only (record_comparison puts the triggers on the new model version)
    log_metadata(metadata={"retrain_decision": decision})
    print(decision["reason"])
    return decision
