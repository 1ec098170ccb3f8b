"""All reviews for this run: the dataset's own (demo: generated) plus the live sources'."""

from typing import Annotated, Any

import pandas as pd
from zenml import log_metadata, step

from movie_roulette.config import config_from_dict
from movie_roulette.data import sources


@step(enable_cache=False)
def load_reviews(
    config: dict[str, Any],
    tmdb_reviews: pd.DataFrame | None = None,
    imdb_reviews: pd.DataFrame | None = None,
) -> Annotated[pd.DataFrame, "reviews"]:
    cfg = config_from_dict(config)
    reviews = sources.combine_reviews(
        sources.load_reviews(cfg.data, seed=cfg.seed),
        tmdb_reviews,
        imdb_reviews,
        sources=(cfg.data.source, "tmdb", "imdb"),
    )
    log_metadata(
        metadata={
            "reviews": len(reviews),
            "movies_with_reviews": int(reviews["movie_id"].nunique()),
            "by_source": {str(k): int(v) for k, v in reviews["source"].value_counts().items()},
        },
        infer_artifact=True,
        artifact_name="reviews",
    )
    return reviews
