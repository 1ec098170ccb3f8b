"""Helpers that shape metrics and params for experiment trackers (no tracker imports here)."""

from __future__ import annotations

import math
import re
from typing import Any

_UNSAFE = re.compile(r"[^0-9A-Za-z_\-./ ]")


def metric_key(name: str) -> str:
    """MLflow-safe metric name: `ndcg@10` -> `ndcg_at_10`."""
    return _UNSAFE.sub("_", name.replace("@", "_at_"))


def flatten_metrics(metrics: dict[str, dict[str, float]]) -> dict[str, float]:
    """{"hybrid": {"ndcg@10": 0.3}} -> {"hybrid.ndcg_at_10": 0.3}; NaN values are dropped."""
    flat: dict[str, float] = {}
    for model_name, values in metrics.items():
        for name, value in values.items():
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            flat[f"{metric_key(model_name)}.{metric_key(name)}"] = float(value)
    return flat


def flatten_params(params: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested config -> {"model.svd.n_factors": "100"} (MLflow params are strings)."""
    flat: dict[str, str] = {}
    for key, value in params.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            flat.update(flatten_params(value, name))
        else:
            flat[name] = str(value)
    return flat
