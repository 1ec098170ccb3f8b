"""engine: spark: the hybrid with pyspark.ml ALS components (fitted factors come back as arrays)."""

from typing import Annotated

import pandas as pd
from zenml import log_metadata, step

from materializers.bundle_materializer import ModelBundleMaterializer
from movie_roulette.bundle import ModelBundle
from movie_roulette.config import EvaluationConfig, ModelConfig, PipelineConfig, SparkConfig
from movie_roulette.spark.training import train_spark_hybrid


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
    # only the sections the recipe reads, so a change elsewhere keeps this step cached
    cfg = PipelineConfig(seed=seed, model=model_config, evaluation=evaluation, spark=spark)
    model = train_spark_hybrid(train, valid, features, cfg)
    log_metadata(
        metadata={
            "blend_weights": {k: float(v) for k, v in model.weights.items()},
            "engine": "spark",
            "spark_master": cfg.spark.master,
        }
    )
    return ModelBundle(model=model, catalogue=features, manifest={"metadata": {}})
