"""Load the interactions (ratings) for the configured source."""

from typing import Annotated

import pandas as pd
from zenml import step

from materializers.frame_materializer import FrameMaterializer
from movie_roulette.config import DataConfig
from movie_roulette.data import sources
from steps.ratings_artifact import log_on_ratings_artifact, ratings_facts


@step(output_materializers=FrameMaterializer)
def load_ratings(
    data: DataConfig, seed: int, data_fingerprint: str
) -> Annotated[pd.DataFrame, "ratings"]:
    """Cached: `data_fingerprint` (the files' checksum) is an input, so new files rerun it."""
    ratings = sources.load_ratings(data, seed=seed)
    log_on_ratings_artifact({**ratings_facts(ratings), "data_fingerprint": data_fingerprint})
    return ratings
