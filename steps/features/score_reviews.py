"""Score every review and put the per-movie sentiment aggregate on the feature catalogue."""

from typing import Annotated

import pandas as pd
from zenml import log_metadata, step

from movie_roulette.models.review_sentiment import (
    add_sentiment_columns,
    aggregate_sentiment,
)
from movie_roulette.models.review_sentiment import score_reviews as score
from movie_roulette.models.sentiment import SentimentModel


@step
def score_reviews(
    reviews: pd.DataFrame,
    features: pd.DataFrame,
    sentiment_model: SentimentModel,
    valid: pd.DataFrame,
    test: pd.DataFrame,
) -> tuple[
    Annotated[pd.DataFrame, "scored_reviews"],
    Annotated[pd.DataFrame, "features_with_sentiment"],
]:
    scored = score(reviews, sentiment_model)
    held_out = pd.concat([valid, test], ignore_index=True)  # their reviews must not leak
    aggregates = aggregate_sentiment(scored, exclude_pairs=held_out)
    log_metadata(
        metadata={
            "reviews_scored": len(scored),
            "positive_share": float((scored["sentiment_label"] == "positive").mean())
            if len(scored)
            else 0.0,
            "movies_with_sentiment": len(aggregates),
        }
    )
    return scored, add_sentiment_columns(features, aggregates)
