"""Offline evaluation of every component and the hybrid on the test split."""

from typing import Annotated, Any

import mlflow
import pandas as pd
from zenml import log_metadata, step

from movie_roulette.bundle import ModelBundle
from movie_roulette.config import config_from_dict
from movie_roulette.evaluation.compare import evaluate_bundle
from movie_roulette.tracking import flatten_metrics


@step(experiment_tracker="mlflow_tracker")
def evaluate_models(
    model_bundle: ModelBundle,
    train: pd.DataFrame,
    valid: pd.DataFrame,
    test: pd.DataFrame,
    config: dict[str, Any],
) -> Annotated[dict[str, dict[str, float]], "metrics"]:
    cfg = config_from_dict(config)
    metrics = evaluate_bundle(
        model_bundle.model,
        train,
        valid,
        test,
        k=cfg.evaluation.k,
        threshold=cfg.evaluation.relevance_threshold,
        refit_on_train_and_valid=cfg.model.refit_on_train_and_valid,
    )
    mlflow.log_metrics(flatten_metrics(metrics))
    log_metadata(metadata={"metrics": metrics})  # the model version gets them at registration
    return metrics
