"""Deterministic, vectorised train/valid/test splits of a ratings frame."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from movie_roulette import columns as C
from movie_roulette.config import SplitConfig

logger = logging.getLogger(__name__)
DROPPED_ATTR = "n_dropped_cold_start"  # test.attrs key set by time_holdout


def _check_fraction(name: str, value: float) -> None:
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value}.")


def per_user_holdout(
    ratings: pd.DataFrame,
    test_fraction: float,
    seed: int,
    min_user_ratings: int = 5,
    *,
    latest: bool = False,
    user_col: str = C.USER_ID,
    item_col: str = C.MOVIE_ID,
    time_col: str = C.TIMESTAMP,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out a random `test_fraction` of each user's ratings (rounded, at least one).

    With `latest=True` the held-out ratings are each user's most recent ones instead of a
    random draw (a per-user temporal split; ties broken by movie id).

    Users with fewer than `min_user_ratings` ratings stay entirely in train, and every user
    keeps at least one training rating. The result depends only on the rows and the seed,
    not on their order. Both frames keep the input's row order.
    """
    _check_fraction("test_fraction", test_fraction)
    if len(ratings) == 0 or test_fraction == 0.0:
        return ratings.reset_index(drop=True), ratings.iloc[:0].reset_index(drop=True)
    order = np.lexsort((ratings[item_col].to_numpy(), ratings[user_col].to_numpy()))
    users = ratings[user_col].to_numpy()[order]
    if latest:
        keys = -ratings[time_col].to_numpy()[order].astype(np.float64)
    else:
        keys = np.random.default_rng(seed).random(len(order))
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    sizes = np.diff(np.r_[starts, len(users)])
    n_test = np.clip(np.rint(sizes * test_fraction), 1, sizes - 1).astype(int)
    n_test[sizes < max(min_user_ratings, 2)] = 0
    group = np.repeat(np.arange(len(starts)), sizes)
    by_key = np.lexsort((keys, group))  # within each user, ascending random key
    rank = np.empty(len(order), dtype=int)
    rank[by_key] = np.arange(len(order)) - np.repeat(starts, sizes)
    is_test_sorted = rank < n_test[group]
    is_test = np.empty(len(order), dtype=bool)
    is_test[order] = is_test_sorted
    return (
        ratings[~is_test].reset_index(drop=True),
        ratings[is_test].reset_index(drop=True),
    )


def _drop_cold(
    train: pd.DataFrame, test: pd.DataFrame, user_col: str, item_col: str
) -> tuple[pd.DataFrame, int]:
    known = test[user_col].isin(train[user_col].unique()) & test[item_col].isin(
        train[item_col].unique()
    )
    return test[known].reset_index(drop=True), int((~known).sum())


def time_holdout(
    ratings: pd.DataFrame,
    test_fraction: float,
    *,
    user_col: str = C.USER_ID,
    item_col: str = C.MOVIE_ID,
    time_col: str = C.TIMESTAMP,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Global time cut-off: the latest `test_fraction` of ratings form the test set.

    Ratings that share the cut-off timestamp all go to test. Test rows whose user or movie
    has no training rating are dropped; their number is in `test.attrs["n_dropped_cold_start"]`
    (so len(train) + len(test) + dropped == len(ratings)).
    """
    _check_fraction("test_fraction", test_fraction)
    n_test = int(np.ceil(len(ratings) * test_fraction))
    if n_test == 0:
        test = ratings.iloc[:0].reset_index(drop=True)
        test.attrs[DROPPED_ATTR] = 0
        return ratings.reset_index(drop=True), test
    times = ratings[time_col].to_numpy()
    cutoff = np.sort(times, kind="stable")[len(times) - n_test]
    is_test = times >= cutoff
    train = ratings[~is_test].reset_index(drop=True)
    test, dropped = _drop_cold(train, ratings[is_test], user_col, item_col)
    test.attrs[DROPPED_ATTR] = dropped
    if dropped:
        logger.info("time_holdout dropped %d test ratings of users/movies unseen in train", dropped)
    return train, test


def train_valid_test(
    ratings: pd.DataFrame, cfg: SplitConfig, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Split into train, valid and test by `cfg.strategy`.

    "per_user": random per-user holdout; "per_user_time": each user's latest ratings;
    "time": one global time cut-off (new users' ratings after the cut are dropped).

    Test comes off first (`cfg.test_fraction`), then valid is `cfg.valid_fraction` of what
    remains. Every valid and test user and movie (time strategy) has training ratings.
    """
    if cfg.strategy == "per_user":
        rest, test = per_user_holdout(ratings, cfg.test_fraction, seed, cfg.min_user_ratings)
        train, valid = per_user_holdout(rest, cfg.valid_fraction, seed + 1, cfg.min_user_ratings)
        return train, valid, test
    if cfg.strategy == "per_user_time":
        rest, test = per_user_holdout(
            ratings, cfg.test_fraction, seed, cfg.min_user_ratings, latest=True
        )
        train, valid = per_user_holdout(
            rest, cfg.valid_fraction, seed + 1, cfg.min_user_ratings, latest=True
        )
        return train, valid, test
    if cfg.strategy == "time":
        rest, test = time_holdout(ratings, cfg.test_fraction)
        train, valid = time_holdout(rest, cfg.valid_fraction)
        dropped = test.attrs.get(DROPPED_ATTR, 0)
        test, more = _drop_cold(train, test, C.USER_ID, C.MOVIE_ID)
        test.attrs[DROPPED_ATTR] = dropped + more
        return train, valid, test
    raise ValueError(
        f"split.strategy {cfg.strategy!r} is not one of ['per_user', 'per_user_time', 'time']."
    )
