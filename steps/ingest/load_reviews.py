"""All reviews for this run: the dataset's own (demo: generated) plus the live sources'."""

from typing import Annotated

import pandas as pd
from zenml import log_metadata, step

from movie_roulette.config import DataConfig
from movie_roulette.data import sources


@step
def load_reviews(
    data: DataConfig,
    seed: int,
    tmdb_reviews: pd.DataFrame | None = None,
    imdb_reviews: pd.DataFrame | None = None,
) -> Annotated[pd.DataFrame, "reviews"]:
    """Reads no file (demo reviews are generated, MovieLens has none): cached on its inputs."""
    reviews = sources.combine_reviews(
        sources.load_reviews(data, seed=seed),
        tmdb_reviews,
        imdb_reviews,
        sources=(data.source, "tmdb", "imdb"),
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
