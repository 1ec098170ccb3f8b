"""The Spark split holds out exactly the rows of the local split (data.split) for the seed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movie_roulette.config import SplitConfig
from movie_roulette.data import split as local
from movie_roulette.spark import prep
from movie_roulette.spark import split as spark_split

pytestmark = pytest.mark.spark


def _ratings(seed: int = 3) -> pd.DataFrame:
    """Users with 1..40 ratings (some under min_user_ratings), ids not contiguous, rows shuffled,
    timestamps with ties."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(1, 61):
        n = int(rng.integers(1, 41))
        movies = rng.choice(np.arange(1, 300) * 7, size=n, replace=False)
        for m in movies:
            rows.append(
                (user * 13, int(m), float(rng.integers(1, 11)) / 2, int(rng.integers(0, 50)))
            )
    frame = pd.DataFrame(rows, columns=["user_id", "movie_id", "rating", "timestamp"])
    frame["timestamp"] += 1_500_000_000
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    cols = ["user_id", "movie_id", "rating", "timestamp"]
    return frame[cols].sort_values(["user_id", "movie_id"]).reset_index(drop=True)


def test_keys_at_is_the_seeded_stream_at_those_positions() -> None:
    full = np.random.default_rng(42).random(5000)
    positions = np.array([0, 1, 2, 17, 18, 4000, 4999])
    np.testing.assert_array_equal(spark_split.keys_at(42, positions), full[positions])


@pytest.mark.parametrize(("strategy", "seed"), [("per_user", 42), ("per_user_time", 0)])
def test_spark_split_equals_the_local_split(spark, strategy: str, seed: int) -> None:
    ratings = _ratings()
    cfg = SplitConfig(strategy=strategy, test_fraction=0.25, valid_fraction=0.2)
    expected = local.train_valid_test(ratings, cfg, seed=seed)
    got = spark_split.train_valid_test(prep.from_pandas(spark, ratings), cfg, seed)
    for want, have in zip(expected, got, strict=True):
        pd.testing.assert_frame_equal(prep.to_pandas(have), _sorted(want))
    # a different seed gives a different split (the test could fail)
    if strategy == "per_user":
        other = local.train_valid_test(ratings, cfg, seed=seed + 100)[2]
        assert not _sorted(other).equals(_sorted(expected[2]))


@pytest.mark.parametrize("by_part_first", [True, False])
def test_one_labelled_collection_gives_the_local_split(spark, by_part_first: bool) -> None:
    """What the pipeline collects (`split_labels`, one frame, sliced on the driver) equals the
    local split, each split sorted by user then movie, and the ratings frame is every row.
    Collected by split first (as the pipeline does), every split is a view of the ratings'
    columns: the driver holds the rows once."""
    ratings = _ratings(seed=5)
    cfg = SplitConfig(test_fraction=0.2, valid_fraction=0.25)
    expected = local.train_valid_test(ratings, cfg, seed=11)
    labelled = spark_split.split_labels(prep.from_pandas(spark, ratings), cfg, 11)
    first = spark_split.PART if by_part_first else None
    frame = prep.to_pandas(labelled, extra=(spark_split.PART,), first=first)
    assert frame[spark_split.PART].isin([0, 1, 2]).all()
    every, parts = prep.split_frames(
        frame, spark_split.PART, (spark_split.TRAIN, spark_split.VALID, spark_split.TEST)
    )
    pd.testing.assert_frame_equal(_sorted(every), _sorted(ratings))
    if not by_part_first:
        pd.testing.assert_frame_equal(every, _sorted(ratings))
    for want, have in zip(expected, parts, strict=True):
        pd.testing.assert_frame_equal(have, _sorted(want))
        for column in have.columns:
            shared = np.shares_memory(have[column].to_numpy(), every[column].to_numpy())
            assert shared is by_part_first, column


def test_small_users_stay_in_train(spark) -> None:
    ratings = _ratings()
    df = prep.from_pandas(spark, ratings)
    labelled = spark_split.label_holdout(df, 0.5, seed=1, min_user_ratings=30)
    counts = ratings.groupby("user_id").size()
    held = labelled.where(labelled["_holdout"]).drop("_holdout")
    held_users = set(prep.to_pandas(held)["user_id"])
    assert held_users and held_users <= set(counts[counts >= 30].index)
