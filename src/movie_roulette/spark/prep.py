"""Ratings on Spark: read (CSV or Parquet), type checks, deduplication, counts, popularity.

The frames keep the project's column names (user_id, movie_id, rating, timestamp); MovieLens'
camelCase headers (userId, movieId) are renamed on read.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from movie_roulette import columns as C
from movie_roulette.config import PipelineConfig
from movie_roulette.data import sources
from movie_roulette.exceptions import DataSourceError
from movie_roulette.spark.session import release_arrow_memory, spark_errors

COLUMNS = (C.USER_ID, C.MOVIE_ID, C.RATING, C.TIMESTAMP)
_TYPES = {C.USER_ID: "bigint", C.MOVIE_ID: "bigint", C.RATING: "double", C.TIMESTAMP: "bigint"}
_RENAMES = {"userId": C.USER_ID, "movieId": C.MOVIE_ID}
RATINGS_SCHEMA = T.StructType(
    [
        T.StructField(C.USER_ID, T.LongType()),
        T.StructField(C.MOVIE_ID, T.LongType()),
        T.StructField(C.RATING, T.DoubleType()),
        T.StructField(C.TIMESTAMP, T.LongType()),
    ]
)


@dataclass(frozen=True)
class PrepStats:
    """What `clean_ratings` found and removed."""

    rows_read: int
    bad_type_rows: int  # a value that is not a number of the column's type (or missing)
    duplicate_rows: int  # extra ratings of a (user, movie) pair; the latest one is kept
    bad_type_examples: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _is_parquet(path: Path) -> bool:
    if path.suffix == ".parquet":
        return True
    return path.is_dir() and any(path.glob("*.parquet"))


def read_ratings(spark: SparkSession, path: str | Path) -> DataFrame:
    """Ratings from a CSV with a header (every column read as text, typed by `clean_ratings`)
    or from Parquet."""
    path = Path(path).expanduser()
    if not path.exists():
        raise DataSourceError(
            f"Ratings file {path} does not exist: set spark.ratings_path to a CSV or Parquet "
            "file (or folder) of user_id/userId, movie_id/movieId, rating, timestamp."
        )
    with spark_errors(f"reading {path}"):
        if _is_parquet(path):
            df = spark.read.parquet(str(path))
        else:
            df = spark.read.option("header", True).option("inferSchema", False).csv(str(path))
    for old, new in _RENAMES.items():
        if old in df.columns and new not in df.columns:
            df = df.withColumnRenamed(old, new)
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise DataSourceError(
            f"Ratings at {path} lack column(s) {missing} (have {df.columns}); the file needs "
            "user_id (or userId), movie_id (or movieId), rating and timestamp."
        )
    return df.select(*COLUMNS)


def from_pandas(spark: SparkSession, ratings: pd.DataFrame) -> DataFrame:
    frame = ratings[list(COLUMNS)].astype(
        {C.USER_ID: "int64", C.MOVIE_ID: "int64", C.RATING: "float64", C.TIMESTAMP: "int64"}
    )
    with spark_errors("loading the ratings into Spark"):
        return spark.createDataFrame(frame, schema=RATINGS_SCHEMA)


def load_ratings(spark: SparkSession, cfg: PipelineConfig) -> DataFrame:
    """The run's ratings as a Spark DataFrame: `spark.ratings_path`, else the MovieLens
    ratings.csv read by Spark, else (demo data, held-back replay rows) the local loader's frame."""
    if cfg.spark.ratings_path:
        return read_ratings(spark, cfg.spark.ratings_path)
    if cfg.data.source == "movielens" and cfg.data.replay_from is None:
        return read_ratings(spark, sources.movielens_dir(cfg.data) / "ratings.csv")
    return from_pandas(spark, sources.load_ratings(cfg.data, seed=cfg.seed))


def clean_ratings(df: DataFrame) -> tuple[DataFrame, PrepStats]:
    """Cast each column to its type (rows where that fails are dropped and counted) and keep
    one rating per (user, movie): the latest (ties: the higher rating)."""
    typed = df.select(
        *[F.expr(f"try_cast(`{c}` AS {_TYPES[c]})").alias(c) for c in COLUMNS],
        *[F.col(c).cast("string").alias(f"_raw_{c}") for c in COLUMNS],
    )
    bad = F.lit(False)
    for c in COLUMNS:
        bad = bad | F.col(c).isNull() | (F.isnan(c) if _TYPES[c] == "double" else F.lit(False))
    typed = typed.withColumn("_bad", bad)
    with spark_errors("type-checking the ratings"):
        agg = typed.agg(F.count(F.lit(1)).alias("n"), F.sum(F.col("_bad").cast("int")).alias("b"))
        row = agg.collect()[0]
        n_read, n_bad = int(row["n"]), int(row["b"] or 0)
        examples = (
            [{c: r[f"_raw_{c}"] for c in COLUMNS} for r in typed.where("_bad").limit(5).collect()]
            if n_bad
            else []
        )
    good = typed.where(~F.col("_bad")).select(*COLUMNS)
    latest = Window.partitionBy(C.USER_ID, C.MOVIE_ID).orderBy(
        F.col(C.TIMESTAMP).desc(), F.col(C.RATING).desc()
    )
    deduped = good.withColumn("_n", F.row_number().over(latest)).where(F.col("_n") == 1).drop("_n")
    with spark_errors("deduplicating the ratings"):
        n_kept = deduped.count()
    stats = PrepStats(
        rows_read=n_read,
        bad_type_rows=n_bad,
        duplicate_rows=n_read - n_bad - n_kept,
        bad_type_examples=examples,
    )
    return deduped, stats


