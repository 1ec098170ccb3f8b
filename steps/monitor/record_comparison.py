"""Record the candidate-vs-production comparison of a continuous run (ZenML + MLflow)."""

from typing import Annotated, Any

import mlflow
from zenml import log_metadata, step

from movie_roulette.tracking import metric_key


@step(experiment_tracker="mlflow_tracker", enable_cache=False)
def record_comparison(
    promotion: dict[str, Any],
    deployment: dict[str, Any],
    retrain_decision: dict[str, Any],
    split_info: dict[str, Any],
) -> Annotated[dict[str, Any], "comparison"]:
    metric = metric_key(promotion["metric"])
    comparison = {
        "metric": promotion["metric"],
        "candidate_version": promotion["candidate_version"],
        "candidate": promotion["candidate"],
        "production_version": promotion["production_version"],
        "production": promotion["production"],
        "promoted": bool(promotion["promote"]),
        "reason": promotion["reason"],
        "groups": promotion.get("groups", []),
        "compared_users": promotion.get("compared_users"),
        "blocked_by": promotion.get("blocked_by", []),
        "audit_gate": promotion.get("audit_gate", []),
        "notes": promotion.get("notes", []),
        "test_data": split_info["how"],
        "deployed": bool(deployment.get("deployed")),
        "deployment": deployment.get("reason"),
        "retrain_triggers": retrain_decision["triggers"],
    }
    metrics = {}
    for who in ("candidate", "production"):
        if promotion[who] is not None:
            metrics[f"comparison.{who}_{metric}"] = float(promotion[who])
    for group in comparison["groups"]:
        metrics[f"comparison.{group['name']}.users"] = float(group["ranked_users"])
        for who in ("candidate", "production"):
            value = group[who]
            if value == value:  # not NaN
                metrics[f"comparison.{group['name']}.{who}_{metric}"] = float(value)
    metrics["comparison.promoted"] = float(comparison["promoted"])
    mlflow.log_metrics(metrics)
    mlflow.set_tags(
        {
            "comparison.candidate_version": str(promotion["candidate_version"]),
            "comparison.production_version": str(promotion["production_version"]),
            "comparison.reason": promotion["reason"][:5000],
        }
    )
    log_metadata(metadata={"comparison": comparison})  # on the step run
    log_metadata(
        metadata={"comparison": comparison}, infer_model=True
    )  # on the ZenML model version
    return comparison
