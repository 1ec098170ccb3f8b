"""Expectation suite for the movie catalogue."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from movie_roulette import columns as C
from movie_roulette.validation.report import ValidationReport
from movie_roulette.validation.runner import Expect, expect, run_suite
from movie_roulette.validation.types import INTEGER_TYPES, NUMERIC_TYPES

FIRST_FILM_YEAR = 1874  # Passage de Venus
TEXT_COLUMNS = [C.TITLE, C.GENRES, C.DIRECTOR, C.CAST, C.KEYWORDS, C.OVERVIEW]


def validate_catalogue(df: pd.DataFrame) -> ValidationReport:
    """Check the catalogue: all `CATALOGUE_COLUMNS`, unique non-null ids, non-empty titles,
    plausible years, non-negative popularity, text columns holding strings (never NaN)."""
    present = set(df.columns)
    exps: list[Expect] = [expect("ExpectTableRowCountToBeBetween", min_value=1)]
    exps += [expect("ExpectColumnToExist", column=c) for c in C.CATALOGUE_COLUMNS]
    if C.MOVIE_ID in present:
        exps += [
            expect("ExpectColumnValuesToBeInTypeList", column=C.MOVIE_ID, type_list=INTEGER_TYPES),
            expect("ExpectColumnValuesToNotBeNull", column=C.MOVIE_ID),
            expect("ExpectColumnValuesToBeUnique", column=C.MOVIE_ID),
        ]
    for col in TEXT_COLUMNS:
        if col in present:
            exps += [
                expect("ExpectColumnValuesToNotBeNull", column=col),
                expect("ExpectColumnValuesToBeOfType", column=col, type_="str"),
            ]
    if C.TITLE in present:
        exps.append(expect("ExpectColumnValuesToMatchRegex", column=C.TITLE, regex=r"\S"))
    if C.YEAR in present:
        exps.append(
            expect("ExpectColumnValuesToBeInTypeList", column=C.YEAR, type_list=NUMERIC_TYPES)
        )
        if pd.api.types.is_numeric_dtype(df[C.YEAR]):
            exps.append(
                expect(
                    "ExpectColumnValuesToBeBetween",
                    column=C.YEAR,
                    min_value=FIRST_FILM_YEAR,
                    max_value=dt.date.today().year + 1,
                )
            )
    if C.POPULARITY in present:
        exps.append(
            expect("ExpectColumnValuesToBeInTypeList", column=C.POPULARITY, type_list=NUMERIC_TYPES)
        )
        if pd.api.types.is_numeric_dtype(df[C.POPULARITY]):
            exps.append(expect("ExpectColumnValuesToBeBetween", column=C.POPULARITY, min_value=0))
    if C.IMDB_ID in present:
        exps.append(expect("ExpectColumnValuesToMatchRegex", column=C.IMDB_ID, regex=r"^tt\d+$"))
    if C.TMDB_ID in present:
        exps.append(
            expect("ExpectColumnValuesToBeInTypeList", column=C.TMDB_ID, type_list=INTEGER_TYPES)
        )
    exps += _detail_expectations(df)
    stats: dict[str, Any] = {}
    if C.GENRES in present and len(df):
        stats["movies_without_genres"] = int((df[C.GENRES].fillna("") == "").sum())
    return run_suite(df, "catalogue", exps, statistics=stats)


def _detail_expectations(df: pd.DataFrame) -> list[Expect]:
    """Optional detail columns (runtime, votes, poster, release date), checked when present."""
    exps: list[Expect] = []
    for col, low, high, types in (
        (C.RUNTIME, 1, 1000, INTEGER_TYPES),
        (C.VOTE_AVERAGE, 0, 10, NUMERIC_TYPES),
        (C.VOTE_COUNT, 0, None, INTEGER_TYPES),
    ):
        if col in df.columns:
            exps.append(expect("ExpectColumnValuesToBeInTypeList", column=col, type_list=types))
            if pd.api.types.is_numeric_dtype(df[col]):
                exps.append(
                    expect(
                        "ExpectColumnValuesToBeBetween", column=col, min_value=low, max_value=high
                    )
                )
    for col, regex in ((C.POSTER_PATH, r"^(/\S+)?$"), (C.RELEASE_DATE, r"^(\d{4}-\d{2}-\d{2})?$")):
        if col in df.columns:
            exps += [
                expect("ExpectColumnValuesToNotBeNull", column=col),
                expect("ExpectColumnValuesToMatchRegex", column=col, regex=regex),
            ]
    return exps
