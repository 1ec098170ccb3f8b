"""Expectation suites for the live-source frames and the labelled sentiment data.

* `validate_tmdb_movies`: one row per TMDB id with the fields the catalogue takes from the API.
* `validate_reviews`: scraped / fetched / generated reviews (any source), before scoring.
* `validate_labelled_reviews`: labelled sentences the sentiment model trains and is evaluated on.

Required fields present and non-null, types, ranges (runtime, vote average 0-10, star rating
0.5-5), id formats, text not empty. An empty frame is valid (a source may legitimately return
nothing; the failure ceiling of the fetch itself covers "everything failed").
"""

from __future__ import annotations

import pandas as pd

from movie_roulette import columns as C
from movie_roulette.validation.report import ValidationReport
from movie_roulette.validation.runner import Expect, expect, run_suite
from movie_roulette.validation.types import INTEGER_TYPES, NUMERIC_TYPES

DATE_OR_EMPTY = r"^(\d{4}-\d{2}-\d{2})?$"
NOT_BLANK = r"\S"
MAX_RUNTIME = 1000  # minutes; the longest released films run about 14 hours


def _columns(required: list[str]) -> list[Expect]:
    return [expect("ExpectColumnToExist", column=c) for c in required]


def _text(df: pd.DataFrame, column: str, not_blank: bool = False) -> list[Expect]:
    if column not in df.columns:
        return []
    exps = [
        expect("ExpectColumnValuesToNotBeNull", column=column),
        expect("ExpectColumnValuesToBeOfType", column=column, type_="str"),
    ]
    if not_blank:
        exps.append(expect("ExpectColumnValuesToMatchRegex", column=column, regex=NOT_BLANK))
    return exps


def _numeric_between(
    df: pd.DataFrame, column: str, low: float | None, high: float | None, integer: bool = False
) -> list[Expect]:
    if column not in df.columns:
        return []
    exps = [
        expect(
            "ExpectColumnValuesToBeInTypeList",
            column=column,
            type_list=INTEGER_TYPES if integer else NUMERIC_TYPES,
        )
    ]
    if pd.api.types.is_numeric_dtype(df[column]):
        exps.append(
            expect("ExpectColumnValuesToBeBetween", column=column, min_value=low, max_value=high)
        )
    return exps


def _id(df: pd.DataFrame, column: str, unique: bool = True) -> list[Expect]:
    if column not in df.columns:
        return []
    exps = [expect("ExpectColumnValuesToNotBeNull", column=column)]
    if unique:
        exps.append(expect("ExpectColumnValuesToBeUnique", column=column))
    return exps


def validate_tmdb_movies(df: pd.DataFrame) -> ValidationReport:
    """TMDB API movies: tmdb_id unique int, title not blank, runtime 1..1000 min, vote average
    0..10, vote count >= 0, release date YYYY-MM-DD or "", IMDb id like tt0137523."""
    required = [C.TMDB_ID, C.TITLE, C.RUNTIME, C.VOTE_AVERAGE, C.VOTE_COUNT, C.POSTER_PATH]
    required += [C.RELEASE_DATE, C.OVERVIEW, C.DIRECTOR, C.CAST, C.KEYWORDS, C.GENRES]
    exps = _columns(required)
    exps += _id(df, C.TMDB_ID)
    exps += _numeric_between(df, C.TMDB_ID, 1, None, integer=True)
    exps += _text(df, C.TITLE, not_blank=True)
    for col in (C.OVERVIEW, C.DIRECTOR, C.CAST, C.KEYWORDS, C.GENRES, C.POSTER_PATH):
        exps += _text(df, col)
    exps += _numeric_between(df, C.RUNTIME, 1, MAX_RUNTIME, integer=True)
    exps += _numeric_between(df, C.VOTE_AVERAGE, 0, 10)
    exps += _numeric_between(df, C.VOTE_COUNT, 0, None, integer=True)
    if C.RELEASE_DATE in df.columns:
        exps += _text(df, C.RELEASE_DATE)
        exps.append(
            expect("ExpectColumnValuesToMatchRegex", column=C.RELEASE_DATE, regex=DATE_OR_EMPTY)
        )
    if C.IMDB_ID in df.columns:
        exps.append(expect("ExpectColumnValuesToMatchRegex", column=C.IMDB_ID, regex=r"^tt\d+$"))
    if C.POSTER_PATH in df.columns:
        exps.append(
            expect("ExpectColumnValuesToMatchRegex", column=C.POSTER_PATH, regex=r"^(/\S+)?$")
        )
    stats = {"movies": len(df)}
    if C.RUNTIME in df.columns:
        stats["movies_without_runtime"] = int(df[C.RUNTIME].isna().sum())
    return run_suite(df, "tmdb_movies", exps, statistics=stats)


def validate_reviews(df: pd.DataFrame, suite: str = "reviews") -> ValidationReport:
    """Reviews from any source: review_id unique, movie_id int, review text not blank, rating
    0.5..5 stars or missing, date YYYY-MM-DD or "", author/title strings."""
    required = [C.REVIEW_ID, C.MOVIE_ID, C.REVIEW_TEXT, C.RATING]
    exps = _columns(required)
    exps += _id(df, C.REVIEW_ID)
    exps += _text(df, C.REVIEW_ID, not_blank=True)
    exps += _id(df, C.MOVIE_ID, unique=False)
    exps += _numeric_between(df, C.MOVIE_ID, None, None, integer=True)[:1]
    exps += _text(df, C.REVIEW_TEXT, not_blank=True)
    exps += _numeric_between(df, C.RATING, 0.5, 5.0)
    for col in (C.AUTHOR, C.REVIEW_TITLE):
        exps += _text(df, col)
    if C.REVIEW_DATE in df.columns:
        exps += _text(df, C.REVIEW_DATE)
        exps.append(
            expect("ExpectColumnValuesToMatchRegex", column=C.REVIEW_DATE, regex=DATE_OR_EMPTY)
        )
    if C.USER_ID in df.columns:
        exps += _numeric_between(df, C.USER_ID, None, None, integer=True)[:1]
    stats = {"reviews": len(df)}
    if C.MOVIE_ID in df.columns:
        stats["movies"] = int(df[C.MOVIE_ID].nunique())
    if C.RATING in df.columns and len(df):
        stats["reviews_without_rating"] = int(df[C.RATING].isna().sum())
    return run_suite(df, suite, exps, statistics=stats)


def validate_labelled_reviews(df: pd.DataFrame, unique_texts: bool = True) -> ValidationReport:
    """Labelled sentences: text not blank, label 0/1, dataset named, and (for training data,
    `unique_texts`) each text once per dataset, so no split can leak."""
    required = ["text", "label", "dataset"]
    exps = _columns(required)
    exps += _text(df, "text", not_blank=True)
    exps += _text(df, "dataset", not_blank=True)
    if "label" in df.columns:
        exps += [
            expect("ExpectColumnValuesToNotBeNull", column="label"),
            expect("ExpectColumnValuesToBeInSet", column="label", value_set=[0, 1]),
            expect("ExpectColumnDistinctValuesToEqualSet", column="label", value_set=[0, 1]),
        ]
    if unique_texts and {"text", "dataset"} <= set(df.columns):
        exps.append(expect("ExpectCompoundColumnsToBeUnique", column_list=["dataset", "text"]))
    stats: dict[str, object] = {"rows": len(df)}
    if {"label", "dataset"} <= set(df.columns) and len(df):
        stats["positive_share"] = {
            str(k): round(float(v), 4) for k, v in df.groupby("dataset")["label"].mean().items()
        }
    return run_suite(df, "labelled_reviews", exps, statistics=stats)
