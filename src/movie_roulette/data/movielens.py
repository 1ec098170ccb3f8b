"""Loaders for MovieLens ml-latest-small (ratings, movies, links, tags).

Titles keep their human form without the year suffix and with a trailing article moved to
the front ("American President, The (1995)" -> title "The American President", year 1995).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from movie_roulette import columns as C
from movie_roulette.data._csv import read_checked_csv

ML_DIR_NAME = "ml-latest-small"
ML_FILES = ("ratings.csv", "movies.csv", "links.csv", "tags.csv")
NO_GENRES = "(no genres listed)"

_FIX = (
    "Put the MovieLens ml-latest-small files (ratings.csv, movies.csv, links.csv, tags.csv) "
    "in that folder, e.g. from https://files.grouplens.org/datasets/movielens/ml-latest-small.zip."
)
_ARTICLES = ("The", "A", "An", "Les", "La", "Le", "L'", "Il", "Das", "Der", "Die", "El", "Los")
_ARTICLES += ("Las", "Lo", "Gli", "I")


def _year_suffix(text: str) -> tuple[str, int | None]:
    r"""'Heat (1995)' -> ('Heat', 1995). String checks, linear in the title: the regex
    `^(.*?)\s*\((\d{4})\)\s*$` it replaces was quadratic in a run of spaces."""
    year = text[-5:-1]
    if len(text) >= 6 and text[-6] == "(" and text[-1] == ")" and year.isascii() and year.isdigit():
        return text[:-6].rstrip(), int(year)
    return text, None


def _article_first(text: str) -> str:
    """'American President, The' -> 'The American President' (also before a trailing
    ' (...)'); the first ', <article>' that ends the title wins. Linear: O(1) per ', '."""
    if not text.endswith(")"):  # then the article ends the title: one place to look
        for article in _ARTICLES:
            start = len(text) - len(article) - 2
            if start >= 1 and text.endswith(f", {article}"):
                sep = "" if article.endswith("'") else " "
                return f"{article}{sep}{text[:start]}"
        return text
    start = text.find(", ", 1)
    while start != -1:
        for article in _ARTICLES:
            end = start + 2 + len(article)
            if not text.startswith(article, start + 2):
                continue
            rest_ok = end == len(text) or (
                text.startswith(" (", end) and text.endswith(")") and len(text) - end >= 3
            )
            if rest_ok:
                sep = "" if article.endswith("'") else " "
                return f"{article}{sep}{text[:start]}{text[end:]}"
        start = text.find(", ", start + 1)
    return text


def split_title_year(raw: str) -> tuple[str, int | None]:
    """'American President, The (1995)' -> ('The American President', 1995)."""
    text, year = _year_suffix(raw.strip())
    return _article_first(text), year


def load_ratings(ml_dir: Path) -> pd.DataFrame:
    """ratings.csv -> user_id, movie_id, rating, timestamp (int64/int64/float64/int64)."""
    raw = read_checked_csv(
        Path(ml_dir) / "ratings.csv",
        what="MovieLens ratings",
        fix=_FIX,
        dtype={"userId": "int64", "movieId": "int64", "rating": "float64", "timestamp": "int64"},
    )
    return raw.set_axis(C.RATINGS_COLUMNS, axis=1)


def load_movies(ml_dir: Path) -> pd.DataFrame:
    """movies.csv -> movie_id, title, year (Int64), genres ("" when none listed)."""
    raw = read_checked_csv(
        Path(ml_dir) / "movies.csv",
        what="MovieLens movies",
        fix=_FIX,
        dtype={"movieId": "int64", "title": "str", "genres": "str"},
    )
    parsed = [split_title_year(t) for t in raw["title"]]
    genres = raw["genres"].str.strip().replace(NO_GENRES, "")
    return pd.DataFrame(
        {
            C.MOVIE_ID: raw["movieId"].to_numpy(),
            C.TITLE: [p[0] for p in parsed],
            C.YEAR: pd.array([p[1] for p in parsed], dtype="Int64"),
            C.GENRES: genres.to_numpy(dtype=object),
        }
    )


def load_links(ml_dir: Path) -> pd.DataFrame:
    """links.csv -> movie_id, imdb_id ("tt" + 7 digits, string dtype), tmdb_id (Int64)."""
    raw = read_checked_csv(
        Path(ml_dir) / "links.csv",
        what="MovieLens links",
        fix=_FIX,
        dtype={"movieId": "int64", "imdbId": "string", "tmdbId": "Int64"},
        na_columns=("imdbId", "tmdbId"),
    )
    digits = raw["imdbId"].str.strip()
    imdb = ("tt" + digits.str.zfill(7)).where(digits.str.len() > 0)
    return pd.DataFrame(
        {
            C.MOVIE_ID: raw["movieId"].to_numpy(),
            C.IMDB_ID: imdb.astype("string").to_numpy(),
            C.TMDB_ID: raw["tmdbId"].to_numpy(),
        }
    ).astype({C.IMDB_ID: "string", C.TMDB_ID: "Int64"})


def load_tags(ml_dir: Path) -> pd.DataFrame:
    """tags.csv -> user_id, movie_id, tag, timestamp."""
    raw = read_checked_csv(
        Path(ml_dir) / "tags.csv",
        what="MovieLens tags",
        fix=_FIX,
        dtype={"userId": "int64", "movieId": "int64", "tag": "str", "timestamp": "int64"},
    )
    return raw.set_axis([C.USER_ID, C.MOVIE_ID, "tag", C.TIMESTAMP], axis=1)


def load_movies_with_links(ml_dir: Path) -> pd.DataFrame:
    """movies.csv left-joined with links.csv (one row per movie)."""
    movies = load_movies(ml_dir)
    links = load_links(ml_dir).drop_duplicates(C.MOVIE_ID)
    merged = movies.merge(links, on=C.MOVIE_ID, how="left", validate="one_to_one")
    return merged.astype({C.IMDB_ID: "string", C.TMDB_ID: "Int64"})


def has_movielens(folder: Path) -> bool:
    """True when `folder` holds the four ml-latest-small CSVs."""
    return all((Path(folder) / name).is_file() for name in ML_FILES)
