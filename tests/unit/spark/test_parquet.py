"""Ratings written by Spark as Parquet (`spark.parquet`): what the prepare step's artifacts hold,
read back by pandas steps and by Spark without passing through the driver's memory twice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from movie_roulette.fingerprint import frame_checksum
from movie_roulette.spark import prep
from movie_roulette.spark.parquet import (
    CacheLease,
    RatingsFileError,
    RatingsParquet,
    SparkRatings,
    read_facts,
    read_frame,
    write_ratings,
)

pytestmark = pytest.mark.spark


def _ratings(n_users: int = 40, n_movies: int = 30, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pairs = rng.random((n_users, n_movies)) < 0.4
    users, movies = np.nonzero(pairs)
    frame = pd.DataFrame(
        {
            "user_id": (users * 7 + 3).astype("int64"),  # ids that are not positions
            "movie_id": (movies * 11 + 5).astype("int64"),
            "rating": rng.integers(1, 11, len(users)) / 2.0,
            "timestamp": rng.integers(10**9, 2 * 10**9, len(users)).astype("int64"),
        }
    )
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)  # shuffled


@pytest.fixture
def several_files(spark):
    """The sort writes one file per shuffle partition: three, none coalesced away."""
    keys = ("spark.sql.shuffle.partitions", "spark.sql.adaptive.coalescePartitions.enabled")
    before = [spark.conf.get(k) for k in keys]
    spark.conf.set(keys[0], "3")
    spark.conf.set(keys[1], "false")
    yield
    for key, value in zip(keys, before, strict=True):
        spark.conf.set(key, value)


def _write(spark, frame: pd.DataFrame, path, lease=None) -> RatingsParquet:
    write_ratings(SparkRatings(prep.from_pandas(spark, frame), len(frame), lease), str(path))
    return RatingsParquet.at(str(path))


def test_written_ratings_read_back_as_the_sorted_frame_with_local_dtypes(
    spark, tmp_path, several_files
) -> None:
    frame = _ratings()
    parquet = _write(spark, frame, tmp_path / "r.parquet")
    assert len(parquet.files) >= 2
    got = read_frame(parquet)
    want = frame.sort_values(["user_id", "movie_id"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want)  # values, (user, movie) order and int64/float64
    # Spark reads the same rows where they are
    back = prep.to_pandas(parquet.read(spark))
    pd.testing.assert_frame_equal(back, want)


def test_facts_stream_the_files_and_match_the_frame_checksum(
    spark, tmp_path, monkeypatch, several_files
) -> None:
    import movie_roulette.spark.parquet as parquet_module

    frame = _ratings(seed=1)
    parquet = _write(spark, frame, tmp_path / "r.parquet")
    assert len(parquet.files) >= 2
    # batches smaller than a file and not aligned with them: the digest is the frame's
    original = RatingsParquet.batches
    monkeypatch.setattr(
        parquet_module.RatingsParquet,
        "batches",
        lambda self, columns=parquet_module.COLUMNS, batch_size=0: original(self, columns, 37),
    )
    facts = read_facts(parquet)
    whole = read_frame(parquet)
    assert facts.sha256 == frame_checksum(whole)
    assert (facts.rows, facts.users, facts.movies) == (
        len(frame),
        frame["user_id"].nunique(),
        frame["movie_id"].nunique(),
    )


def test_an_empty_part_is_written_and_read_as_an_empty_frame(spark, tmp_path) -> None:
    empty = _ratings().iloc[:0]
    parquet = _write(spark, empty, tmp_path / "empty.parquet")
    got = read_frame(parquet)
    assert len(got) == 0 and list(got.dtypes.astype(str)) == ["int64", "int64", "float64", "int64"]
    assert read_facts(parquet).rows == 0


def test_rows_out_of_order_are_refused_with_the_fix(tmp_path) -> None:
    folder = tmp_path / "bad.parquet"
    folder.mkdir()
    frame = pd.DataFrame(
        {"user_id": [2, 1], "movie_id": [1, 1], "rating": [4.0, 3.0], "timestamp": [1, 2]}
    )
    frame.to_parquet(folder / "part-00000.parquet")
    parquet = RatingsParquet.at(str(folder))
    for read in (read_frame, read_facts):
        with pytest.raises(RatingsFileError, match="out of \\(user, movie\\) order.*rerun"):
            read(parquet)
    with pytest.raises(RatingsFileError, match="no part-\\*.parquet"):
        RatingsParquet.at(str(tmp_path))


def test_the_cache_is_freed_when_the_last_part_is_written(spark, tmp_path) -> None:
    freed: list[int] = []
    lease = CacheLease(lambda: freed.append(1), holders=2)
    frame = _ratings()
    _write(spark, frame, tmp_path / "a.parquet", lease)
    assert freed == []
    _write(spark, frame, tmp_path / "b.parquet", lease)
    assert freed == [1]
    lease.release()  # a stray release frees nothing twice
    assert freed == [1]


def test_the_step_materializer_writes_on_spark_and_loads_as_the_input_asks(spark, tmp_path) -> None:
    """`SparkRatingsMaterializer` (the prepare step's outputs): Spark writes, the artifact's
    metadata carries the facts `register_model` reads, and a step's input gets a pandas frame
    or the Parquet files, as its annotation asks."""
    import json

    from materializers.local_files import LocalFiles
    from materializers.spark_ratings_materializer import SparkRatingsMaterializer
    from movie_roulette.evaluation.seen import SeenRatings
    from movie_roulette.ratings_source import RatingFiles, RatingsSource

    frame = _ratings(seed=2)
    uri = str(tmp_path / "artifact")
    materializer = SparkRatingsMaterializer(uri, artifact_store=LocalFiles())
    data = SparkRatings(prep.from_pandas(spark, frame), len(frame))
    materializer.save(data)
    visuals = materializer.save_visualizations(data)
    metadata = materializer.extract_metadata(data)
    json.dumps(metadata)  # (ZenML stores it as JSON)
    want = frame.sort_values(["user_id", "movie_id"]).reset_index(drop=True)
    assert metadata["rows"] == len(frame) and metadata["users"] == frame["user_id"].nunique()
    assert metadata["sha256"] == frame_checksum(want)
    assert len(pd.read_csv(next(iter(visuals)))) == 10
    pd.testing.assert_frame_equal(materializer.load(pd.DataFrame), want)
    files = materializer.load(RatingsParquet)
    assert isinstance(files, RatingsParquet)
    pd.testing.assert_frame_equal(files.to_pandas(), want)
    # a judging step's input (`RatingsSource`): the same files, read a batch at a time
    source = materializer.load(RatingsSource)
    assert isinstance(source, RatingFiles) and source.files == files.files
    assert len(source) == len(frame) and source.columns == tuple(want.columns)
    pd.testing.assert_frame_equal(source.frame(), want)
    assert SeenRatings.of(source).checksum() == metadata["sha256"]
    # a step that counted other rows than Spark wrote fails instead of recording them
    other = SparkRatingsMaterializer(str(tmp_path / "other"), artifact_store=LocalFiles())
    with pytest.raises(RuntimeError, match="wrote .* rows, the step counted"):
        other.save(SparkRatings(prep.from_pandas(spark, frame), len(frame) + 1))


def test_spark_names_local_paths_and_bucket_uris_as_hadoop_does(tmp_path) -> None:
    from movie_roulette.spark.parquet import spark_path

    assert spark_path(str(tmp_path / "r")) == f"file://{tmp_path}/r"
    assert spark_path("relative/r") == f"file://{Path.cwd()}/relative/r"
    assert spark_path("s3://bucket/zenml/r") == "s3a://bucket/zenml/r"
    assert spark_path("gs://bucket/r") == "gs://bucket/r"
