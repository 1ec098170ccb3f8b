"""Deterministic train / valid / test split (per-user holdout or time-based)."""

from typing import Annotated, Any

import pandas as pd
from zenml import log_metadata, step

from movie_roulette.config import config_from_dict
from movie_roulette.data.split import train_valid_test


@step
def split_ratings(
    ratings: pd.DataFrame, config: dict[str, Any], validation_passed: bool
) -> tuple[
    Annotated[pd.DataFrame, "train"],
    Annotated[pd.DataFrame, "valid"],
    Annotated[pd.DataFrame, "test"],
]:
    cfg = config_from_dict(config)
    train, valid, test = train_valid_test(ratings, cfg.split, seed=cfg.seed)
    log_metadata(
        metadata={
            "strategy": cfg.split.strategy,
            "train_rows": len(train),
            "valid_rows": len(valid),
            "test_rows": len(test),
        }
    )
    return train, valid, test
