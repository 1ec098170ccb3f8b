"""Promote the new version to production only if it beats production like with like."""

from typing import Annotated, Any

import pandas as pd
from zenml import get_step_context, log_metadata, step
from zenml.enums import ModelStages

from movie_roulette.bundle import ModelBundle
from movie_roulette.config import PipelineConfig
from movie_roulette.evaluation.production import PreparedProduction
from movie_roulette.promotion import (
    apply_audit_gate,
    check_audit_gate,
    decide_against_production,
)
from movie_roulette.ratings_source import RatingsSource
from serving.registry import set_stage


@step(enable_cache=False)
def promote_model(
    mlflow_model_version: str,
    model_bundle: ModelBundle,
    metrics: dict[str, dict[str, float]],
    train: RatingsSource,
    valid: RatingsSource,
    test: pd.DataFrame,
    config: PipelineConfig,
    production: PreparedProduction,
    audit: dict[str, Any] | None = None,
) -> Annotated[dict[str, Any], "promotion"]:
    """`model_bundle` is the evaluated (holdout) model: the one whose metrics are compared.
    `production`: made comparable on this split (`load_comparable_production`, shared with the
    model card: refitted once per run).
    `audit`: the model card's figures (`build_model_card`), checked by the `audit.gate` rules."""
    production_version = production.version
    decision = decide_against_production(
        model_bundle.model,
        metrics["hybrid"],
        production.model,
        train,
        valid,
        test,
        config,
        production_catalogue=production.catalogue,
        production_notes=production.notes,
    )
    if audit is not None:
        checks = check_audit_gate(
            config.audit.gate, audit["candidate"], audit["production"], config.evaluation.k
        )
        decision = apply_audit_gate(decision, checks)
    decision.update(
        {"candidate_version": mlflow_model_version, "production_version": production_version}
    )
    stage = ModelStages.PRODUCTION if decision["promote"] else ModelStages.STAGING
    set_stage(config.model_name, mlflow_model_version, stage.value)
    get_step_context().model.set_stage(stage, force=True)
    print(decision["reason"])
    log_metadata(metadata={"promotion": decision}, infer_model=True)
    return decision
