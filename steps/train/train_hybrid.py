"""Fit every component, tune the blend on the validation split, refit."""

from typing import Annotated

import pandas as pd
from zenml import log_metadata, step

from materializers.bundle_materializer import ModelBundleMaterializer
from movie_roulette.bundle import ModelBundle
from movie_roulette.config import (
    EvaluationConfig,
    ModelConfig,
    PipelineConfig,
    SentimentConfig,
    SparkConfig,
)
from movie_roulette.models.hybrid import train_hybrid as fit_hybrid
from movie_roulette.models.sentiment import SentimentModel
from movie_roulette.ratings_source import RatingsSource
from movie_roulette.spark.parquet import RatingsParquet


def fit_bundle(
    train: RatingsSource | RatingsParquet,
    valid: RatingsSource | RatingsParquet,
    features: pd.DataFrame,
    model_config: ModelConfig,
    evaluation: EvaluationConfig,
    seed: int,
    sentiment: SentimentConfig | None,
    scored_reviews: pd.DataFrame | None,
    sentiment_model: SentimentModel | None,
    spark: SparkConfig | None = None,
) -> ModelBundle:
    """engine: spark (`spark` given) swaps the collaborative components for Spark ALS; the
    recipe, the sentiment component and the bundle are the same. The parts are read a batch at
    a time (`RatingsSource`: the split artifact's file; never loaded whole as frames), or on the
    Spark engine the prepare step's files (`RatingsParquet`), which Spark ALS reads there."""
    # on: added when the features carry scored reviews (none on a run without reviews)
    use_sentiment = None if sentiment is not None and sentiment.use_in_hybrid else False
    sentiment = sentiment or SentimentConfig()
    metadata: dict[str, object] = {}
    if spark is None:
        if isinstance(train, RatingsParquet) or isinstance(valid, RatingsParquet):
            raise TypeError("fit_bundle: Parquet parts are for the Spark engine (give `spark`).")
        model = fit_hybrid(
            train,
            valid,
            features,
            model_config,
            seed=seed,
            k=evaluation.k,
            threshold=evaluation.relevance_threshold,
            use_sentiment=use_sentiment,
            sentiment_prior=sentiment.prior_strength,
        )
    else:
        from movie_roulette.spark.training import train_spark_hybrid  # pyspark: this engine only

        # only the sections the recipe reads, so a change elsewhere keeps the step cached
        cfg = PipelineConfig(
            seed=seed, model=model_config, evaluation=evaluation, spark=spark, sentiment=sentiment
        )
        model = train_spark_hybrid(train, valid, features, cfg, use_sentiment=use_sentiment)
        metadata = {"engine": "spark", "spark_master": spark.master}
    metadata["blend_weights"] = {k: float(v) for k, v in model.weights.items()}
    log_metadata(metadata=metadata)
    return ModelBundle(
        model=model,
        catalogue=features,
        manifest={"metadata": {}},
        reviews=scored_reviews,
        sentiment=sentiment_model,
    )


@step(output_materializers=ModelBundleMaterializer)
def train_hybrid(
    train: RatingsSource,
    valid: RatingsSource,
    features: pd.DataFrame,
    model_config: ModelConfig,
    evaluation: EvaluationConfig,
    seed: int,
) -> Annotated[ModelBundle, "model_bundle"]:
    """Without review sentiment. Its parameters are the model section, the evaluation section
    (k and threshold of the blend search) and the seed: other sections leave its cache alone."""
    return fit_bundle(train, valid, features, model_config, evaluation, seed, None, None, None)


# Two steps, not one with optional inputs: ZenML validates an unconnected `SentimentModel = None`
# input against its type and fails the run, and `SentimentModel | None` is loaded through the
# artifact's recorded source path ("src.movie_roulette..."), a second copy of the class that the
# materializer rejects.
@step(output_materializers=ModelBundleMaterializer)
def train_hybrid_with_sentiment(
    train: RatingsSource,
    valid: RatingsSource,
    features: pd.DataFrame,
    model_config: ModelConfig,
    evaluation: EvaluationConfig,
    seed: int,
    sentiment: SentimentConfig,
    scored_reviews: pd.DataFrame,
    sentiment_model: SentimentModel,
) -> Annotated[ModelBundle, "model_bundle"]:
    """With review sentiment (the Spark engine: `train_hybrid_spark_with_sentiment`)."""
    return fit_bundle(
        train,
        valid,
        features,
        model_config,
        evaluation,
        seed,
        sentiment,
        scored_reviews,
        sentiment_model,
    )
