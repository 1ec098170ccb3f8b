"""Stop cleanly when the batch holds no new ratings, and record why."""

from typing import Annotated, Any

import mlflow
from zenml import log_metadata, step


@step(experiment_tracker="mlflow_tracker", enable_cache=False)
def record_empty_batch(batch_info: dict[str, Any]) -> Annotated[dict[str, Any], "retrain_decision"]:
    implicit = batch_info["rows"] - batch_info["ratings"]
    decision = {
        "retrain": False,
        "triggers": [],
        "reason": (
            f"No new ratings from {batch_info['source']} ({implicit} implicit events such as "
            "clicks or accepted spins wait for the next batch): nothing to check for drift or to "
            "retrain on. To retrain on the data already stored, run the training pipeline."
        ),
        "batch": batch_info,
    }
    mlflow.log_metric("ct.retrain", 0.0)
    mlflow.set_tags({"ct.retrain": "False", "ct.reason": decision["reason"]})
    log_metadata(metadata={"retrain_decision": decision})  # no model version: nothing registered
    print(decision["reason"])
    return decision