def counts(df: DataFrame) -> dict[str, Any]:
    """Rows, users, movies, mean rating (one Spark job)."""
    with spark_errors("counting the ratings"):
        row = df.agg(
            F.count(F.lit(1)).alias("rows"),
            F.countDistinct(C.USER_ID).alias("users"),
            F.countDistinct(C.MOVIE_ID).alias("movies"),
            F.avg(C.RATING).alias("mean_rating"),
        ).collect()[0]
    return {
        "rows": int(row["rows"]),
        "users": int(row["users"]),
        "movies": int(row["movies"]),
        "mean_rating": None if row["mean_rating"] is None else float(row["mean_rating"]),
    }


def popularity(df: DataFrame) -> pd.DataFrame:
    """Per movie: number of ratings and mean rating, most rated first (ties: lower id)."""
    with spark_errors("computing movie popularity"):
        out = (
            df.groupBy(C.MOVIE_ID)
            .agg(F.count(F.lit(1)).alias("count"), F.avg(C.RATING).alias("mean_rating"))
            .orderBy(F.col("count").desc(), F.col(C.MOVIE_ID))
            .toPandas()
        )
    return out.astype({C.MOVIE_ID: "int64", "count": "int64", "mean_rating": "float64"})


def to_pandas(df: DataFrame, extra: tuple[str, ...] = (), first: str | None = None) -> pd.DataFrame:
    """Collect a ratings DataFrame (and the `extra` columns) with the local path's dtypes,
    sorted by user then movie (pairs are unique once cleaned); with `first` (one of `extra`),
    by that column first. Spark casts; the rows arrive as one Arrow table (`toArrow`), each
    column of each batch in its own buffer (the session's selfDestruct), and the driver builds
    the sorted numpy columns one at a time, dropping each Arrow column as it goes. pandas'
    `toPandas` held about five copies at its peak (docs/spark.md section 19); this holds the
    Arrow rows, the sort keys and the finished columns."""
    cols = [F.col(c).cast(_TYPES[c]).alias(c) for c in COLUMNS] + [F.col(c) for c in extra]
    with spark_errors("collecting the ratings"):
        table = df.select(*cols).toArrow()
    names = [*COLUMNS, *extra]
    keys = [C.MOVIE_ID, C.USER_ID] + ([first] if first is not None else [])
    key_arrays = {c: _column(table, c) for c in keys}
    order = np.lexsort([key_arrays[c] for c in keys])
    columns = {}
    for c in names:
        values = key_arrays.pop(c, None)
        if values is None:
            values = _column(table, c)
        columns[c] = values[order]
        del values
        table = table.drop_columns([c])
        release_arrow_memory()  # (the column's Arrow pages, before the next copy)
    del table, order
    return pd.DataFrame(columns, copy=False)


def _column(table: Any, name: str) -> np.ndarray:
    """One Arrow column as one numpy array (its batches concatenated; no nulls once cleaned)."""
    return table.column(name).to_numpy()


def split_frames(
    labelled: pd.DataFrame, part: str, labels: tuple[int, ...]
) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """(every row without the `part` column, one frame per label) from one collected frame.
    The first shares the collected columns; a label whose rows are contiguous (collected with
    `to_pandas(first=part)`) is a slice of them, also without a copy, so the driver holds the
    rows once, not twice (25M ratings: 0.8 GB less)."""
    columns = {c: labelled[c].to_numpy() for c in COLUMNS}
    ratings = pd.DataFrame(columns, copy=False)
    which = labelled[part].to_numpy()
    parts = []
    for label in labels:
        rows = np.flatnonzero(which == label)
        if len(rows) and rows[-1] - rows[0] + 1 == len(rows):
            a, b = int(rows[0]), int(rows[-1]) + 1
            parts.append(pd.DataFrame({c: v[a:b] for c, v in columns.items()}, copy=False))
        else:
            parts.append(ratings.iloc[rows].reset_index(drop=True))
    return ratings, parts
