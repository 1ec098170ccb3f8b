"""Evaluate a trained hybrid and each of its components on the same test split."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from movie_roulette.evaluation.offline import evaluate
from movie_roulette.evaluation.seen import Part, seen_ratings


def evaluate_model(
    model: Any,
    train: Part,
    valid: Part,
    test: pd.DataFrame,
    k: int = 10,
    threshold: float = 4.0,
    refit_on_train_and_valid: bool = True,
    item_genres: Mapping[Any, str] | None = None,
) -> dict[str, float]:
    seen = seen_ratings(train, valid, refit_on_train_and_valid)
    return _clean(evaluate(model, seen, test, k=k, threshold=threshold, item_genres=item_genres))


def model_genres(model: Any) -> dict[int, str] | None:
    """{movie_id: "A|B"} from a fitted hybrid (its catalogue genres), else None."""
    genres = getattr(model, "genres", None)
    ids = getattr(model, "movie_ids", None)
    if genres is None or ids is None or len(genres) != len(ids):
        return None
    return dict(zip(np.asarray(ids).tolist(), np.asarray(genres).tolist(), strict=True))


def evaluate_bundle(
    model: Any,
    train: Part,
    valid: Part,
    test: pd.DataFrame,
    k: int = 10,
    threshold: float = 4.0,
    refit_on_train_and_valid: bool = True,
) -> dict[str, dict[str, float]]:
    """{"hybrid": metrics, "<component>": metrics, ...} measured on the same test rows,
    with the beyond-accuracy metrics (genre diversity from the hybrid's catalogue genres)."""
    models = {"hybrid": model, **model.components}
    genres = model_genres(model)
    seen = seen_ratings(train, valid, refit_on_train_and_valid)  # once, not once per model
    return {
        name: _clean(evaluate(m, seen, test, k=k, threshold=threshold, item_genres=genres))
        for name, m in models.items()
    }


def _clean(metrics: dict[str, Any]) -> dict[str, float]:
    return {key: float(value) for key, value in metrics.items()}
