"""The promotion rule: a candidate replaces production only when it is better on the same data."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from movie_roulette.config import PipelineConfig
from movie_roulette.evaluation.compare import evaluate_model


def decide_promotion(
    candidate: float,
    production: float | None,
    metric: str,
    higher_is_better: bool = True,
    min_improvement: float = 0.0,
) -> dict[str, Any]:
    """Return {"promote": bool, "reason": str, "candidate": ..., "production": ...}."""
    if candidate is None or math.isnan(candidate):
        raise ValueError(f"candidate {metric} is missing or NaN; cannot decide on promotion.")
    if min_improvement < 0:
        raise ValueError(f"min_improvement must be >= 0, got {min_improvement}.")
    result: dict[str, Any] = {"metric": metric, "candidate": candidate, "production": production}
    if production is None or math.isnan(production):
        result["promote"] = True
        result["reason"] = (
            f"No production model yet: promoting the candidate ({metric}={candidate:.4f})."
        )
        return result
    gain = candidate - production if higher_is_better else production - candidate
    result["promote"] = gain > min_improvement
    verb = "beats" if result["promote"] else "does not beat"
    result["reason"] = (
        f"Candidate {metric}={candidate:.4f} {verb} production {metric}={production:.4f} "
        f"on the same test split (required improvement > {min_improvement:g}, got {gain:+.4f})."
    )
    return result


def decide_against_production(
    candidate_metrics: dict[str, float],
    production_model: Any | None,
    train: pd.DataFrame,
    valid: pd.DataFrame,
    test: pd.DataFrame,
    cfg: PipelineConfig,
) -> dict[str, Any]:
    """Measure the production model (if any) on the candidate's test split and decide.

    Both models are judged on the same test rows with the same seen-movie exclusion, so the
    comparison is fair whatever data the production model was trained on before.
    """
    metric = cfg.promotion.primary_metric
    current = None
    if production_model is not None:
        current = evaluate_model(
            production_model,
            train,
            valid,
            test,
            k=cfg.evaluation.k,
            threshold=cfg.evaluation.relevance_threshold,
            refit_on_train_and_valid=cfg.model.refit_on_train_and_valid,
        )[metric]
    return decide_promotion(
        candidate=float(candidate_metrics[metric]),
        production=current,
        metric=metric,
        higher_is_better=cfg.promotion.higher_is_better,
        min_improvement=cfg.promotion.min_improvement,
    )
