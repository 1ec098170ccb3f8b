"""Continuous training split: test = a per-user share of the new ratings only (fresh data)."""

from typing import Annotated, Any

import pandas as pd
from zenml import log_metadata, step

from materializers.frame_materializer import FrameMaterializer
from movie_roulette.config import SplitConfig
from movie_roulette.monitoring.retraining import fresh_split


@step(output_materializers={n: FrameMaterializer for n in ("train", "valid", "test")})
def split_fresh_ratings(
    history: pd.DataFrame,
    new_interactions: pd.DataFrame,
    split: SplitConfig,
    fresh_test_fraction: float,
    seed: int,
    validation_passed: bool,
) -> tuple[
    Annotated[pd.DataFrame, "train"],
    Annotated[pd.DataFrame, "valid"],
    Annotated[pd.DataFrame, "test"],
    Annotated[dict[str, Any], "split_info"],
]:
    train, valid, test, how = fresh_split(
        history, new_interactions, split, fresh_test_fraction, seed
    )
    info = {"how": how, "train_rows": len(train), "valid_rows": len(valid), "test_rows": len(test)}
    log_metadata(metadata=info)
    return train, valid, test, info
