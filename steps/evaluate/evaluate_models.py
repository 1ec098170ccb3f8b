"""Offline evaluation of every component and the hybrid on the test split."""

from typing import Annotated

import mlflow
import pandas as pd
from zenml import log_metadata, step

from movie_roulette.bundle import ModelBundle
from movie_roulette.config import EvaluationConfig
from movie_roulette.evaluation.compare import evaluate_bundle
from movie_roulette.ratings_source import RatingsSource
from movie_roulette.tracking import flatten_metrics


@step(experiment_tracker="mlflow_tracker")
def evaluate_models(
    model_bundle: ModelBundle,
    train: RatingsSource,
    valid: RatingsSource,
    test: pd.DataFrame,
    evaluation: EvaluationConfig,
    refit_on_train_and_valid: bool,
) -> Annotated[dict[str, dict[str, float]], "metrics"]:
    metrics = evaluate_bundle(
        model_bundle.model,
        train,
        valid,
        test,
        k=evaluation.k,
        threshold=evaluation.relevance_threshold,
        refit_on_train_and_valid=refit_on_train_and_valid,
    )
    mlflow.log_metrics(flatten_metrics(metrics))
    log_metadata(metadata={"metrics": metrics})  # the model version gets them at registration
    return metrics
