"""Deterministic train / valid / test split (per-user holdout or time-based)."""

from typing import Annotated

import pandas as pd
from zenml import log_metadata, step

from materializers.frame_materializer import FrameMaterializer
from movie_roulette.config import SplitConfig
from movie_roulette.data.split import train_valid_test


@step(output_materializers=FrameMaterializer)
def split_ratings(
    ratings: pd.DataFrame, split: SplitConfig, seed: int, validation_passed: bool
) -> tuple[
    Annotated[pd.DataFrame, "train"],
    Annotated[pd.DataFrame, "valid"],
    Annotated[pd.DataFrame, "test"],
]:
    train, valid, test = train_valid_test(ratings, split, seed=seed)
    log_metadata(
        metadata={
            "strategy": split.strategy,
            "train_rows": len(train),
            "valid_rows": len(valid),
            "test_rows": len(test),
        }
    )
    return train, valid, test
