"""Loader for the IMDB 5000 Movie Dataset (`movie_metadata.csv`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from movie_roulette import columns as C
from movie_roulette.data._csv import read_checked_csv

IMDB_DIR_NAME = "imdb-5000"
IMDB_FILE_NAME = "movie_metadata.csv"
_FIX = (
    "Put the IMDB 5000 'movie_metadata.csv' there (28 columns, header row) "
    "or set data.use_imdb: false in the config."
)
_TEXT = (
    "director_name",
    "actor_1_name",
    "actor_2_name",
    "actor_3_name",
    "genres",
    "movie_title",
    "plot_keywords",
    "movie_imdb_link",
)


def _clean(series: pd.Series) -> pd.Series:
    """Strip ordinary and non-breaking spaces."""
    return series.str.replace("\u00a0", " ", regex=False).str.strip()


def _join_pipes(frame: pd.DataFrame) -> pd.Series:
    parts = frame.apply(_clean).to_numpy(dtype=object)
    return pd.Series(["|".join(p for p in row if p) for row in parts], index=frame.index)


def _pipe_list(series: pd.Series) -> pd.Series:
    cleaned = _clean(series).str.split("|")
    return cleaned.map(lambda items: "|".join(i.strip() for i in items if i.strip()))


def load_imdb(path: Path) -> pd.DataFrame:
    """One row per IMDb tt id: imdb_id, title, year, genres, director, cast, keywords, ...

    Duplicated tt ids keep the row with the most `num_voted_users`.
    """
    path = Path(path)
    dtype = {name: "str" for name in _TEXT}
    dtype |= {
        "num_voted_users": "Int64",
        "title_year": "Int64",
        "imdb_score": "float64",
        "duration": "float64",
    }
    raw = read_checked_csv(
        path,
        what="IMDb metadata",
        fix=_FIX,
        dtype=dtype,
        na_columns=("num_voted_users", "title_year", "imdb_score", "duration"),
    )
    imdb_id = raw["movie_imdb_link"].str.extract(r"(tt\d+)", expand=False)
    frame = pd.DataFrame(
        {
            C.IMDB_ID: imdb_id.astype("string"),
            C.TITLE: _clean(raw["movie_title"]),
            C.YEAR: raw["title_year"].astype("Int64"),
            C.GENRES: _pipe_list(raw["genres"]),
            C.DIRECTOR: _clean(raw["director_name"]),
            C.CAST: _join_pipes(raw[["actor_1_name", "actor_2_name", "actor_3_name"]]),
            C.KEYWORDS: _pipe_list(raw["plot_keywords"]),
            "num_voted_users": raw["num_voted_users"].fillna(0).astype("int64"),
            "imdb_score": raw["imdb_score"],
            C.RUNTIME: raw["duration"].where(raw["duration"] > 0).round().astype("Int64"),
        }
    )
    frame = frame[frame[C.IMDB_ID].notna()]
    frame = frame.sort_values(
        ["num_voted_users", C.IMDB_ID], ascending=[False, True], kind="mergesort"
    )
    frame = frame.drop_duplicates(C.IMDB_ID, keep="first")
    return frame.sort_values(C.IMDB_ID, kind="mergesort").reset_index(drop=True)
