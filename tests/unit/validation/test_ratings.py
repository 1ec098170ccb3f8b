from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from movie_roulette.exceptions import ValidationFailed
from movie_roulette.validation import raise_for_failure, validate_ratings


@pytest.fixture
def ratings() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": np.array([1, 1, 2, 2, 3], dtype="int64"),
            "movie_id": np.array([10, 11, 10, 12, 13], dtype="int64"),
            "rating": [4.0, 3.5, 5.0, 0.5, 2.0],
            "timestamp": np.array(
                [964982703, 964981247, 1_500_000_000, 1_200_000_000, 900_000_000]
            ),
        }
    )


def failed_names(report) -> set[tuple[str, str | None]]:
    return {(r["expectation"], r["column"]) for r in report.failures}


def test_valid_ratings_pass(ratings: pd.DataFrame) -> None:
    report = validate_ratings(ratings)
    assert report.success, report.to_text()
    assert "PASSED" in report.to_text()
    json.dumps(report.to_dict(), allow_nan=False)


@pytest.mark.parametrize("bad_value", [7.0, -1.0])
def test_off_scale_rating_fails(ratings: pd.DataFrame, bad_value: float) -> None:
    ratings.loc[2, "rating"] = bad_value
    report = validate_ratings(ratings)
    assert not report.success
    assert ("expect_column_values_to_be_between", "rating") in failed_names(report)
    text = report.to_text()
    assert "expect_column_values_to_be_between on column 'rating'" in text
    assert str(bad_value) in text


def test_rating_off_the_half_star_grid_fails(ratings: pd.DataFrame) -> None:
    ratings.loc[0, "rating"] = 3.3
    report = validate_ratings(ratings)
    assert failed_names(report) == {("expect_column_values_to_be_in_set", "rating")}
    assert validate_ratings(ratings, rating_step=None).success


def test_duplicate_pairs_fail(ratings: pd.DataFrame) -> None:
    dup = pd.concat([ratings, ratings.iloc[[0]]], ignore_index=True)
    report = validate_ratings(dup)
    assert ("expect_compound_columns_to_be_unique", "user_id, movie_id") in failed_names(report)
    assert "expect_compound_columns_to_be_unique" in report.to_text()


def test_null_ids_fail(ratings: pd.DataFrame) -> None:
    ratings["movie_id"] = ratings["movie_id"].astype("float64")
    ratings.loc[1, "movie_id"] = np.nan
    report = validate_ratings(ratings)
    assert ("expect_column_values_to_not_be_null", "movie_id") in failed_names(report)
    assert "expect_column_values_to_not_be_null on column 'movie_id'" in report.to_text()


def test_implausible_timestamps_fail(ratings: pd.DataFrame) -> None:
    ratings.loc[0, "timestamp"] = 12  # 1970
    ratings.loc[1, "timestamp"] = 964982703000  # milliseconds
    report = validate_ratings(ratings)
    assert failed_names(report) == {("expect_column_values_to_be_between", "timestamp")}
    assert "964982703000" in report.to_text()


def test_unparseable_timestamps_fail(ratings: pd.DataFrame) -> None:
    ratings["timestamp"] = ratings["timestamp"].astype(object)
    ratings.loc[3, "timestamp"] = "last tuesday"
    report = validate_ratings(ratings)
    names = failed_names(report)
    assert ("expect_column_values_to_be_parseable_as_unix_seconds", "timestamp") in names
    assert ("expect_column_values_to_be_in_type_list", "timestamp") in names
    assert "'last tuesday'" in report.to_text()


def test_missing_column_fails_with_its_name(ratings: pd.DataFrame) -> None:
    report = validate_ratings(ratings.drop(columns=["rating"]))
    assert ("expect_column_to_exist", "rating") in failed_names(report)
    with pytest.raises(ValidationFailed, match="expect_column_to_exist on column 'rating'"):
        raise_for_failure(report)


def test_empty_frame_fails(ratings: pd.DataFrame) -> None:
    report = validate_ratings(ratings.iloc[:0])
    assert ("expect_table_row_count_to_be_between", None) in failed_names(report)


def test_raise_for_failure_combines_reports(ratings: pd.DataFrame) -> None:
    good = validate_ratings(ratings)
    raise_for_failure(good)  # no error
    bad = ratings.copy()
    bad.loc[0, "rating"] = 9.0
    with pytest.raises(ValidationFailed) as info:
        raise_for_failure(good, validate_ratings(bad))
    assert "9.0" in str(info.value)
    assert [r["success"] for r in info.value.report["reports"]] == [True, False]
    json.dumps(info.value.report, allow_nan=False)


def test_html_is_escaped(ratings: pd.DataFrame) -> None:
    ratings["timestamp"] = ratings["timestamp"].astype(object)
    ratings.loc[0, "timestamp"] = "<script>x</script>"
    page = validate_ratings(ratings).to_html()
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert page.startswith("<!DOCTYPE html>")


def test_repeated_calls_do_not_clash(ratings: pd.DataFrame) -> None:
    assert all(validate_ratings(ratings).success for _ in range(3))


def test_real_movielens_ratings_pass(shared_data_dir: Path) -> None:
    df = pd.read_csv(shared_data_dir / "ml-latest-small" / "ratings.csv").rename(
        columns={"userId": "user_id", "movieId": "movie_id"}
    )
    report = validate_ratings(df)
    assert report.success, report.to_text()
    assert report.statistics["rows"] == 100_836
    assert report.statistics["users"] == 610
