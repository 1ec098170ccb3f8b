"""engine: spark: the hybrid with pyspark.ml ALS components (fitted factors come back as arrays)."""

from typing import Annotated

import pandas as pd
from zenml import step

from materializers.bundle_materializer import ModelBundleMaterializer
from movie_roulette.bundle import ModelBundle
from movie_roulette.config import EvaluationConfig, ModelConfig, SparkConfig
from steps.train.train_hybrid import fit_bundle


@step(output_materializers=ModelBundleMaterializer)
def train_hybrid_spark(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    features: pd.DataFrame,
    model_config: ModelConfig,
    evaluation: EvaluationConfig,
    spark: SparkConfig,
    seed: int,
) -> Annotated[ModelBundle, "model_bundle"]:
    """Without review sentiment (`train_hybrid_with_sentiment` takes `spark` for a run with it)."""
    return fit_bundle(
        train, valid, features, model_config, evaluation, seed, None, None, None, spark
    )
