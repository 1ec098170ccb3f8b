"""Splitter invariants: no overlap, counts add up, deterministic, test users in train."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from movie_roulette import columns as C
from movie_roulette.config import SplitConfig
from movie_roulette.data import movielens
from movie_roulette.data.split import (
    DROPPED_ATTR,
    per_user_holdout,
    time_holdout,
    train_valid_test,
)


@pytest.fixture(scope="module")
def ratings(shared_data_dir: Path) -> pd.DataFrame:
    return movielens.load_ratings(shared_data_dir / "ml-latest-small")


def pairs(frame: pd.DataFrame) -> set[tuple[int, int]]:
    return set(zip(frame[C.USER_ID], frame[C.MOVIE_ID], strict=True))


def assert_disjoint(*parts: pd.DataFrame) -> None:
    for i, a in enumerate(parts):
        for b in parts[i + 1 :]:
            assert not pairs(a) & pairs(b)


def test_per_user_holdout_invariants(ratings: pd.DataFrame) -> None:
    train, test = per_user_holdout(ratings, 0.2, seed=42)
    assert len(train) + len(test) == len(ratings)
    assert_disjoint(train, test)
    assert set(test[C.USER_ID]) <= set(train[C.USER_ID])
    share = test.groupby(C.USER_ID).size() / ratings.groupby(C.USER_ID).size()
    assert share.dropna().between(0.15, 0.25).all()
    assert list(train.columns) == C.RATINGS_COLUMNS


def test_per_user_holdout_is_deterministic_and_seed_dependent(ratings: pd.DataFrame) -> None:
    _, a = per_user_holdout(ratings, 0.2, seed=1)
    _, b = per_user_holdout(ratings, 0.2, seed=1)
    _, c = per_user_holdout(ratings, 0.2, seed=2)
    pd.testing.assert_frame_equal(a, b)
    assert pairs(a) != pairs(c)


def test_per_user_holdout_ignores_row_order(ratings: pd.DataFrame) -> None:
    shuffled = ratings.sample(frac=1.0, random_state=0)
    assert pairs(per_user_holdout(shuffled, 0.2, 7)[1]) == pairs(
        per_user_holdout(ratings, 0.2, 7)[1]
    )


def test_small_users_stay_in_train() -> None:
    frame = pd.DataFrame(
        {
            C.USER_ID: [1, 1, 1, 2, 2, 2, 2, 2, 2],
            C.MOVIE_ID: [1, 2, 3, 1, 2, 3, 4, 5, 6],
            C.RATING: 4.0,
            C.TIMESTAMP: np.arange(9),
        }
    )
    train, test = per_user_holdout(frame, 0.5, seed=0, min_user_ratings=5)
    assert set(test[C.USER_ID]) == {2} and len(test) == 3
    assert (train[C.USER_ID] == 1).sum() == 3


def test_time_holdout_cuts_by_time_and_drops_cold_rows(ratings: pd.DataFrame) -> None:
    train, test = time_holdout(ratings, 0.2)
    dropped = test.attrs[DROPPED_ATTR]
    assert len(train) + len(test) + dropped == len(ratings)
    assert len(train) + len(test) + dropped >= len(ratings) * 0.8
    assert train[C.TIMESTAMP].max() < test[C.TIMESTAMP].min()
    assert set(test[C.USER_ID]) <= set(train[C.USER_ID])
    assert set(test[C.MOVIE_ID]) <= set(train[C.MOVIE_ID])
    assert_disjoint(train, test)


@pytest.mark.parametrize("strategy", ["per_user", "time"])
def test_train_valid_test_invariants(ratings: pd.DataFrame, strategy: str) -> None:
    cfg = SplitConfig(strategy=strategy, test_fraction=0.2, valid_fraction=0.2)
    train, valid, test = train_valid_test(ratings, cfg, seed=42)
    assert_disjoint(train, valid, test)
    dropped = test.attrs.get(DROPPED_ATTR, 0) + valid.attrs.get(DROPPED_ATTR, 0)
    assert len(train) + len(valid) + len(test) + dropped == len(ratings)
    for part in (valid, test):
        assert len(part) > 0
        assert set(part[C.USER_ID]) <= set(train[C.USER_ID])
    again = train_valid_test(ratings, cfg, seed=42)
    pd.testing.assert_frame_equal(again[2], test)


def test_bad_fraction_and_strategy_raise(ratings: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="test_fraction"):
        per_user_holdout(ratings, 1.0, seed=0)
    with pytest.raises(ValueError, match="strategy"):
        train_valid_test(ratings, SplitConfig(strategy="random"), seed=0)  # type: ignore[arg-type]


def test_per_user_time_split_holds_out_each_users_latest_ratings() -> None:
    from movie_roulette.config import SplitConfig
    from movie_roulette.data.split import train_valid_test

    rng = np.random.default_rng(3)
    rows = [
        (u, m, float(rng.integers(1, 6)), 1_000_000 + 1000 * u + int(t))
        for u in range(1, 21)
        for m, t in zip(range(30), rng.permutation(30), strict=True)
    ]
    ratings = pd.DataFrame(rows, columns=["user_id", "movie_id", "rating", "timestamp"])
    cfg = SplitConfig(strategy="per_user_time", test_fraction=0.2, valid_fraction=0.25)
    train, valid, test = train_valid_test(ratings, cfg, seed=1)
    assert len(train) + len(valid) + len(test) == len(ratings)
    for user, group in test.groupby("user_id"):
        earlier = pd.concat([train, valid])
        assert group["timestamp"].min() > earlier.loc[earlier.user_id == user, "timestamp"].max()
    for user, group in valid.groupby("user_id"):
        assert group["timestamp"].min() > train.loc[train.user_id == user, "timestamp"].max()
