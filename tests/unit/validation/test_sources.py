"""GX suites for the TMDB API movies and the review frames."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from movie_roulette import columns as C
from movie_roulette.data.catalogue import enrich_from_tmdb_api, merge_catalogue
from movie_roulette.data.sources import combine_reviews
from movie_roulette.data.tmdb_api import movies_frame, parse_movie
from movie_roulette.validation import validate_catalogue, validate_reviews, validate_tmdb_movies


def fight_club(fixtures: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    parts = {
        name: json.loads((fixtures / "tmdb" / f"movie-{name}.json").read_text())
        for name in ("details", "credits", "keywords", "reviews")
    }
    movie, reviews = parse_movie(550, parts)
    return movies_frame([movie]), pd.DataFrame(reviews)


def failed(report) -> set[tuple[str, str]]:  # noqa: ANN001
    return {(r["expectation"], r["column"]) for r in report.results if not r["success"]}


def test_recorded_tmdb_movie_passes_and_broken_values_fail(api_fixtures_dir: Path) -> None:
    movies, _ = fight_club(api_fixtures_dir)
    assert validate_tmdb_movies(movies).success
    broken = pd.concat([movies, movies], ignore_index=True)
    broken.loc[1, C.VOTE_AVERAGE] = 11.0
    broken.loc[1, C.RUNTIME] = 0
    broken.loc[1, C.RELEASE_DATE] = "15/10/1999"
    broken.loc[1, C.TITLE] = " "
    report = validate_tmdb_movies(broken)
    assert failed(report) >= {
        ("expect_column_values_to_be_unique", C.TMDB_ID),
        ("expect_column_values_to_be_between", C.VOTE_AVERAGE),
        ("expect_column_values_to_be_between", C.RUNTIME),
        ("expect_column_values_to_match_regex", C.RELEASE_DATE),
        ("expect_column_values_to_match_regex", C.TITLE),
    }
    assert "vote_average" in report.to_text()


def test_reviews_suite_catches_empty_text_ratings_off_scale_and_repeated_ids() -> None:
    reviews = pd.DataFrame(
        {
            C.REVIEW_ID: ["r1", "r1", "r3"],
            C.MOVIE_ID: [1, 2, 3],
            C.USER_ID: pd.array([pd.NA, pd.NA, 4], dtype="Int64"),
            C.RATING: [4.0, 9.0, np.nan],
            C.REVIEW_TEXT: ["good", "  ", "fine"],
            C.REVIEW_DATE: ["2013-08-24", "", "Aug 24, 2013"],
        }
    )
    report = validate_reviews(reviews)
    assert failed(report) >= {
        ("expect_column_values_to_be_unique", C.REVIEW_ID),
        ("expect_column_values_to_be_between", C.RATING),
        ("expect_column_values_to_match_regex", C.REVIEW_TEXT),
        ("expect_column_values_to_match_regex", C.REVIEW_DATE),
    }
    assert validate_reviews(reviews.iloc[[0]]).success
    assert validate_reviews(reviews.iloc[0:0]).success  # no reviews is not an error


def test_enrichment_fills_details_and_blank_fields_only(api_fixtures_dir: Path) -> None:
    movies, _ = fight_club(api_fixtures_dir)
    movies.insert(0, C.MOVIE_ID, [2959])
    base = pd.DataFrame(
        {
            C.MOVIE_ID: [2959, 1],
            C.TITLE: ["Fight Club (1999)", "Toy Story"],
            C.GENRES: ["Action|Crime", "Animation"],
            C.DIRECTOR: ["", "John Lasseter"],
            C.TMDB_ID: pd.array([550, 862], dtype="Int64"),
            C.IMDB_ID: pd.array([pd.NA, "tt0114709"], dtype="string"),
            C.RUNTIME: pd.array([151, 81], dtype="Int64"),  # the IMDb CSV's 151 loses to the API
        }
    )
    catalogue = merge_catalogue({"movies": base})
    enriched = enrich_from_tmdb_api(catalogue, movies).set_index(C.MOVIE_ID)
    fc = enriched.loc[2959]
    assert fc[C.RUNTIME] == 139 and fc[C.VOTE_COUNT] == 27917
    assert fc[C.POSTER_PATH].startswith("/") and fc[C.RELEASE_DATE] == "1999-10-15"
    assert fc[C.DIRECTOR] == "David Fincher"  # was blank
    assert fc[C.GENRES] == "Action|Crime"  # was not blank: kept
    assert fc[C.IMDB_ID] == "tt0137523"
    toy = enriched.loc[1]
    assert toy[C.RUNTIME] == 81 and toy[C.POSTER_PATH] == ""
    assert validate_catalogue(enriched.reset_index()).success


def test_combine_reviews_tags_sources_and_drops_blank_and_repeated(api_fixtures_dir: Path) -> None:
    _, tmdb = fight_club(api_fixtures_dir)
    tmdb[C.MOVIE_ID] = 2959
    demo = pd.DataFrame({C.REVIEW_ID: ["d1", "d2"], C.MOVIE_ID: [1, 1], C.REVIEW_TEXT: ["ok", " "]})
    out = combine_reviews(demo, tmdb, pd.concat([tmdb.head(2)]), sources=("demo", "tmdb", "x"))
    assert len(out) == 1 + 9
    assert out[C.REVIEW_SOURCE].tolist().count("tmdb") == 9
    assert list(out.columns) == C.REVIEW_COLUMNS
    assert validate_reviews(out).success
