"""The catalogue steps count the ratings a batch at a time: `merge_catalogue`'s popularity,
`join_coverage` and the join-coverage suite from Parquet part files equal those from the frame,
and never load it (`tests.unit.rating_files.NoFrame`; batches of 7 rows across 3 files)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movie_roulette import columns as C
from movie_roulette import ratings_source
from movie_roulette.data.catalogue import join_coverage, merge_catalogue, movie_counts
from movie_roulette.exceptions import DataSourceError
from movie_roulette.ratings_source import FrameRatings, value_counts
from movie_roulette.validation import validate_join_coverage
from tests.unit.data.test_catalogue import tiny_sources  # noqa: F401 (a fixture)
from tests.unit.rating_files import as_files


@pytest.fixture(autouse=True)
def _small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratings_source, "BATCH_ROWS", 7)


def _ratings(n: int = 61, seed: int = 3, unknown: int = 0) -> pd.DataFrame:
    """n ratings of movies 1-4 (skewed) plus `unknown` of movie 999 (not in the catalogue)."""
    rng = np.random.default_rng(seed)
    movies = np.r_[rng.choice([1, 2, 3, 4], size=n, p=[0.1, 0.2, 0.3, 0.4]), [999] * unknown]
    return pd.DataFrame(
        {
            C.USER_ID: np.arange(len(movies), dtype="int64"),
            C.MOVIE_ID: movies.astype("int64"),
            C.RATING: 4.0,
            C.TIMESTAMP: np.arange(len(movies), dtype="int64"),
        }
    )


def test_popularity_counted_from_files_is_the_frames(tmp_path, tiny_sources) -> None:  # noqa: F811
    ratings = _ratings()
    from_files = merge_catalogue(tiny_sources, ratings=as_files(tmp_path, ratings, "ratings"))
    from_frame = merge_catalogue(tiny_sources, ratings=ratings)
    pd.testing.assert_frame_equal(from_files, from_frame)
    expected = ratings[C.MOVIE_ID].value_counts()
    assert from_files[C.POPULARITY].tolist() == [float(expected[m]) for m in (1, 2, 3, 4)]


def test_join_coverage_and_its_suite_from_files_are_the_frames(tmp_path, tiny_sources) -> None:  # noqa: F811
    catalogue = merge_catalogue(tiny_sources)
    catalogue.loc[catalogue[C.MOVIE_ID] == 2, [C.OVERVIEW, C.KEYWORDS, C.DIRECTOR]] = ""
    ratings = _ratings(unknown=5)
    files = as_files(tmp_path, ratings, "ratings")
    share = join_coverage(files, catalogue)
    assert share == join_coverage(ratings, catalogue)
    assert share == pytest.approx(ratings[C.MOVIE_ID].isin([1, 3, 4]).mean())  # 2 has no content
    mine = validate_join_coverage(files, catalogue, min_coverage=0.2)
    theirs = validate_join_coverage(ratings, catalogue, min_coverage=0.2)
    assert mine.statistics["rows"] == len(ratings) == theirs.statistics["rows"]
    for key in ("rated_movies", "unknown_movie_ids", "ratings_with_unknown_movie", "join_coverage"):
        assert mine.statistics[key] == theirs.statistics[key], key
    assert mine.statistics["ratings_with_unknown_movie"] == 5
    assert [r["success"] for r in mine.results] == [r["success"] for r in theirs.results]
    assert not mine.success  # movie 999 is rated but not in the catalogue


def test_counts_are_the_concatenations_value_counts_with_missing_ids(tmp_path) -> None:
    ratings = _ratings(n=40).astype({C.MOVIE_ID: "float64"})
    ratings.loc[[3, 17, 30], C.MOVIE_ID] = np.nan
    files = as_files(tmp_path, ratings, "ratings")
    expected = ratings[C.MOVIE_ID].value_counts(dropna=False)
    counted = movie_counts(files, dropna=False)
    assert int(counted.sum()) == 40 and len(counted) == len(expected) == 5
    assert int(counted[counted.index.isna()].iloc[0]) == 3
    for movie, n in expected.dropna().items():
        assert counted[movie] == n, movie
    pd.testing.assert_series_equal(
        movie_counts(files), ratings[C.MOVIE_ID].value_counts(), check_names=False
    )
    empty = FrameRatings(ratings.iloc[:0])
    assert value_counts([empty, FrameRatings(ratings[[C.USER_ID]])], C.MOVIE_ID).empty


def test_ratings_without_movie_ids_are_refused_by_name(tmp_path) -> None:
    files = as_files(tmp_path, _ratings()[[C.USER_ID, C.RATING]], "ratings")
    with pytest.raises(DataSourceError, match="no 'movie_id' column"):
        movie_counts(files)
