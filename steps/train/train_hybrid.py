"""Fit every component, tune the blend on the validation split, refit."""

from typing import Annotated, Any

import pandas as pd
from zenml import log_metadata, step

from materializers.bundle_materializer import ModelBundleMaterializer
from movie_roulette.bundle import ModelBundle
from movie_roulette.config import config_from_dict
from movie_roulette.models.hybrid import train_hybrid as fit_hybrid
from movie_roulette.models.sentiment import SentimentModel


def _fit(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    features: pd.DataFrame,
    config: dict[str, Any],
    scored_reviews: pd.DataFrame | None,
    sentiment_model: SentimentModel | None,
) -> ModelBundle:
    cfg = config_from_dict(config)
    model = fit_hybrid(
        train,
        valid,
        features,
        cfg.model,
        seed=cfg.seed,
        k=cfg.evaluation.k,
        threshold=cfg.evaluation.relevance_threshold,
        # on: added when the features carry scored reviews (none on a run without reviews)
        use_sentiment=None if cfg.sentiment.enabled and cfg.sentiment.use_in_hybrid else False,
        sentiment_prior=cfg.sentiment.prior_strength,
    )
    log_metadata(metadata={"blend_weights": {k: float(v) for k, v in model.weights.items()}})
    return ModelBundle(
        model=model,
        catalogue=features,
        manifest={"metadata": {}},
        reviews=scored_reviews,
        sentiment=sentiment_model,
    )


@step(output_materializers=ModelBundleMaterializer)
def train_hybrid(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    features: pd.DataFrame,
    config: dict[str, Any],
) -> Annotated[ModelBundle, "model_bundle"]:
    return _fit(train, valid, features, config, None, None)


# Two steps, not one with optional inputs: ZenML validates an unconnected `SentimentModel = None`
# input against its type and fails the run, and `SentimentModel | None` is loaded through the
# artifact's recorded source path ("src.movie_roulette..."), a second copy of the class that the
# materializer rejects.
@step(output_materializers=ModelBundleMaterializer)
def train_hybrid_with_sentiment(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    features: pd.DataFrame,
    config: dict[str, Any],
    scored_reviews: pd.DataFrame,
    sentiment_model: SentimentModel,
) -> Annotated[ModelBundle, "model_bundle"]:
    return _fit(train, valid, features, config, scored_reviews, sentiment_model)
