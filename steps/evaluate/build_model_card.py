"""The model card of the new version beside production (docs/model-card.md).

Audits the evaluated (holdout) model and the production model on the same test split, renders
the card (an HTMLString artifact: the ZenML dashboard shows it), and logs it with the figures to
the MLflow model version (artifact `model_card/model_card.html` of the version's run, tags) and
to this step's MLflow run. The figures feed the promotion gate (`audit.gate`).
"""

from typing import Annotated, Any

import mlflow
import pandas as pd
from mlflow.tracking import MlflowClient
from zenml import log_metadata, step
from zenml.types import HTMLString

from movie_roulette.bundle import ModelBundle
from movie_roulette.config import config_from_dict
from movie_roulette.evaluation.audit import audit_model, figure_key
from movie_roulette.evaluation.compare import seen_ratings
from movie_roulette.evaluation.model_card import (
    CardContext,
    comparable_production,
    load_users_table,
    render_card,
    settings_from_config,
)
from movie_roulette.promotion import check_audit_gate
from movie_roulette.tracking import metric_key
from serving.registry import load_production_bundle

CARD_PATH = "model_card/model_card.html"


@step(experiment_tracker="mlflow_tracker", enable_cache=False)
def build_model_card(
    mlflow_model_version: str,
    model_bundle: ModelBundle,
    train: pd.DataFrame,
    valid: pd.DataFrame,
    test: pd.DataFrame,
    config: dict[str, Any],
) -> tuple[Annotated[HTMLString, "model_card"], Annotated[dict[str, Any], "audit"]]:
    cfg = config_from_dict(config)
    seen = seen_ratings(train, valid, cfg.model.refit_on_train_and_valid)
    settings = settings_from_config(cfg)
    users = load_users_table(cfg.audit.users_table)
    candidate = audit_model(model_bundle.model, seen, test, model_bundle.catalogue, settings, users)
    production = load_production_bundle(cfg.model_name)
    prod_audit, prod_notes, prod_version = None, [], None
    if production is not None:
        prod_version = production[0]
        model, prod_notes = comparable_production(
            production[1].model, seen, test, production[1].catalogue
        )
        prod_audit = audit_model(model, seen, test, model_bundle.catalogue, settings, users)
    figures = {
        "candidate_version": mlflow_model_version,
        "production_version": prod_version,
        "candidate": candidate.figures(),
        "production": prod_audit.figures() if prod_audit else None,
        "notes": [*candidate.notes, *prod_notes],
    }
    gate = check_audit_gate(
        cfg.audit.gate, figures["candidate"], figures["production"], cfg.evaluation.k
    )
    html = render_card(
        candidate,
        prod_audit,
        CardContext(
            cfg.model_name,
            mlflow_model_version,
            prod_version,
            prod_notes,
            [check.to_dict() for check in gate],
        ),
    )
    flat = {f"audit.{metric_key(k)}": v for k, v in figures["candidate"].items()}
    mlflow.log_metrics(flat)
    mlflow.log_text(html, "model_card.html")
    client = MlflowClient()
    run_id = client.get_model_version(cfg.model_name, mlflow_model_version).run_id
    if run_id:
        client.log_text(run_id, html, CARD_PATH)
    client.set_model_version_tag(cfg.model_name, mlflow_model_version, "model_card", CARD_PATH)
    worst = figure_key("ndcg", "worst", cfg.evaluation.k)
    for key in (worst, "popularity.long_tail_share", "popularity.exposure_gini"):
        if key in figures["candidate"]:
            client.set_model_version_tag(
                cfg.model_name,
                mlflow_model_version,
                f"audit.{metric_key(key)}",
                f"{figures['candidate'][key]:.6f}",
            )
    log_metadata(metadata={"audit": figures}, infer_model=True)
    return HTMLString(html), figures
