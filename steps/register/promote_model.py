"""Promote the new version to production only if it beats production on the same test split."""

from typing import Annotated, Any

import pandas as pd
from zenml import get_step_context, log_metadata, step
from zenml.enums import ModelStages

from movie_roulette.config import config_from_dict
from movie_roulette.promotion import decide_against_production
from serving.registry import load_production_bundle, set_stage


@step(enable_cache=False)
def promote_model(
    mlflow_model_version: str,
    metrics: dict[str, dict[str, float]],
    train: pd.DataFrame,
    valid: pd.DataFrame,
    test: pd.DataFrame,
    config: dict[str, Any],
) -> Annotated[dict[str, Any], "promotion"]:
    cfg = config_from_dict(config)
    production = load_production_bundle(cfg.model_name)
    production_version, production_model = (
        (production[0], production[1].model) if production else (None, None)
    )
    decision = decide_against_production(
        metrics["hybrid"], production_model, train, valid, test, cfg
    )
    decision.update(
        {"candidate_version": mlflow_model_version, "production_version": production_version}
    )
    stage = ModelStages.PRODUCTION if decision["promote"] else ModelStages.STAGING
    set_stage(cfg.model_name, mlflow_model_version, stage.value)
    get_step_context().model.set_stage(stage, force=True)
    print(decision["reason"])
    log_metadata(metadata={"promotion": decision}, infer_model=True)
    return decision
