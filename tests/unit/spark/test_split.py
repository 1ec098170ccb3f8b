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


@pytest.mark.parametrize(
    ("strategy", "seed"), [("per_user", 42), ("per_user_time", 0), ("time", 0)]
)
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


@pytest.mark.parametrize(
    ("by_part_first", "strategy"), [(True, "per_user"), (False, "per_user"), (True, "time")]
)
def test_one_labelled_collection_gives_the_local_split(
    spark, by_part_first: bool, strategy: str
) -> None:
    """What the pipeline collects (`split_labels`, one frame, sliced on the driver) equals the
    local split, each split sorted by user then movie, and the ratings frame is every row (with
    the time split too, whose cold valid and test rows are in no split). Collected by split
    first (as the pipeline does), every split is a view of the ratings' columns: the driver
    holds the rows once."""
    ratings = _ratings(seed=5)
    if strategy == "time":  # users rating only after the cut-off: dropped from test
        late = ratings.iloc[:4].assign(user_id=[9001, 9001, 9002, 9003], timestamp=1_600_000_000)
        ratings = pd.concat([ratings, late], ignore_index=True)
    cfg = SplitConfig(strategy=strategy, test_fraction=0.2, valid_fraction=0.25)
    expected = local.train_valid_test(ratings, cfg, seed=11)
    labelled = spark_split.split_labels(prep.from_pandas(spark, ratings), cfg, 11)
    first = spark_split.PART if by_part_first else None
    frame = prep.to_pandas(labelled, extra=(spark_split.PART,), first=first)
    labels = frame[spark_split.PART]
    assert labels.isin([0, 1, 2, 3] if strategy == "time" else [0, 1, 2]).all()
    dropped = sum(part.attrs.get(local.DROPPED_ATTR, 0) for part in expected)
    assert (labels == spark_split.DROPPED).sum() == dropped
    assert dropped >= 4 if strategy == "time" else dropped == 0
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


def test_time_cutoff_is_numpy_s_order_statistic(spark, monkeypatch) -> None:
    """The cut-off is `np.sort(times)[index]` at every index tried, ties included, also when the
    approximate quantiles' first bracket misses the rank (then the bracket is widened)."""
    ratings = _ratings(seed=5)
    times = np.sort(ratings["timestamp"].to_numpy())
    df = prep.from_pandas(spark, ratings).cache()
    indices = [0, 1, len(times) // 3, len(times) // 2, len(times) - 2, len(times) - 1]
    for index in indices:
        assert spark_split.time_cutoff(df, index) == times[index]
    with pytest.raises(ValueError, match="outside"):
        spark_split.time_cutoff(df, len(times))
    # a first bracket above the rank (as an approximation that missed would give): widened
    real, calls = type(df).approxQuantile, []

    def missing_first(self, col, probabilities, error):
        calls.append(probabilities)
        if len(calls) == 1:
            return [float(times[-1]), float(times[-1])]
        return real(self, col, probabilities, error)

    monkeypatch.setattr(type(df), "approxQuantile", missing_first)
    index = len(times) // 3
    assert times[index] < times[-1]  # (the first bracket really misses)
    assert spark_split.time_cutoff(df, index) == times[index]
    assert len(calls) >= 2 and calls[1][1] - calls[1][0] > calls[0][1] - calls[0][0]


def test_time_split_drops_cold_rows_like_the_local_split(spark) -> None:
    """Users whose every rating falls after the cut-off are dropped from test (and valid), as
    locally; the data is built so that some are (the test could fail)."""
    ratings = _ratings(seed=7)
    late = pd.DataFrame(
        {
            "user_id": [9001, 9001, 9002],
            "movie_id": [7, 14, 21],
            "rating": [4.0, 3.5, 5.0],
            "timestamp": [1_600_000_000, 1_600_000_001, 1_600_000_002],
        }
    )
    ratings = pd.concat([ratings, late], ignore_index=True)
    cfg = SplitConfig(strategy="time", test_fraction=0.2, valid_fraction=0.25)
    expected = local.train_valid_test(ratings, cfg, seed=0)
    assert expected[2].attrs[local.DROPPED_ATTR] >= 3
    got = spark_split.train_valid_test(prep.from_pandas(spark, ratings), cfg, 0)
    for want, have in zip(expected, got, strict=True):
        pd.testing.assert_frame_equal(prep.to_pandas(have), _sorted(want))
    assert not (prep.to_pandas(got[2])["user_id"] >= 9001).any()


def test_the_prepare_step_splits_by_time_on_spark(spark, tmp_path) -> None:
    """`prepare_ratings` (what the pipeline's prepare step runs) with `split.strategy: time`:
    the three splits are the local ones, and the ratings frame is every cleaned row, the cold
    rows the split drops included (as the local path's ratings)."""
    from movie_roulette.config import config_from_dict
    from movie_roulette.data import sources
    from movie_roulette.spark.parquet import RatingsParquet, read_frame, write_ratings
    from movie_roulette.spark.training import prepare_ratings
    from tests.spark_support import SPARK_TEST_SETTINGS

    cfg = config_from_dict(
        {
            "engine": "spark",
            "spark": SPARK_TEST_SETTINGS,
            "data": {"demo": {"n_movies": 120, "n_users": 90, "mean_ratings_per_user": 30}},
            "split": {"strategy": "time", "test_fraction": 0.2, "valid_fraction": 0.2},
            "sentiment": {"enabled": False},
        }
    )
    ratings = sources.load_ratings(cfg.data, seed=cfg.seed)
    expected = local.train_valid_test(ratings, cfg.split, cfg.seed)

    def cached() -> set[int]:  # (ids of the RDDs Spark holds, other tests' ones included)
        return set(spark.sparkContext._jsc.getPersistentRDDs().keys())

    before = cached()
    prepared = prepare_ratings(cfg)
    assert prepared.validation.success
    assert cached() - before  # the prepared rows are cached for the writes
    # as the step's artifacts: each part written by Spark, read back by pandas
    frames = {}
    for name, part in prepared.parts().items():
        write_ratings(part, str(tmp_path / name))
        frames[name] = read_frame(RatingsParquet.at(str(tmp_path / name)))
        assert len(frames[name]) == part.rows
    pd.testing.assert_frame_equal(frames["ratings"], _sorted(ratings))
    for want, name in zip(expected, ("train", "valid", "test"), strict=True):
        pd.testing.assert_frame_equal(frames[name], _sorted(want))
    assert len(frames["test"]) > 0 and len(frames["valid"]) > 0
    assert not cached() - before  # and freed after the last write
