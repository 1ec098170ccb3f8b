"""Promote the new version to production only if it beats production on the same test split."""

from typing import Annotated, Any

import pandas as pd
from zenml import get_step_context, log_metadata, step
from zenml.enums import ModelStages

from movie_roulette.config import config_from_dict
from movie_roulette.evaluation.compare import evaluate_model
from movie_roulette.promotion import decide_promotion
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
    metric = cfg.promotion.primary_metric
    candidate = float(metrics["hybrid"][metric])
    production = load_production_bundle(cfg.model_name)
    current = None
    current_version = None
    if production is not None:
        current_version, prod_bundle = production
        current = evaluate_model(
            prod_bundle.model,
            train,
            valid,
            test,
            k=cfg.evaluation.k,
            threshold=cfg.evaluation.relevance_threshold,
            refit_on_train_and_valid=cfg.model.refit_on_train_and_valid,
        )[metric]
    decision = decide_promotion(
        candidate=candidate,
        production=current,
        metric=metric,
        higher_is_better=cfg.promotion.higher_is_better,
        min_improvement=cfg.promotion.min_improvement,
    )
    decision.update(
        {"candidate_version": mlflow_model_version, "production_version": current_version}
    )
    model = get_step_context().model
    if decision["promote"]:
        set_stage(cfg.model_name, mlflow_model_version, "production")
        model.set_stage(ModelStages.PRODUCTION, force=True)
    else:
        set_stage(cfg.model_name, mlflow_model_version, "staging")
        model.set_stage(ModelStages.STAGING, force=True)
    print(decision["reason"])
    log_metadata(metadata={"promotion": decision}, infer_model=True)
    return decision
