"""engine: spark: the hybrid with pyspark.ml ALS components (fitted factors come back as arrays).

`train` and `valid` arrive as the prepare step's Parquet files: the ALS components read them on
Spark where they are; the rest of the hybrid reads them on the driver a batch at a time into the
model's index arrays (never as frames); the blend search reads its sampled users' rows of `valid`.
"""

from typing import Annotated

import pandas as pd
from zenml import step

from materializers.bundle_materializer import ModelBundleMaterializer
from movie_roulette.bundle import ModelBundle
from movie_roulette.config import EvaluationConfig, ModelConfig, SentimentConfig, SparkConfig
from movie_roulette.models.sentiment import SentimentModel
from movie_roulette.ratings_source import RatingsSource
from movie_roulette.spark.parquet import RatingsParquet
from steps.train.train_hybrid import fit_bundle


@step(output_materializers=ModelBundleMaterializer)
def train_hybrid_spark(
    train: RatingsParquet,
    valid: RatingsParquet,
    features: pd.DataFrame,
    model_config: ModelConfig,
    evaluation: EvaluationConfig,
    seed: int,
    spark: SparkConfig,
) -> Annotated[ModelBundle, "model_bundle"]:
    """Without review sentiment (with it: `train_hybrid_spark_with_sentiment`)."""
    return fit_bundle(
        train, valid, features, model_config, evaluation, seed, None, None, None, spark
    )


@step(output_materializers=ModelBundleMaterializer)
def train_hybrid_spark_on_sources(
    train: RatingsSource,
    valid: RatingsSource,
    features: pd.DataFrame,
    model_config: ModelConfig,
    evaluation: EvaluationConfig,
    seed: int,
    spark: SparkConfig,
) -> Annotated[ModelBundle, "model_bundle"]:
    """`train_hybrid_spark` on the split of continuous training's batches (prepared in pandas,
    written by `FrameMaterializer`, read a batch at a time): ALS is sent the driver's rows. The
    continuous pipeline runs it under the name `train_hybrid_spark`."""
    return fit_bundle(
        train, valid, features, model_config, evaluation, seed, None, None, None, spark
    )


@step(output_materializers=ModelBundleMaterializer)
def train_hybrid_spark_with_sentiment(
    train: RatingsParquet,
    valid: RatingsParquet,
    features: pd.DataFrame,
    model_config: ModelConfig,
    evaluation: EvaluationConfig,
    seed: int,
    sentiment: SentimentConfig,
    scored_reviews: pd.DataFrame,
    sentiment_model: SentimentModel,
    spark: SparkConfig,
) -> Annotated[ModelBundle, "model_bundle"]:
    """With review sentiment: `train_hybrid_with_sentiment`'s inputs (the split as the prepare
    step's files) and the `spark` section."""
    args = (train, valid, features, model_config, evaluation, seed)
    return fit_bundle(*args, sentiment, scored_reviews, sentiment_model, spark)
