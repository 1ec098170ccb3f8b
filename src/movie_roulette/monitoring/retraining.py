"""Data for a continuous-training retrain: history vs new interactions, and a fresh test split.

The production model was trained on the base data plus the first `n` stored batches
(`InteractionStore.batches_for_model`). Everything after that is *new*: it is the "current"
data of the drift check, and a per-user share of it is held out as the fresh test set on which
the candidate and the production model are compared; neither has trained on it.
"""

from __future__ import annotations

import pandas as pd

from movie_roulette import columns as C
from movie_roulette.config import SplitConfig
from movie_roulette.data.split import per_user_holdout, train_valid_test
from movie_roulette.monitoring.store import merge_interactions

MIN_FRESH_TEST_RATINGS = 50  # fewer new ratings than this: fall back to the configured split


def explicit(interactions: pd.DataFrame) -> pd.DataFrame:
    """Only the rated rows, in the ratings contract's columns."""
    rated = interactions[interactions[C.RATING].notna()]
    return rated[C.RATINGS_COLUMNS].reset_index(drop=True)


def fresh_split(
    history: pd.DataFrame,
    new: pd.DataFrame,
    cfg: SplitConfig,
    fresh_test_fraction: float,
    seed: int,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, str]:
    """(train, valid, test, how): test is a per-user holdout of the new ratings only.

    A new rating of a (user, movie) already in history replaces the old one. Every test user
    keeps at least one new rating in train (users with a single new rating keep it in train).
    With fewer than MIN_FRESH_TEST_RATINGS new ratings (e.g. a forced retrain without new
    data) the configured split of all ratings is used and `how` says so.
    """
    new_ratings = explicit(new)
    everything = merge_interactions(history, new_ratings.assign(event="rating"))
    if len(new_ratings) < MIN_FRESH_TEST_RATINGS or fresh_test_fraction == 0.0:
        train, valid, test = train_valid_test(everything, cfg, seed)
        return (
            train,
            valid,
            test,
            (
                f"configured {cfg.strategy} split of all ratings ({len(new_ratings)} new ratings "
                f"are too few for a fresh test set; need {MIN_FRESH_TEST_RATINGS})"
            ),
        )
    new_keys = new_ratings.set_index([C.USER_ID, C.MOVIE_ID]).index
    old = everything.set_index([C.USER_ID, C.MOVIE_ID]).index.isin(new_keys)
    history_part = everything[~old]
    new_part = everything[old]
    new_train, test = per_user_holdout(new_part, fresh_test_fraction, seed, min_user_ratings=2)
    rest = pd.concat([history_part, new_train], ignore_index=True)
    train, valid = per_user_holdout(rest, cfg.valid_fraction, seed + 1, cfg.min_user_ratings)
    return (
        train,
        valid,
        test,
        (
            f"fresh test: {fresh_test_fraction:.0%} of each user's new ratings "
            f"({len(test)} of {len(new_part)} new ratings)"
        ),
    )
