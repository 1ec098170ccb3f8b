"""Merge MovieLens movies with IMDb and TMDB metadata into the catalogue frame."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from movie_roulette import columns as C
from movie_roulette.data.genres import merge_genres, merge_pipes
from movie_roulette.exceptions import DataSourceError
from movie_roulette.ratings_source import Part, as_source, value_counts

TEXT_COLUMNS = (C.TITLE, C.GENRES, C.DIRECTOR, C.CAST, C.KEYWORDS, C.OVERVIEW)
CONTENT_COLUMNS = (C.DIRECTOR, C.OVERVIEW, C.KEYWORDS)


def coerce_catalogue(frame: pd.DataFrame) -> pd.DataFrame:
    """Select CATALOGUE_COLUMNS + DETAIL_COLUMNS with the contract dtypes; text columns hold ""
    instead of NA; detail columns missing from `frame` are added as unknown (NA / "")."""
    out = frame.reindex(columns=[*C.CATALOGUE_COLUMNS, *C.DETAIL_COLUMNS]).copy()
    for column in TEXT_COLUMNS:
        out[column] = out[column].astype(object).where(out[column].notna(), "").astype(str)
    out[C.MOVIE_ID] = out[C.MOVIE_ID].astype("int64")
    out[C.YEAR] = pd.to_numeric(out[C.YEAR], errors="coerce").astype("Int64")
    out[C.POPULARITY] = pd.to_numeric(out[C.POPULARITY], errors="coerce").fillna(0.0)
    out[C.POPULARITY] = out[C.POPULARITY].astype("float64")
    imdb = out[C.IMDB_ID].astype("string").str.strip()
    out[C.IMDB_ID] = imdb.where(imdb.str.len() > 0).astype("string")
    out[C.TMDB_ID] = pd.to_numeric(out[C.TMDB_ID], errors="coerce").astype("Int64")
    return coerce_details(out).reset_index(drop=True)


def coerce_details(out: pd.DataFrame) -> pd.DataFrame:
    """runtime Int64 (> 0), vote_average float64 in [0, 10], vote_count Int64 (>= 0),
    poster_path and release_date str ("" when unknown); out-of-range values become unknown."""
    out = out.copy()
    for col in C.DETAIL_COLUMNS:
        if col not in out.columns:
            out[col] = pd.NA
    runtime = pd.to_numeric(out[C.RUNTIME], errors="coerce")
    out[C.RUNTIME] = runtime.where(runtime > 0).round().astype("Int64")
    vote = pd.to_numeric(out[C.VOTE_AVERAGE], errors="coerce").astype("float64")
    out[C.VOTE_AVERAGE] = vote.where((vote >= 0) & (vote <= 10))
    count = pd.to_numeric(out[C.VOTE_COUNT], errors="coerce")
    out[C.VOTE_COUNT] = count.where(count >= 0).round().astype("Int64")
    for col in (C.POSTER_PATH, C.RELEASE_DATE):
        out[col] = out[col].astype(object).where(out[col].notna(), "").astype(str).str.strip()
    return out


def enrich_from_tmdb_api(catalogue: pd.DataFrame, tmdb_movies: pd.DataFrame) -> pd.DataFrame:
    """Fill the catalogue from TMDB API rows (joined on movie_id): the API's runtime, votes,
    poster and release date win over the CSV snapshots; its director, cast, keywords, overview
    and genres only fill fields that are empty. Movies the API did not return are unchanged."""
    if tmdb_movies is None or tmdb_movies.empty:
        return catalogue
    api = tmdb_movies.drop_duplicates(C.MOVIE_ID).set_index(C.MOVIE_ID)
    out = catalogue.copy()
    ids = out[C.MOVIE_ID]
    for col in C.DETAIL_COLUMNS:
        fresh = ids.map(api[col])
        if col in (C.POSTER_PATH, C.RELEASE_DATE):
            fresh = fresh.where(fresh.fillna("").astype(str) != "")
        current = out[col] if col in out.columns else pd.Series(pd.NA, index=out.index)
        out[col] = fresh.astype(object).where(fresh.notna(), current.astype(object))
    for col in (C.DIRECTOR, C.CAST, C.KEYWORDS, C.OVERVIEW, C.GENRES):
        fresh = ids.map(api[col]).fillna("").astype(str)
        empty = out[col].fillna("").astype(str).str.strip() == ""
        out[col] = out[col].where(~empty, fresh)
    imdb = ids.map(api[C.IMDB_ID]).astype("string")
    out[C.IMDB_ID] = out[C.IMDB_ID].astype("string").fillna(imdb)
    extra = [c for c in out.columns if c not in (*C.CATALOGUE_COLUMNS, *C.DETAIL_COLUMNS)]
    return pd.concat([coerce_catalogue(out), out[extra].reset_index(drop=True)], axis=1)


def _tag_keywords(tags: pd.DataFrame) -> pd.Series:
    """Lower-cased, de-duplicated MovieLens tags per movie, pipe-joined."""
    if tags.empty:
        return pd.Series(dtype=object)
    clean = tags.assign(
        tag=tags["tag"].astype(str).str.replace("|", " ", regex=False).str.strip().str.lower()
    )
    order = [c for c in (C.MOVIE_ID, C.TIMESTAMP, "tag") if c in clean.columns]
    clean = clean[clean["tag"] != ""].sort_values(order, kind="mergesort")
    clean = clean.drop_duplicates([C.MOVIE_ID, "tag"])
    return clean.groupby(C.MOVIE_ID, sort=False)["tag"].agg("|".join)


def movie_counts(ratings: Part, dropna: bool = True) -> pd.Series:
    """Ratings per movie_id, counted a batch at a time (a file part is never loaded whole)."""
    source = as_source(ratings)
    if C.MOVIE_ID not in source.columns:
        raise DataSourceError(
            f"the ratings have no '{C.MOVIE_ID}' column (columns: {list(source.columns)}); "
            "pass the ratings as load_ratings returns them."
        )
    return value_counts([source], C.MOVIE_ID, dropna=dropna)


def _rating_counts(movie_ids: pd.Series, ratings: Part) -> np.ndarray:
    return movie_ids.map(movie_counts(ratings)).fillna(0).to_numpy(dtype="float64")


def _first_valid(*series: pd.Series) -> pd.Series:
    out = series[0]
    for other in series[1:]:
        out = out.fillna(other)
    return out


def _fill(values: pd.Series, other: pd.Series) -> pd.Series:
    """values where known, else other (object dtype, no silent downcasting)."""
    return values.astype(object).where(values.notna(), other.astype(object))


def merge_catalogue(
    sources: Mapping[str, pd.DataFrame], ratings: Part | None = None
) -> pd.DataFrame:
    """One row per movie in `sources["movies"]`, with the catalogue contract columns.

    Optional `imdb` (joined on imdb_id), `tmdb` (joined on tmdb_id) and `tags` frames add
    director, cast, keywords, overview and genres. popularity = number of ratings when
    `ratings` is given (a frame or a `RatingsSource`, read a batch at a time), else the
    source popularity (TMDB's for MovieLens).
    """
    if "movies" not in sources:
        raise DataSourceError(
            f"merge_catalogue needs a 'movies' source; got keys {sorted(sources)}. "
            "Load them with sources.load_catalogue_sources()."
        )
    movies = sources["movies"]
    duplicated = movies[C.MOVIE_ID].duplicated()
    if duplicated.any():
        ids = movies.loc[duplicated, C.MOVIE_ID].head(5).tolist()
        raise DataSourceError(f"movies source repeats movie_id(s) {ids}; each movie needs one row.")
    base = movies.reset_index(drop=True).copy()
    n = len(base)
    for column in C.CATALOGUE_COLUMNS:
        if column not in base.columns:
            base[column] = pd.NA
    empty = pd.Series([""] * n, index=base.index, dtype=object)

    genre_parts = [base[C.GENRES]]
    director, cast, keyword_parts, overview = empty, empty, [base[C.KEYWORDS]], empty
    year = pd.to_numeric(base[C.YEAR], errors="coerce").astype("Int64")
    source_popularity = pd.to_numeric(base[C.POPULARITY], errors="coerce")
    details = {
        col: base[col] if col in base.columns else pd.Series(pd.NA, index=base.index, dtype=object)
        for col in C.DETAIL_COLUMNS
    }

    imdb = sources.get("imdb")
    if imdb is not None and not imdb.empty:
        table = imdb.drop_duplicates(C.IMDB_ID).set_index(C.IMDB_ID)
        key = base[C.IMDB_ID].astype("string")
        joined = table.reindex(key.fillna("").to_numpy())
        joined.index = base.index
        director = joined[C.DIRECTOR].fillna(director)
        cast = joined[C.CAST].fillna(cast)
        keyword_parts.append(joined[C.KEYWORDS])
        genre_parts.append(joined[C.GENRES])
        year = year.fillna(joined[C.YEAR].astype("Int64"))
        if C.RUNTIME in joined.columns:
            details[C.RUNTIME] = _fill(details[C.RUNTIME], joined[C.RUNTIME])

    tmdb = sources.get("tmdb")
    if tmdb is not None and not tmdb.empty:
        table = tmdb.drop_duplicates(C.TMDB_ID).set_index(C.TMDB_ID)
        key = pd.to_numeric(base[C.TMDB_ID], errors="coerce").astype("Int64")
        joined = table.reindex(key.fillna(-1).to_numpy())
        joined.index = base.index
        overview = _first_valid(base[C.OVERVIEW].replace("", np.nan), joined[C.OVERVIEW], overview)
        genre_parts.append(joined[C.GENRES])
        year = year.fillna(joined[C.YEAR].astype("Int64"))
        source_popularity = _first_valid(source_popularity, joined[C.POPULARITY])
        for col in (C.VOTE_AVERAGE, C.VOTE_COUNT, C.RELEASE_DATE):
            if col in joined.columns:
                value = joined[col]
                if col == C.RELEASE_DATE:
                    value = value.where(value.fillna("").astype(str) != "")
                details[col] = _fill(details[col], value)
    else:
        overview = base[C.OVERVIEW].where(base[C.OVERVIEW].notna(), overview)

    tags = sources.get("tags")
    if tags is not None and not tags.empty:
        keyword_parts.append(base[C.MOVIE_ID].map(_tag_keywords(tags)))

    base[C.GENRES] = [merge_genres(*parts) for parts in zip(*genre_parts, strict=True)]
    base[C.KEYWORDS] = [
        merge_pipes(parts, lower=True) for parts in zip(*keyword_parts, strict=True)
    ]
    base[C.DIRECTOR] = _first_valid(base[C.DIRECTOR].replace("", np.nan), director)
    base[C.CAST] = _first_valid(base[C.CAST].replace("", np.nan), cast)
    base[C.OVERVIEW] = overview
    base[C.YEAR] = year
    for col, values in details.items():
        base[col] = values
    if ratings is not None:
        base[C.POPULARITY] = _rating_counts(base[C.MOVIE_ID], ratings)
    else:
        base[C.POPULARITY] = source_popularity.fillna(0.0)
    return coerce_catalogue(base)


def join_coverage(ratings: Part, catalogue: pd.DataFrame) -> float:
    """Share of ratings whose movie has director, overview or keywords (0.0 for no ratings),
    from the per-movie counts (`ratings` read a batch at a time)."""
    counts = movie_counts(ratings, dropna=False)
    total = int(counts.sum())
    if total == 0:
        return 0.0
    has_content = np.zeros(len(catalogue), dtype=bool)
    for column in CONTENT_COLUMNS:
        values = catalogue[column].fillna("").astype(str).str.strip()
        has_content |= (values != "").to_numpy()
    covered = catalogue.loc[has_content, C.MOVIE_ID].to_numpy()
    return int(counts[counts.index.isin(covered)].sum()) / total
