"""Evaluate a trained hybrid and each of its components on the same test split."""

from __future__ import annotations

from typing import Any

import pandas as pd

from movie_roulette.evaluation.offline import evaluate


def seen_ratings(
    train: pd.DataFrame, valid: pd.DataFrame, refit_on_train_and_valid: bool
) -> pd.DataFrame:
    """The ratings the final model was fitted on (what recommendations must exclude)."""
    return pd.concat([train, valid], ignore_index=True) if refit_on_train_and_valid else train


def evaluate_model(
    model: Any,
    train: pd.DataFrame,
    valid: pd.DataFrame,
    test: pd.DataFrame,
    k: int = 10,
    threshold: float = 4.0,
    refit_on_train_and_valid: bool = True,
) -> dict[str, float]:
    seen = seen_ratings(train, valid, refit_on_train_and_valid)
    return _clean(evaluate(model, seen, test, k=k, threshold=threshold))


def evaluate_bundle(
    model: Any,
    train: pd.DataFrame,
    valid: pd.DataFrame,
    test: pd.DataFrame,
    k: int = 10,
    threshold: float = 4.0,
    refit_on_train_and_valid: bool = True,
) -> dict[str, dict[str, float]]:
    """{"hybrid": metrics, "<component>": metrics, ...} measured on the same test rows."""
    models = {"hybrid": model, **model.components}
    return {
        name: evaluate_model(m, train, valid, test, k, threshold, refit_on_train_and_valid)
        for name, m in models.items()
    }


def _clean(metrics: dict[str, Any]) -> dict[str, float]:
    return {key: float(value) for key, value in metrics.items()}
