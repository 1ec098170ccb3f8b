"""Train the review sentiment model; log it and the lexicon baseline's metrics to MLflow."""

from typing import Annotated, Any

import mlflow
import pandas as pd
from zenml import log_metadata, step

from materializers.sentiment_materializer import SentimentModelMaterializer
from movie_roulette.config import config_from_dict
from movie_roulette.models.sentiment import (
    SentimentModel,
    fit_sentiment,
    load_sentiment_data,
    sentiment_data_dir,
)
from movie_roulette.validation import raise_for_failure, validate_labelled_reviews


@step(
    experiment_tracker="mlflow_tracker",
    output_materializers={"sentiment_model": SentimentModelMaterializer},
)
def train_sentiment(
    reviews: pd.DataFrame, config: dict[str, Any]
) -> tuple[
    Annotated[SentimentModel, "sentiment_model"],
    Annotated[dict[str, Any], "sentiment_metrics"],
]:
    cfg = config_from_dict(config)
    data = load_sentiment_data(
        cfg.sentiment,
        sentiment_data_dir(cfg.sentiment, cfg.data.data_dir),
        seed=cfg.seed,
        demo_reviews=reviews if cfg.data.source == "demo" else None,
    )
    raise_for_failure(
        validate_labelled_reviews(pd.concat([data.train, data.valid], ignore_index=True)),
        *(validate_labelled_reviews(f, unique_texts=False) for f in data.evals.values()),
    )
    result = fit_sentiment(data, cfg.sentiment.c_grid)
    mlflow.log_metrics(
        {
            f"sentiment.{who}.{dataset}.{name}": value
            for who, sets in result.metrics.items()
            for dataset, metrics in sets.items()
            for name, value in metrics.items()
            if name != "n"
        }
    )
    mlflow.log_params({"sentiment.C": result.model.C})
    summary = {"metrics": result.metrics, "validation_by_C": result.validation, **result.data}
    log_metadata(metadata={"sentiment": summary})
    return result.model, summary
