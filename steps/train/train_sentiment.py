"""Train the review sentiment model; log it and the lexicon baseline's metrics to MLflow.

Cached: the labelled files it reads (rt-polarity, si650, ...) are fingerprinted by
`fingerprint_labelled_reviews`, whose value is an input here.
"""

from typing import Annotated, Any

import mlflow
import pandas as pd
from zenml import log_metadata, step

from materializers.sentiment_materializer import SentimentModelMaterializer
from movie_roulette.config import SentimentConfig
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
    reviews: pd.DataFrame,
    sentiment: SentimentConfig,
    data_dir: str | None,
    data_source: str,
    seed: int,
    labelled_fingerprint: str,
) -> tuple[
    Annotated[SentimentModel, "sentiment_model"],
    Annotated[dict[str, Any], "sentiment_metrics"],
]:
    data = load_sentiment_data(
        sentiment,
        sentiment_data_dir(sentiment, data_dir),
        seed=seed,
        demo_reviews=reviews if data_source == "demo" else None,
    )
    raise_for_failure(
        validate_labelled_reviews(pd.concat([data.train, data.valid], ignore_index=True)),
        *(validate_labelled_reviews(f, unique_texts=False) for f in data.evals.values()),
    )
    result = fit_sentiment(data, sentiment.c_grid)
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
