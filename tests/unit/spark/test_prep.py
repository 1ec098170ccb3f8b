"""Spark ratings prep: read CSV (MovieLens headers) / Parquet, type checks, dedupe, counts."""

from __future__ import annotations

import pandas as pd
import pytest

from movie_roulette.exceptions import DataSourceError
from movie_roulette.spark import prep
from movie_roulette.spark.validation import validate_ratings_spark

pytestmark = pytest.mark.spark

CSV = """userId,movieId,rating,timestamp
1,10,4.0,1500000000
1,10,3.0,1600000000
1,11,x,1500000000
2,10,5.0,1500000100
2,12,2.5,1500000200
"""


def test_csv_is_typed_deduplicated_and_counted(spark, tmp_path) -> None:
    path = tmp_path / "ratings.csv"
    path.write_text(CSV)
    clean, stats = prep.clean_ratings(prep.read_ratings(spark, path))
    assert (stats.rows_read, stats.bad_type_rows, stats.duplicate_rows) == (5, 1, 1)
    assert stats.bad_type_examples[0]["rating"] == "x"
    frame = prep.to_pandas(clean)
    # the latest rating of (1, 10) is kept
    assert frame.to_dict("records")[0] == {
        "user_id": 1,
        "movie_id": 10,
        "rating": 3.0,
        "timestamp": 1600000000,
    }
    assert prep.counts(clean) == {"rows": 3, "users": 2, "movies": 2, "mean_rating": 3.5}
    pop = prep.popularity(clean)
    assert pop["movie_id"].tolist() == [10, 12] and pop["count"].tolist() == [2, 1]
    report = validate_ratings_spark(clean, stats)
    failed = [r["expectation"] for r in report.results if not r["success"]]
    assert failed == ["expect_column_values_to_be_parseable_as_their_types"]


def test_parquet_is_read(spark, tmp_path) -> None:
    frame = pd.DataFrame(
        {"user_id": [1, 2], "movie_id": [3, 4], "rating": [4.0, 3.5], "timestamp": [1, 2]}
    )
    frame.to_parquet(tmp_path / "r.parquet")
    clean, stats = prep.clean_ratings(prep.read_ratings(spark, tmp_path / "r.parquet"))
    pd.testing.assert_frame_equal(prep.to_pandas(clean), frame)
    assert stats.bad_type_rows == 0


def test_collected_columns_are_owned_sorted_and_keep_their_dtypes(spark) -> None:
    """`to_pandas` builds each column from Arrow itself: sorted by user then movie, the local
    dtypes, writable arrays (not read-only views of Arrow buffers), and
    an empty selection is an empty frame with the same dtypes."""
    frame = pd.DataFrame(
        {
            "user_id": [2, 1, 2],
            "movie_id": [3, 4, 1],
            "rating": [4.0, 3.5, 1.0],
            "timestamp": [3, 2, 1],
        }
    )
    df = prep.from_pandas(spark, frame)
    got = prep.to_pandas(df)
    want = frame.sort_values(["user_id", "movie_id"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want)
    for column in got.columns:
        assert got[column].to_numpy().flags.writeable, column
    empty = prep.to_pandas(df.where("user_id < 0"))
    assert len(empty) == 0 and empty.dtypes.equals(want.dtypes)


def test_out_of_range_ratings_fail_validation_on_spark(spark) -> None:
    frame = pd.DataFrame(
        {
            "user_id": [1, 1, 2],
            "movie_id": [3, 4, 3],
            "rating": [4.0, 7.0, 3.5],
            "timestamp": [1_500_000_000] * 3,
        }
    )
    clean, stats = prep.clean_ratings(prep.from_pandas(spark, frame))
    report = validate_ratings_spark(clean, stats)
    assert not report.success
    bad = [r for r in report.results if not r["success"]]
    assert [(r["expectation"], r["column"]) for r in bad] == [
        ("expect_column_values_to_be_between", "rating"),
        ("expect_column_values_to_be_in_set", "rating"),
    ]


def test_missing_file_and_columns_are_named(spark, tmp_path) -> None:
    with pytest.raises(DataSourceError, match="does not exist.*spark.ratings_path"):
        prep.read_ratings(spark, tmp_path / "nope.csv")
    (tmp_path / "r.csv").write_text("userId,movieId,rating\n1,2,3.0\n")
    with pytest.raises(DataSourceError, match=r"lack column\(s\) \['timestamp'\]"):
        prep.read_ratings(spark, tmp_path / "r.csv")
