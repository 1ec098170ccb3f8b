"""Class lookup for plain-format state: meta['class'] -> recommender class."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from movie_roulette.models.base import Recommender
from movie_roulette.models.collaborative import SVDRecommender
from movie_roulette.models.content import ContentRecommender
from movie_roulette.models.implicit import EASERecommender, ItemKNNRecommender
from movie_roulette.models.popularity import PopularityRecommender
from movie_roulette.models.review_sentiment import ReviewSentimentRecommender
from movie_roulette.models.scalable import ALSRecommender, SparseItemKNNRecommender

MODEL_CLASSES: dict[str, type[Recommender]] = {
    cls.__name__: cls
    for cls in (
        PopularityRecommender,
        SVDRecommender,
        ContentRecommender,
        EASERecommender,
        ItemKNNRecommender,
        ReviewSentimentRecommender,
        ALSRecommender,
        SparseItemKNNRecommender,
    )
}


def model_from_state(meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> Recommender:
    name = meta.get("class")
    if name == "HybridRecommender":
        from movie_roulette.models.hybrid import HybridRecommender

        return HybridRecommender.from_state(meta, arrays)
    if name not in MODEL_CLASSES:
        raise ValueError(
            f"state class {name!r} is unknown; known classes are {sorted(MODEL_CLASSES)} "
            "and HybridRecommender. Was the bundle written by a newer version?"
        )
    return MODEL_CLASSES[name].from_state(meta, arrays)
