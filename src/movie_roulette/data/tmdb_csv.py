"""Loader for the "Top Rated TMDb Movies (10K)" CSV."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from movie_roulette import columns as C
from movie_roulette.data._csv import read_checked_csv

TMDB_DIR_NAME = "tmdb-top10k"
TMDB_FILE_NAME = "top10K-TMDB-movies.csv"
_FIX = (
    "Put the TMDb top-10k 'top10K-TMDB-movies.csv' there (columns id, title, genre, overview, "
    "popularity, release_date, ...) or set data.use_tmdb: false in the config."
)


def load_tmdb(path: Path) -> pd.DataFrame:
    """One row per TMDB id: tmdb_id, title, year, genres ("Drama|Crime"), overview, popularity."""
    path = Path(path)
    raw = read_checked_csv(
        path,
        what="TMDB top-10k",
        fix=_FIX,
        dtype={
            "id": "int64",
            "title": "str",
            "genre": "str",
            "original_language": "str",
            "overview": "str",
            "popularity": "float64",
            "release_date": "str",
            "vote_average": "float64",
            "vote_count": "Int64",
        },
        na_columns=("popularity", "vote_average", "vote_count"),
    )
    genres = raw["genre"].str.split(",").map(lambda g: "|".join(x.strip() for x in g if x.strip()))
    released = pd.to_datetime(raw["release_date"].str.strip(), format="%Y-%m-%d", errors="coerce")
    frame = pd.DataFrame(
        {
            C.TMDB_ID: raw["id"].astype("Int64"),
            C.TITLE: raw["title"].str.strip(),
            C.YEAR: released.dt.year.astype("Int64"),
            C.GENRES: genres,
            C.OVERVIEW: raw["overview"].str.replace(r"\s+", " ", regex=True).str.strip(),
            C.POPULARITY: raw["popularity"].astype("float64"),
            C.RELEASE_DATE: released.dt.strftime("%Y-%m-%d").fillna(""),
            "original_language": raw["original_language"].str.strip(),
            C.VOTE_AVERAGE: raw["vote_average"],
            C.VOTE_COUNT: raw["vote_count"],
        }
    )
    return frame.drop_duplicates(C.TMDB_ID, keep="first").reset_index(drop=True)
