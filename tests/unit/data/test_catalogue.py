"""merge_catalogue and join_coverage on tiny frames and on the real files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from movie_roulette import columns as C
from movie_roulette.config import DataConfig
from movie_roulette.data import sources
from movie_roulette.data.catalogue import join_coverage, merge_catalogue
from movie_roulette.data.genres import merge_genres, normalise_genre
from movie_roulette.exceptions import DataSourceError

CATALOGUE_DTYPES = {
    C.MOVIE_ID: "int64",
    C.TITLE: "object",
    C.YEAR: "Int64",
    C.GENRES: "object",
    C.DIRECTOR: "object",
    C.CAST: "object",
    C.KEYWORDS: "object",
    C.OVERVIEW: "object",
    C.POPULARITY: "float64",
    C.IMDB_ID: "string",
    C.TMDB_ID: "Int64",
    C.RUNTIME: "Int64",
    C.VOTE_AVERAGE: "float64",
    C.VOTE_COUNT: "Int64",
    C.POSTER_PATH: "object",
    C.RELEASE_DATE: "object",
}


def assert_catalogue_contract(catalogue: pd.DataFrame) -> None:
    assert list(catalogue.columns) == [*C.CATALOGUE_COLUMNS, *C.DETAIL_COLUMNS]
    assert {k: str(v) for k, v in catalogue.dtypes.items()} == CATALOGUE_DTYPES
    for column in (C.TITLE, C.GENRES, C.DIRECTOR, C.CAST, C.KEYWORDS, C.OVERVIEW):
        assert catalogue[column].map(type).eq(str).all(), column
    for column in (C.POSTER_PATH, C.RELEASE_DATE):
        assert catalogue[column].map(type).eq(str).all(), column
    assert catalogue[C.MOVIE_ID].is_unique


@pytest.fixture
def tiny_sources() -> dict[str, pd.DataFrame]:
    movies = pd.DataFrame(
        {
            C.MOVIE_ID: [1, 2, 3, 4],
            C.TITLE: ["A", "B", "C", "D"],
            C.YEAR: pd.array([2000, None, 2002, 2003], dtype="Int64"),
            C.GENRES: ["Sci-Fi|Drama", "", "Comedy", "Drama"],
            C.IMDB_ID: pd.array(["tt0000001", "tt0000002", None, "tt0000004"], dtype="string"),
            C.TMDB_ID: pd.array([10, 20, 20, None], dtype="Int64"),
        }
    )
    imdb = pd.DataFrame(
        {
            C.IMDB_ID: pd.array(["tt0000001", "tt0000002"], dtype="string"),
            C.YEAR: pd.array([2000, 2001], dtype="Int64"),
            C.GENRES: ["Science Fiction|Thriller", "Family"],
            C.DIRECTOR: ["Dee Rector", ""],
            C.CAST: ["Ann|Bob", "Cy"],
            C.KEYWORDS: ["space|robot", ""],
        }
    )
    tmdb = pd.DataFrame(
        {
            C.TMDB_ID: pd.array([10, 20], dtype="Int64"),
            C.YEAR: pd.array([2000, 2001], dtype="Int64"),
            C.GENRES: ["Science Fiction|Drama", "Comedy"],
            C.OVERVIEW: ["Robots in space.", "Two movies share me."],
            C.POPULARITY: [5.5, 1.25],
        }
    )
    tags = pd.DataFrame(
        {
            C.USER_ID: [1, 2, 3, 1],
            C.MOVIE_ID: [1, 1, 1, 4],
            "tag": ["Space", "space", "Cult Classic", "slow"],
            C.TIMESTAMP: [1, 2, 3, 4],
        }
    )
    return {"movies": movies, "imdb": imdb, "tmdb": tmdb, "tags": tags}


def test_merge_keeps_every_movie_once_and_the_contract(tiny_sources) -> None:
    catalogue = merge_catalogue(tiny_sources)
    assert_catalogue_contract(catalogue)
    assert catalogue[C.MOVIE_ID].tolist() == [1, 2, 3, 4]
    # movies 2 and 3 share tmdb_id 20: both kept, both get its overview
    assert catalogue[C.OVERVIEW].tolist()[1:3] == ["Two movies share me."] * 2


def test_merge_joins_imdb_tmdb_and_tags(tiny_sources) -> None:
    row = merge_catalogue(tiny_sources).set_index(C.MOVIE_ID).loc[1]
    assert row[C.GENRES] == "Sci-Fi|Drama|Thriller"
    assert row[C.DIRECTOR] == "Dee Rector" and row[C.CAST] == "Ann|Bob"
    assert row[C.KEYWORDS] == "space|robot|cult classic"
    assert row[C.OVERVIEW] == "Robots in space."


def test_merge_fills_year_and_uses_source_popularity_without_ratings(tiny_sources) -> None:
    catalogue = merge_catalogue(tiny_sources).set_index(C.MOVIE_ID)
    assert catalogue.loc[2, C.YEAR] == 2001
    assert catalogue.loc[2, C.GENRES] == "Children|Comedy"
    assert catalogue[C.POPULARITY].tolist() == [5.5, 1.25, 1.25, 0.0]
    assert catalogue.loc[4, C.DIRECTOR] == "" and catalogue.loc[4, C.KEYWORDS] == "slow"


def test_popularity_is_rating_count_when_ratings_given(tiny_sources) -> None:
    ratings = pd.DataFrame({C.USER_ID: [1, 2, 1], C.MOVIE_ID: [1, 1, 3], C.RATING: [4.0] * 3})
    catalogue = merge_catalogue(tiny_sources, ratings)
    assert catalogue[C.POPULARITY].tolist() == [2.0, 0.0, 1.0, 0.0]


def test_merge_without_optional_sources(tiny_sources) -> None:
    catalogue = merge_catalogue({"movies": tiny_sources["movies"]})
    assert_catalogue_contract(catalogue)
    assert (catalogue[C.DIRECTOR] == "").all() and (catalogue[C.OVERVIEW] == "").all()


def test_merge_rejects_duplicate_or_missing_movies(tiny_sources) -> None:
    movies = tiny_sources["movies"]
    with pytest.raises(DataSourceError, match="repeats movie_id"):
        merge_catalogue({"movies": pd.concat([movies, movies.iloc[[0]]])})
    with pytest.raises(DataSourceError, match="'movies' source"):
        merge_catalogue({"imdb": tiny_sources["imdb"]})


def test_join_coverage_counts_ratings_with_content(tiny_sources) -> None:
    catalogue = merge_catalogue({"movies": tiny_sources["movies"], "imdb": tiny_sources["imdb"]})
    ratings = pd.DataFrame({C.USER_ID: [1, 1, 2, 2], C.MOVIE_ID: [1, 2, 3, 99]})
    assert join_coverage(ratings, catalogue) == pytest.approx(0.25)
    assert join_coverage(ratings.iloc[:0], catalogue) == 0.0


@pytest.mark.parametrize(
    ("label", "expected"),
    [("Science Fiction", "Sci-Fi"), ("sci-fi", "Sci-Fi"), ("(no genres listed)", ""),
     ("Family", "Children"), ("  Drama ", "Drama"), ("TV Movie", "TV Movie")],
)  # fmt: skip
def test_normalise_genre(label: str, expected: str) -> None:
    assert normalise_genre(label) == expected


def test_merge_genres_dedupes_in_first_seen_order() -> None:
    assert merge_genres("Drama|Sci-Fi", "Science Fiction|Drama|", "") == "Drama|Sci-Fi"


@pytest.fixture(scope="module")
def real(shared_data_dir: Path) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    cfg = DataConfig(source="movielens", data_dir=str(shared_data_dir), download=False)
    return sources.load_catalogue_sources(cfg, 42), sources.load_ratings(cfg, 42)


def test_real_catalogue_keeps_all_movies_and_fight_club(real) -> None:
    srcs, ratings = real
    catalogue = merge_catalogue(srcs, ratings)
    assert_catalogue_contract(catalogue)
    assert len(catalogue) == 9_742
    by_id = catalogue.set_index(C.MOVIE_ID)
    assert by_id.loc[6003, C.TMDB_ID] == by_id.loc[144606, C.TMDB_ID] == 4912
    fight_club = by_id.loc[2959]
    assert fight_club[C.DIRECTOR] == "David Fincher"
    assert "insomniac" in fight_club[C.OVERVIEW]
    assert fight_club[C.POPULARITY] == (ratings[C.MOVIE_ID] == 2959).sum()
    assert catalogue[C.POPULARITY].sum() == len(ratings)


def test_real_join_coverage_matches_readme(real) -> None:
    srcs, ratings = real
    imdb_only = merge_catalogue({"movies": srcs["movies"], "imdb": srcs["imdb"]})
    tmdb_only = merge_catalogue({"movies": srcs["movies"], "tmdb": srcs["tmdb"]})
    assert join_coverage(ratings, imdb_only) == pytest.approx(70_208 / 100_836, abs=1e-4)
    assert join_coverage(ratings, tmdb_only) == pytest.approx(0.912, abs=1e-3)
    assert join_coverage(ratings, merge_catalogue(srcs)) > 0.93
