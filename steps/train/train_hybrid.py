"""Fit every component, tune the blend on the validation split, refit."""

from typing import Annotated, Any

import pandas as pd
from zenml import log_metadata, step

from materializers.bundle_materializer import ModelBundleMaterializer
from movie_roulette.bundle import ModelBundle
from movie_roulette.config import config_from_dict
from movie_roulette.models.hybrid import train_hybrid as fit_hybrid


@step(output_materializers=ModelBundleMaterializer)
def train_hybrid(
    train: pd.DataFrame, valid: pd.DataFrame, features: pd.DataFrame, config: dict[str, Any]
) -> Annotated[ModelBundle, "model_bundle"]:
    cfg = config_from_dict(config)
    model = fit_hybrid(
        train,
        valid,
        features,
        cfg.model,
        seed=cfg.seed,
        k=cfg.evaluation.k,
        threshold=cfg.evaluation.relevance_threshold,
    )
    log_metadata(metadata={"blend_weights": {k: float(v) for k, v in model.weights.items()}})
    return ModelBundle(model=model, catalogue=features, manifest={"metadata": {}})
