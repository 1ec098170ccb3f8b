"""Load ratings, catalogue sources and reviews for the configured source ("demo"/"movielens")."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from movie_roulette import columns as C
from movie_roulette.config import DATA_DIR_ENV, DataConfig, resolve_data_dir
from movie_roulette.data import imdb_csv, movielens, tmdb_csv
from movie_roulette.data._frames import coerce_reviews
from movie_roulette.data.demo import DemoData, generate_demo
from movie_roulette.data.download import default_cache_dir, ensure_movielens
from movie_roulette.exceptions import DataSourceError

REVIEW_COLUMNS = C.REVIEW_COLUMNS


@lru_cache(maxsize=4)
def _demo(seed: int, n_movies: int, n_users: int, mean_ratings: int, n_reviews: int) -> DemoData:
    return generate_demo(
        seed=seed,
        n_movies=n_movies,
        n_users=n_users,
        mean_ratings_per_user=mean_ratings,
        n_reviews=n_reviews,
    )


def demo_data(cfg: DataConfig, seed: int) -> DemoData:
    """The generated demo data set for this config (memoised; do not mutate its frames)."""
    d = cfg.demo
    return _demo(seed, d.n_movies, d.n_users, d.mean_ratings_per_user, d.n_reviews)


def empty_reviews() -> pd.DataFrame:
    """A review frame with no rows and the contract dtypes."""
    return pd.DataFrame(
        {
            C.REVIEW_ID: pd.Series(dtype=object),
            C.MOVIE_ID: pd.Series(dtype="int64"),
            C.USER_ID: pd.Series(dtype="Int64"),
            C.RATING: pd.Series(dtype="float64"),
            C.REVIEW_TEXT: pd.Series(dtype=object),
            C.AUTHOR: pd.Series(dtype=object),
            C.REVIEW_TITLE: pd.Series(dtype=object),
            C.REVIEW_DATE: pd.Series(dtype=object),
            C.REVIEW_SOURCE: pd.Series(dtype=object),
        }
    )


def _search_dirs(cfg: DataConfig) -> list[Path]:
    data_dir = resolve_data_dir(cfg.data_dir)
    return ([data_dir] if data_dir else []) + [default_cache_dir()]


def movielens_dir(cfg: DataConfig) -> Path:
    """Folder with the MovieLens CSVs (data.movielens_release): the data dir (its release
    subfolder, or the data dir itself when it holds the four CSVs, e.g. generated data), else
    the (downloaded) cache."""
    name = cfg.movielens_release
    data_dir = resolve_data_dir(cfg.data_dir)
    if data_dir is not None:
        if (data_dir / name).is_dir():
            return data_dir / name
        if movielens.has_movielens(data_dir):
            return data_dir
    cache = default_cache_dir()
    if movielens.has_movielens(cache / name) or cfg.download:
        return ensure_movielens(cache, release=name)
    where = data_dir if data_dir is not None else f"the folder named by ${DATA_DIR_ENV}"
    raise DataSourceError(
        f"MovieLens {name} not found (looked in {where} and {cache}) and "
        f"data.download is false. Put {name}/ ({', '.join(movielens.ML_FILES)}) "
        f"under {where}, set {DATA_DIR_ENV}, or set data.download: true."
    )


# The optional metadata files: (config flag, folder, file, what the catalogue loses without it).
OPTIONAL_METADATA = {
    "imdb": (
        "use_imdb",
        imdb_csv.IMDB_DIR_NAME,
        imdb_csv.IMDB_FILE_NAME,
        "directors, cast, plot keywords and IMDb scores",
    ),
    "tmdb": (
        "use_tmdb",
        tmdb_csv.TMDB_DIR_NAME,
        tmdb_csv.TMDB_FILE_NAME,
        "overviews and TMDB popularity",
    ),
}
# What the content features and the join-coverage gate count as content metadata.
CONTENT_WITH_METADATA = (C.DIRECTOR, C.OVERVIEW, C.KEYWORDS)
CONTENT_MOVIELENS_ONLY = (C.GENRES, C.KEYWORDS)  # MovieLens genres and tags


def _optional_candidates(cfg: DataConfig, folder: str, name: str) -> list[Path]:
    return [d / folder / name for d in _search_dirs(cfg)]


def _optional_file(cfg: DataConfig, folder: str, name: str, flag: str) -> Path:
    candidates = _optional_candidates(cfg, folder, name)
    for path in candidates:
        if path.is_file():
            return path
    raise DataSourceError(
        f"data.{flag} is true but {folder}/{name} was not found; expected it at "
        f"{' or '.join(str(p) for p in candidates)}. Put the file there (set data.data_dir or "
        f"{DATA_DIR_ENV} to its parent folder) or set data.{flag}: false."
    )


def optional_metadata(cfg: DataConfig) -> dict[str, Path | None]:
    """{"imdb": path | None, "tmdb": path | None} for the files the config asks for (MovieLens);
    None: asked for but absent (the run goes on without it, see `missing_metadata_note`)."""
    if cfg.source != "movielens":
        return {}
    found: dict[str, Path | None] = {}
    for key, (flag, folder, name, _) in OPTIONAL_METADATA.items():
        if getattr(cfg, flag):
            paths = _optional_candidates(cfg, folder, name)
            found[key] = next((p for p in paths if p.is_file()), None)
    return found


def missing_metadata_note(cfg: DataConfig) -> str | None:
    """One message naming each optional file asked for but absent and what the run does
    without it; None when nothing is missing."""
    missing = [k for k, path in optional_metadata(cfg).items() if path is None]
    if not missing:
        return None
    parts = []
    for key in missing:
        flag, folder, name, adds = OPTIONAL_METADATA[key]
        where = " or ".join(str(p) for p in _optional_candidates(cfg, folder, name))
        parts.append(f"{folder}/{name} not found (looked at {where}): no {adds} from it")
    only_movielens = len(missing) == len(OPTIONAL_METADATA)
    gate = (
        "the content features use MovieLens genres and tags, and the join-coverage gate "
        "counts a movie with genres or tags as covered"
        if only_movielens
        else "the catalogue uses the metadata that is present"
    )
    flags = "/".join(OPTIONAL_METADATA[k][0] for k in missing)
    return (
        f"Optional metadata missing, continuing without it: {'; '.join(parts)}. So {gate}. "
        f"See docs/data.md to add the files, or set data.{flags}: false to silence this."
    )


def source_files(cfg: DataConfig) -> list[Path]:
    """Every file the loaders read for this config (MovieLens CSVs and the optional metadata
    found); [] for the generated demo data. What `fingerprint.files_fingerprint` hashes so that
    a changed file invalidates the pipeline's cached loading steps."""
    if cfg.source == "demo":
        return []
    ml_dir = movielens_dir(cfg)
    files = [ml_dir / name for name in movielens.ML_FILES]
    return files + [path for path in optional_metadata(cfg).values() if path is not None]


