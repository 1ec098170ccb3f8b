"""Refit the evaluated recipe on every rating: the model that is registered and served."""

from typing import Annotated, Any

import pandas as pd
from zenml import log_metadata, step

from materializers.bundle_materializer import ModelBundleMaterializer
from movie_roulette.bundle import ModelBundle
from movie_roulette.config import SparkConfig
from movie_roulette.final_fit import metrics_note, refit_for_serving
from movie_roulette.spark.session import use_settings


@step(output_materializers={"served_bundle": ModelBundleMaterializer})
def refit_on_all_ratings(
    model_bundle: ModelBundle,
    train: pd.DataFrame,
    valid: pd.DataFrame,
    test: pd.DataFrame,
    refit_on_train_and_valid: bool,
    spark: SparkConfig,
) -> tuple[Annotated[ModelBundle, "served_bundle"], Annotated[dict[str, Any], "fits"]]:
    """`spark`: where a Spark-fitted component refits (the config's session, also when this step
    runs without the steps before it, e.g. cached)."""
    use_settings(spark)
    model, fits = refit_for_serving(
        model_bundle.model,
        train,
        valid,
        test,
        model_bundle.catalogue,
        refit_on_train_and_valid=refit_on_train_and_valid,
    )
    record = {name: fit.to_dict() for name, fit in fits.items()}
    record["note"] = metrics_note(fits)
    print(f"Served model: {record['note']}.")
    log_metadata(metadata={"fits": record})
    served = ModelBundle(
        model=model,
        catalogue=model_bundle.catalogue,
        manifest=model_bundle.manifest,
        reviews=model_bundle.reviews,
        sentiment=model_bundle.sentiment,
    )
    return served, record
