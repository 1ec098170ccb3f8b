"""Log the served bundle as an MLflow pyfunc from code, register it, link it to the ZenML model.

The bundle is the recipe refitted on every rating; the metrics are the holdout model's (fitted on
train + valid, measured on test). The version records both fits' data checksums and says so.

The ratings are not loaded here: their checksum is the `sha256` their producing step logged on the
artifact (`load_ratings`, `prepare_ratings_spark`, `load_continuous_data`). Loading the frame only
to hash it held the whole ratings frame in this step (~0.8 GB at 25M ratings).
"""

from typing import Annotated, Any

import mlflow
from zenml import get_step_context, log_metadata, step
from zenml.artifacts.unmaterialized_artifact import UnmaterializedArtifact

from movie_roulette.bundle import ModelBundle
from movie_roulette.config import PipelineConfig
from movie_roulette.final_fit import HOLDOUT, SERVED
from movie_roulette.fingerprint import code_version, frame_checksum
from movie_roulette.tracking import flatten_metrics, flatten_params, metric_key
from serving.registry import log_and_register
from steps.ratings_artifact import logged_checksum


@step(experiment_tracker="mlflow_tracker", enable_cache=False)
def register_model(
    model_bundle: ModelBundle,
    metrics: dict[str, dict[str, float]],
    behaviour_report: dict[str, Any],
    ratings: UnmaterializedArtifact,
    fits: dict[str, Any],
    config: PipelineConfig,
) -> Annotated[str, "mlflow_model_version"]:
    context = get_step_context()
    provenance = {
        "ratings_sha256": logged_checksum(ratings),
        "catalogue_sha256": frame_checksum(model_bundle.catalogue),
        "code_version": code_version(),
        "data_source": config.data.source,
        "zenml_pipeline_run": context.pipeline_run.name,
        "zenml_run_id": str(context.pipeline_run.id),
    }
    fit_tags = {
        f"{name}_fit.{key}": str(fits[name][key])
        for name in (HOLDOUT, SERVED)
        for key in ("data", "ratings_sha256", "rows")
    }
    mlflow.log_params(flatten_params(config.to_dict()))
    # the evaluation's figures on this run too: evaluate_models may be a cached step (then it
    # logged them to an earlier run), and the version's run must show what it was promoted on
    mlflow.log_metrics(flatten_metrics(metrics))
    mlflow.set_tags({**provenance, **fit_tags, "metrics_of": fits["note"]})
    version = log_and_register(
        model_bundle,
        model_name=config.model_name,
        metadata={
            **provenance,
            "metrics": metrics,
            "metrics_of": fits["note"],
            "fits": fits,
            "behaviour": behaviour_report,
        },
        tags={
            **provenance,
            **fit_tags,
            "metrics_of": fits["note"],
            f"holdout_test.{metric_key(config.promotion.primary_metric)}": str(
                metrics["hybrid"][config.promotion.primary_metric]
            ),
        },
        description=f"Served model: {fits['note']}.",
    )
    log_metadata(
        metadata={
            "mlflow_model_name": config.model_name,
            "mlflow_model_version": version,
            "mlflow_model_uri": f"models:/{config.model_name}/{version}",
            **provenance,
            "metrics": metrics,
            "metrics_of": fits["note"],
            "fits": fits,
            "behaviour": behaviour_report,
        },
        infer_model=True,
    )
    return version
