"""engine: spark: `refit_on_all_ratings` on the prepare step's files. The Spark ALS components
read train + valid + test on Spark where they are; the rest of the hybrid reads the files a
batch at a time on the driver (never as frames).

A step of its own because a step input annotated `pd.DataFrame | RatingsParquet` is loaded
through the artifact's recorded source path, a second copy of the class the materializer
rejects (as `train_hybrid` notes for its optional inputs)."""

from zenml import step

from materializers.bundle_materializer import ModelBundleMaterializer
from movie_roulette.bundle import ModelBundle
from movie_roulette.config import SparkConfig
from movie_roulette.spark.parquet import RatingsParquet
from movie_roulette.spark.session import use_settings
from movie_roulette.spark.training import spark_parts
from steps.train.refit_for_serving import Served, served_bundle


@step(output_materializers={"served_bundle": ModelBundleMaterializer})
def refit_on_all_ratings_spark(
    model_bundle: ModelBundle,
    train: RatingsParquet,
    valid: RatingsParquet,
    test: RatingsParquet,
    refit_on_train_and_valid: bool,
    spark: SparkConfig,
) -> Served:
    use_settings(spark)
    parts = spark_parts({"train": train, "valid": valid, "test": test})
    served, record = served_bundle(
        model_bundle, parts.sources, refit_on_train_and_valid, parts.scope, parts.fits
    )
    return served, record  # (a tuple literal: ZenML reads the outputs off the return statement)
