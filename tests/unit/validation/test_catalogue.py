from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movie_roulette.columns import CATALOGUE_COLUMNS
from movie_roulette.data.catalogue import join_coverage
from movie_roulette.validation import validate_catalogue, validate_join_coverage


@pytest.fixture
def catalogue() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "movie_id": np.array([1, 2, 3, 4], dtype="int64"),
            "title": ["Toy Story", "Jumanji", "Heat", "Sabrina"],
            "year": pd.array([1995, None, 1995, 1995], dtype="Int64"),
            "genres": ["Animation|Comedy", "", "Action|Crime", "Comedy"],
            "director": ["John Lasseter", "", "Michael Mann", ""],
            "cast": ["Tom Hanks|Tim Allen", "", "Al Pacino", ""],
            "keywords": ["toy", "", "", ""],
            "overview": ["Toys come alive.", "", "", ""],
            "popularity": [10.0, 0.0, 5.0, 1.0],
            "imdb_id": pd.array(["tt0114709", None, "tt0113277", "tt0114319"], dtype="string"),
            "tmdb_id": pd.array([862, None, 949, 11860], dtype="Int64"),
        }
    )[CATALOGUE_COLUMNS]


@pytest.fixture
def ratings() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": [1, 1, 2, 2],
            "movie_id": [1, 3, 1, 2],
            "rating": [4.0, 3.0, 5.0, 2.0],
            "timestamp": [964982703] * 4,
        }
    )


def failed_names(report) -> set[tuple[str, str | None]]:
    return {(r["expectation"], r["column"]) for r in report.failures}


def test_valid_catalogue_passes(catalogue: pd.DataFrame) -> None:
    report = validate_catalogue(catalogue)
    assert report.success, report.to_text()


def test_duplicate_movie_id_fails(catalogue: pd.DataFrame) -> None:
    catalogue.loc[1, "movie_id"] = 1
    assert failed_names(validate_catalogue(catalogue)) == {
        ("expect_column_values_to_be_unique", "movie_id")
    }


def test_blank_title_fails(catalogue: pd.DataFrame) -> None:
    catalogue.loc[2, "title"] = "   "
    assert failed_names(validate_catalogue(catalogue)) == {
        ("expect_column_values_to_match_regex", "title")
    }


def test_implausible_year_and_negative_popularity_fail(catalogue: pd.DataFrame) -> None:
    catalogue["year"] = pd.array([1800, None, 1995, 3000], dtype="Int64")
    catalogue.loc[0, "popularity"] = -1.0
    report = validate_catalogue(catalogue)
    assert failed_names(report) == {
        ("expect_column_values_to_be_between", "year"),
        ("expect_column_values_to_be_between", "popularity"),
    }
    assert "1800" in report.to_text() and "3000" in report.to_text()


def test_nan_and_non_string_text_fail(catalogue: pd.DataFrame) -> None:
    catalogue["director"] = catalogue["director"].astype(object)
    catalogue.loc[0, "director"] = np.nan
    catalogue.loc[1, "director"] = 42
    report = validate_catalogue(catalogue)
    assert failed_names(report) == {
        ("expect_column_values_to_not_be_null", "director"),
        ("expect_column_values_to_be_of_type", "director"),
    }


def test_missing_catalogue_column_is_named(catalogue: pd.DataFrame) -> None:
    report = validate_catalogue(catalogue.drop(columns=["overview"]))
    assert failed_names(report) == {("expect_column_to_exist", "overview")}
    assert "expect_column_to_exist on column 'overview'" in report.to_text()


def test_join_coverage_passes(ratings: pd.DataFrame, catalogue: pd.DataFrame) -> None:
    report = validate_join_coverage(ratings, catalogue, min_coverage=0.7)
    assert report.success, report.to_text()
    assert report.statistics["join_coverage"] == pytest.approx(0.75)


def test_low_join_coverage_fails(ratings: pd.DataFrame, catalogue: pd.DataFrame) -> None:
    report = validate_join_coverage(ratings, catalogue, min_coverage=0.8)
    assert failed_names(report) == {
        ("expect_column_sum_to_be_between", "rating_share_with_content")
    }
    assert "observed 0.75" in report.to_text()


def test_coverage_weighs_each_movie_by_its_ratings_and_holds_exactly_at_the_minimum(
    catalogue: pd.DataFrame,
) -> None:
    """The per-movie frame gives the per-rating share (data.catalogue.join_coverage) and a
    coverage equal to the minimum passes even where the shares' float sum falls short."""
    rng = np.random.default_rng(7)
    movies = rng.choice([1, 2, 3, 4], size=3_001, p=[0.1, 0.2, 0.3, 0.4])
    ratings = pd.DataFrame(
        {"user_id": np.arange(len(movies)), "movie_id": movies, "rating": 4.0, "timestamp": 1}
    )
    expected = join_coverage(ratings, catalogue)  # movies 1 and 3 have content
    assert expected == pytest.approx(np.isin(movies, [1, 3]).mean())
    report = validate_join_coverage(ratings, catalogue, min_coverage=expected)
    assert report.success, report.to_text()
    assert report.statistics["join_coverage"] == expected
    assert report.statistics["rows"] == 3_001 and report.statistics["rated_movies"] == 4
    assert not validate_join_coverage(ratings, catalogue, min_coverage=expected + 1e-6).success


def test_unknown_movies_are_counted(ratings: pd.DataFrame, catalogue: pd.DataFrame) -> None:
    extra = pd.DataFrame(
        {"user_id": [3, 4], "movie_id": [999, 999], "rating": [4.0, 4.0], "timestamp": [1] * 2}
    )
    ratings = pd.concat([ratings, extra], ignore_index=True)
    report = validate_join_coverage(ratings, catalogue, min_coverage=0.0)
    assert failed_names(report) == {("expect_column_values_to_be_in_set", "movie_id")}
    assert report.statistics["unknown_movie_ids"] == 1
    assert report.statistics["ratings_with_unknown_movie"] == 2
    assert "e.g. [999]" in report.to_text()


def test_join_coverage_missing_column_is_named(
    ratings: pd.DataFrame, catalogue: pd.DataFrame
) -> None:
    report = validate_join_coverage(ratings, catalogue.drop(columns=["director"]), 0.5)
    assert failed_names(report) == {("expect_column_to_exist", "director")}


def test_min_coverage_is_checked(ratings: pd.DataFrame, catalogue: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="min_coverage"):
        validate_join_coverage(ratings, catalogue, min_coverage=1.5)
