"""Load the interactions (ratings) for the configured source."""

from typing import Annotated

import pandas as pd
from zenml import log_metadata, step

from materializers.frame_materializer import FrameMaterializer
from movie_roulette.config import DataConfig
from movie_roulette.data import sources
from movie_roulette.fingerprint import frame_checksum


@step(output_materializers=FrameMaterializer)
def load_ratings(
    data: DataConfig, seed: int, data_fingerprint: str
) -> Annotated[pd.DataFrame, "ratings"]:
    """Cached: `data_fingerprint` (the files' checksum) is an input, so new files rerun it."""
    ratings = sources.load_ratings(data, seed=seed)
    log_metadata(
        metadata={
            "rows": len(ratings),
            "users": int(ratings["user_id"].nunique()),
            "movies": int(ratings["movie_id"].nunique()),
            "sha256": frame_checksum(ratings),
            "data_fingerprint": data_fingerprint,
        },
        infer_artifact=True,
        artifact_name="ratings",
    )
    return ratings
