"""The model card of the new version beside production (docs/model-card.md).

Audits the evaluated (holdout) model and the production model on the same test split, renders
the card (an HTMLString artifact: the ZenML dashboard shows it), and logs it with the figures to
the MLflow model version (artifact `model_card/model_card.html` of the version's run, tags) and
to this step's MLflow run. The figures feed the promotion gate (`audit.gate`).

Also the card of an experiment's challenger before its promotion (continuous pipeline):
`served_candidate` (a registered version, made comparable on this split like production) and
its own `card_path`; the version's `model_card` tag names its latest card.
"""

from typing import Annotated, Any

import mlflow
import pandas as pd
from mlflow.tracking import MlflowClient
from zenml import get_step_context, log_metadata, step
from zenml.types import HTMLString

from movie_roulette.bundle import ModelBundle
from movie_roulette.config import PipelineConfig
from movie_roulette.evaluation.audit import figure_key
from movie_roulette.evaluation.model_card import build_card
from movie_roulette.evaluation.production import PreparedProduction
from movie_roulette.evaluation.seen import seen_ratings
from movie_roulette.ratings_source import RatingsSource
from movie_roulette.tracking import metric_key

CARD_PATH = "model_card/model_card.html"


@step(experiment_tracker="mlflow_tracker", enable_cache=False)
def build_model_card(
    mlflow_model_version: str,
    model_bundle: ModelBundle,
    train: RatingsSource,
    valid: RatingsSource,
    test: pd.DataFrame,
    config: PipelineConfig,
    production: PreparedProduction,
    served_candidate: bool = False,
    card_path: str = CARD_PATH,
) -> tuple[Annotated[HTMLString, "model_card"], Annotated[dict[str, Any], "audit"]]:
    """`production`: made comparable on this split (`load_comparable_production`, shared with
    `promote_model`: refitted once per run)."""
    seen = seen_ratings(train, valid, config.model.refit_on_train_and_valid)
    card = build_card(
        config,
        mlflow_model_version,
        model_bundle.model,
        model_bundle.catalogue,
        seen,
        test,
        (production.version, production.model, production.catalogue)
        if production.version is not None
        else None,
        served_candidate=served_candidate,
        production_notes=production.notes,
    )
    html, figures = card.html, card.figures
    flat = {f"audit.{metric_key(k)}": v for k, v in figures["candidate"].items()}
    mlflow.log_metrics(flat)
    mlflow.log_text(html, "model_card.html")
    client = MlflowClient()
    run_id = client.get_model_version(config.model_name, mlflow_model_version).run_id
    if run_id:
        client.log_text(run_id, html, card_path)
    client.set_model_version_tag(config.model_name, mlflow_model_version, "model_card", card_path)
    worst = figure_key("ndcg", "worst", config.evaluation.k)
    for key in (worst, "popularity.long_tail_share", "popularity.exposure_gini"):
        if key in figures["candidate"]:
            client.set_model_version_tag(
                config.model_name,
                mlflow_model_version,
                f"audit.{metric_key(key)}",
                f"{figures['candidate'][key]:.6f}",
            )
    if get_step_context().model_version is not None:  # an experiment's card has no ZenML model
        log_metadata(metadata={"audit": figures}, infer_model=True)
    else:
        log_metadata(metadata={"audit": figures})
    return HTMLString(html), figures
