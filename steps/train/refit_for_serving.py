"""Refit the evaluated recipe on every rating: the model that is registered and served."""

from typing import Annotated, Any

from zenml import log_metadata, step

from materializers.bundle_materializer import ModelBundleMaterializer
from movie_roulette.bundle import ModelBundle
from movie_roulette.config import SparkConfig
from movie_roulette.final_fit import metrics_note, refit_for_serving
from movie_roulette.models.hybrid.training import FitScope, no_scope
from movie_roulette.ratings_source import Part, RatingsSource
from movie_roulette.spark.session import use_settings

Served = tuple[Annotated[ModelBundle, "served_bundle"], Annotated[dict[str, Any], "fits"]]


def served_bundle(
    model_bundle: ModelBundle,
    frames: dict[str, Part],
    refit_on_train_and_valid: bool,
    fit_scope: FitScope = no_scope,
    als_rows: list[dict[str, Any]] | None = None,
) -> tuple[ModelBundle, dict[str, Any]]:
    """The bundle of the recipe refitted on train + valid + test, and what each fit saw."""
    model, fits = refit_for_serving(
        model_bundle.model,
        frames["train"],
        frames["valid"],
        frames["test"],
        model_bundle.catalogue,
        refit_on_train_and_valid=refit_on_train_and_valid,
        fit_scope=fit_scope,
    )
    if als_rows is not None:
        model.fit_info["served_als_rows"] = als_rows
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


@step(output_materializers={"served_bundle": ModelBundleMaterializer})
def refit_on_all_ratings(
    model_bundle: ModelBundle,
    train: RatingsSource,
    valid: RatingsSource,
    test: RatingsSource,
    refit_on_train_and_valid: bool,
    spark: SparkConfig,
) -> Served:
    """`spark`: where a Spark-fitted component refits (the config's session, also when this step
    runs without the steps before it, e.g. cached). The Spark engine's training pipeline runs
    `refit_on_all_ratings_spark` instead (the parts as the prepare step's files). The parts are
    read a batch at a time (`RatingsSource`), never loaded whole as frames."""
    use_settings(spark)
    frames = {"train": train, "valid": valid, "test": test}
    served, record = served_bundle(model_bundle, frames, refit_on_train_and_valid)
    return served, record  # (a tuple literal: ZenML reads the outputs off the return statement)
