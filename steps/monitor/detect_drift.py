"""Evidently data-drift report: HTML artifact + summary (ZenML metadata and MLflow)."""

from typing import Annotated, Any

import mlflow
import pandas as pd
from zenml import log_metadata, step
from zenml.types import HTMLString

from movie_roulette.config import ContinuousConfig
from movie_roulette.monitoring.drift import run_drift_report


@step(experiment_tracker="mlflow_tracker")
def detect_drift(
    reference_features: pd.DataFrame,
    current_features: pd.DataFrame,
    continuous: ContinuousConfig,
    seed: int,
) -> tuple[Annotated[dict[str, Any], "drift_summary"], Annotated[HTMLString, "drift_report"]]:
    result = run_drift_report(
        reference_features,
        current_features,
        drift_share=continuous.drift_share_threshold,
        max_reference_rows=continuous.max_reference_rows,
        seed=seed,
    )
    summary = result.summary
    mlflow.log_metrics(
        {
            "drift.share": summary["drift_share"],
            "drift.current_rows": summary["current_rows"],
            **{f"drift.{c}.score": r["score"] for c, r in summary["columns"].items()},
        }
    )
    mlflow.set_tag("drift.drifted_columns", ",".join(summary["drifted_columns"]) or "none")
    # on the step run only: a run that retrains nothing creates no ZenML model version
    log_metadata(metadata={"drift": summary})
    print(
        f"Drift: {summary['drift_share']:.2f} of columns drifted "
        f"({', '.join(summary['drifted_columns']) or 'none'})."
    )
    return summary, HTMLString(result.html)
