"""Load the interactions (ratings) for the configured source."""

from typing import Annotated, Any

import pandas as pd
from zenml import log_metadata, step

from movie_roulette.config import config_from_dict
from movie_roulette.data import sources
from movie_roulette.fingerprint import frame_checksum


@step(enable_cache=False)
def load_ratings(config: dict[str, Any]) -> Annotated[pd.DataFrame, "ratings"]:
    cfg = config_from_dict(config)
    ratings = sources.load_ratings(cfg.data, seed=cfg.seed)
    log_metadata(
        metadata={
            "rows": len(ratings),
            "users": int(ratings["user_id"].nunique()),
            "movies": int(ratings["movie_id"].nunique()),
            "sha256": frame_checksum(ratings),
        },
        infer_artifact=True,
        artifact_name="ratings",
    )
    return ratings
