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
from movie_roulette.ratings_source import RatingsSource


@step
def score_reviews(
    reviews: pd.DataFrame,
    features: pd.DataFrame,
    sentiment_model: SentimentModel,
    valid: RatingsSource,
    test: RatingsSource,
) -> tuple[
    Annotated[pd.DataFrame, "scored_reviews"],
    Annotated[pd.DataFrame, "features_with_sentiment"],
]:
    """`valid` / `test` as the artifacts' files, read a batch at a time for the held-out pairs."""
    scored = score(reviews, sentiment_model)
    aggregates = aggregate_sentiment(scored, exclude_pairs=[valid, test])  # held out: no leak
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