def content_columns(cfg: DataConfig) -> tuple[str, ...]:
    """The catalogue columns that count as content metadata for this config's sources."""
    available = [k for k, path in optional_metadata(cfg).items() if path is not None]
    if cfg.source == "movielens" and not available:
        return CONTENT_MOVIELENS_ONLY
    return CONTENT_WITH_METADATA


def imdb_path(cfg: DataConfig) -> Path:
    return _optional_file(cfg, imdb_csv.IMDB_DIR_NAME, imdb_csv.IMDB_FILE_NAME, "use_imdb")


def tmdb_path(cfg: DataConfig) -> Path:
    return _optional_file(cfg, tmdb_csv.TMDB_DIR_NAME, tmdb_csv.TMDB_FILE_NAME, "use_tmdb")


def _all_ratings(cfg: DataConfig, seed: int) -> pd.DataFrame:
    if cfg.source == "demo":
        return demo_data(cfg, seed).ratings.copy()
    return movielens.load_ratings(movielens_dir(cfg))


def parse_cutoff(value: str) -> int:
    """ISO date/time (UTC when no zone is given) -> unix seconds."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as err:
        raise ValueError(
            f"cutoff {value!r} is not an ISO date or date-time (e.g. 2017-01-01)."
        ) from err
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


def _held_back_mask(ratings: pd.DataFrame, cfg: DataConfig, seed: int) -> pd.Series:
    """Rows held back for the continuous-training replay (see DataConfig.replay_from and
    DemoConfig.holdout_fraction)."""
    held = pd.Series(False, index=ratings.index)
    if cfg.replay_from is not None:
        held |= ratings[C.TIMESTAMP] >= parse_cutoff(cfg.replay_from)
    if cfg.source == "demo" and cfg.demo.holdout_fraction > 0:
        n_held = int(round(len(ratings) * cfg.demo.holdout_fraction))
        picked = np.random.default_rng(seed + 7919).permutation(len(ratings))[:n_held]
        held.iloc[picked] = True
    return held


def load_ratings(cfg: DataConfig, seed: int) -> pd.DataFrame:
    """Ratings frame (user_id, movie_id, rating, timestamp), without the held-back rows."""
    ratings = _all_ratings(cfg, seed)
    held = _held_back_mask(ratings, cfg, seed)
    return ratings[~held].reset_index(drop=True) if held.any() else ratings


def held_back_ratings(cfg: DataConfig, seed: int) -> pd.DataFrame:
    """The rows `load_ratings` leaves out, in replay order.

    MovieLens (data.replay_from): time order. Demo (data.demo.holdout_fraction): a seeded random
    order, i.e. draws from the training distribution.
    """
    ratings = _all_ratings(cfg, seed)
    held = _held_back_mask(ratings, cfg, seed)
    out = ratings[held]
    if cfg.source == "demo" and cfg.replay_from is None:
        order = np.random.default_rng(seed + 7919).permutation(len(out))
        return out.iloc[order].reset_index(drop=True)
    return out.sort_values([C.TIMESTAMP, C.USER_ID, C.MOVIE_ID], kind="stable").reset_index(
        drop=True
    )


def load_catalogue_sources(cfg: DataConfig, seed: int) -> dict[str, pd.DataFrame]:
    """demo: {"movies": complete catalogue}; movielens: movies(+links), tags, imdb?, tmdb?

    IMDb and TMDB are optional: a file asked for (data.use_imdb / use_tmdb) but absent is left
    out; `missing_metadata_note` says so.
    """
    if cfg.source == "demo":
        return {"movies": demo_data(cfg, seed).catalogue.copy()}
    ml_dir = movielens_dir(cfg)
    out = {"movies": movielens.load_movies_with_links(ml_dir), "tags": movielens.load_tags(ml_dir)}
    found = optional_metadata(cfg)
    if found.get("imdb") is not None:
        out["imdb"] = imdb_csv.load_imdb(found["imdb"])
    if found.get("tmdb") is not None:
        out["tmdb"] = tmdb_csv.load_tmdb(found["tmdb"])
    return out


def load_reviews(cfg: DataConfig, seed: int) -> pd.DataFrame:
    """demo: generated reviews; movielens: an empty review frame (reviews come from the live
    sources, see data.tmdb_api and data.imdb_reviews, combined by `combine_reviews`)."""
    if cfg.source == "demo":
        return demo_data(cfg, seed).reviews.copy()
    return empty_reviews()


def combine_reviews(*frames: pd.DataFrame | None, sources: tuple[str, ...] = ()) -> pd.DataFrame:
    """One review frame (REVIEW_COLUMNS) from several; `sources` names each frame's source
    where it has no `source` column. Rows need a movie_id and a non-empty text; repeated
    review ids keep the first."""
    parts = []
    for i, frame in enumerate(frames):
        if frame is None or frame.empty:
            continue
        part = frame.reindex(columns=REVIEW_COLUMNS).copy()
        if i < len(sources):
            part[C.REVIEW_SOURCE] = part[C.REVIEW_SOURCE].fillna(sources[i])
        parts.append(part)
    if not parts:
        return empty_reviews()
    out = pd.concat(parts, ignore_index=True)
    out = out[out[C.MOVIE_ID].notna()]
    out = coerce_reviews(out)
    out = out[out[C.REVIEW_TEXT].str.strip() != ""]
    return out.drop_duplicates(C.REVIEW_ID).reset_index(drop=True)
