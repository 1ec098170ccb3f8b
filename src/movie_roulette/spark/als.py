"""Spark MLlib ALS as the fitter of the ALS factor components (`models.factor_als`).

Importing this module registers the "spark" fitter: `ExplicitALSRecommender` /
`ImplicitALSRecommender` with `engine="spark"` then fit with `pyspark.ml.recommendation.ALS`
(explicit ratings, or `implicitPrefs`) on the run's SparkSession, and keep only the factor
arrays (collected to the driver as float32), so the fitted component, its bundle and the model
server need neither Spark nor Java.

Where the rows come from: by default the fitter sends the rows it is given (the driver's arrays)
to Spark. Inside `als_rows_from(parts)` it reads them where they are instead: the prepare step's
Parquet files (`spark.parquet.RatingsParquet`), joined on Spark with the model's user and movie
indices (two small broadcast tables), so the ratings go from the files to the executors and only
the factors come back. It checks that those are the rows it was given (their count and the sums
of their indices); when they are not, it says so in the log and sends the driver's rows.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from pyspark import StorageLevel
from pyspark.ml.recommendation import ALS
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from movie_roulette import columns as C
from movie_roulette.config import SparkConfig
from movie_roulette.models.base import Interactions
from movie_roulette.models.factor_als import (
    ExplicitALSRecommender,
    FactorALSRecommender,
    ImplicitALSRecommender,
    register_fitter,
)
from movie_roulette.spark.parquet import RatingsParquet
from movie_roulette.spark.session import active_session, release_arrow_memory, spark_errors

log = logging.getLogger(__name__)
_sources: list[tuple[tuple[RatingsParquet, ...], list[AlsRows]]] = []  # innermost last


@dataclass(frozen=True)
class AlsRows:
    """Where one Spark ALS fit inside `als_rows_from` took its rows from."""

    component: str
    source: Literal["files", "driver"]  # read on Spark from the files, or sent by the driver
    rows: int


_SCHEMA = T.StructType(
    [
        T.StructField("u", T.IntegerType()),
        T.StructField("i", T.IntegerType()),
        T.StructField("r", T.FloatType()),
    ]
)


def factors_to_numpy(factors: DataFrame, n: int, rank: int) -> np.ndarray:
    """(n, rank) float32 from an ALS factor frame (id, features); ids without factors: 0."""
    frame = factors.toPandas()
    out = np.zeros((n, rank), np.float32)
    if len(frame):
        ids = frame["id"].to_numpy(np.int64)
        out[ids] = np.stack(frame["features"].to_numpy()).astype(np.float32)
    del frame
    release_arrow_memory()
    return out


def fit_als_frame(
    model: FactorALSRecommender, df: DataFrame, n_users: int, n_movies: int
) -> tuple[np.ndarray, np.ndarray]:
    """Fit on a Spark frame of (u, i, r) with u, i dense int indices; factors as arrays."""
    blocks = max(1, df.sparkSession.sparkContext.defaultParallelism)
    als = ALS(
        numUserBlocks=blocks,
        numItemBlocks=blocks,
        rank=model.rank,
        maxIter=model.max_iter,
        regParam=model.reg_param,
        alpha=model.alpha,
        implicitPrefs=model.implicit_prefs,
        userCol="u",
        itemCol="i",
        ratingCol="r",
        seed=model.seed,
        coldStartStrategy="drop",
        intermediateStorageLevel="MEMORY_AND_DISK",
        finalStorageLevel="MEMORY_AND_DISK",
    )
    with spark_errors(f"fitting {model.name} (pyspark.ml ALS)"):
        fitted = als.fit(df)
        users = factors_to_numpy(fitted.userFactors, n_users, model.rank)
        items = factors_to_numpy(fitted.itemFactors, n_movies, model.rank)
    return users, items


@contextmanager
def als_rows_from(parts: Sequence[RatingsParquet]) -> Iterator[list[AlsRows]]:
    """Within: Spark ALS fits read their rows from the union of `parts` on Spark (see above);
    the list it gives says, per fit, where the rows came from."""
    fits: list[AlsRows] = []
    _sources.append((tuple(parts), fits))
    try:
        yield fits
    finally:
        _sources.pop()


def _index_frame(spark: SparkSession, ids: np.ndarray, id_col: str, idx_col: str) -> DataFrame:
    """(id, dense index) for the model's ids: a small table, broadcast to the executors."""
    schema = T.StructType(
        [T.StructField(id_col, T.LongType()), T.StructField(idx_col, T.IntegerType())]
    )
    frame = pd.DataFrame(
        {id_col: np.asarray(ids, np.int64), idx_col: np.arange(len(ids), dtype=np.int32)}
    )
    return F.broadcast(spark.createDataFrame(frame, schema=schema))


def rows_on_spark(
    spark: SparkSession, model: FactorALSRecommender, parts: Sequence[RatingsParquet]
) -> DataFrame:
    """The (u, i, r) rows `model` fits, read from `parts` on Spark: its own row filter
    (`min_rating`), then the ratings of its users and movies, as its dense indices."""
    frames = [part.read(spark).select(C.USER_ID, C.MOVIE_ID, C.RATING) for part in parts]
    df = frames[0]
    for other in frames[1:]:
        df = df.unionByName(other)
    if model.min_rating is not None:
        df = df.where(F.col(C.RATING) >= model.min_rating)
    df = df.join(_index_frame(spark, model.user_ids, C.USER_ID, "u"), C.USER_ID)
    df = df.join(_index_frame(spark, model.movie_ids, C.MOVIE_ID, "i"), C.MOVIE_ID)
    value = F.lit(1.0) if model.implicit_prefs else F.col(C.RATING)
    return df.select("u", "i", value.cast("float").alias("r"))


def _sent_from_driver(
    spark: SparkSession, model: FactorALSRecommender, data: Interactions
) -> DataFrame:
    frame = pd.DataFrame(
        {
            "u": data.user_idx.astype(np.int32),
            "i": data.movie_idx.astype(np.int32),
            "r": model.interaction_values(data.rating),
        }
    )
    with spark_errors(f"loading the ratings of {model.name} into Spark"):
        df = spark.createDataFrame(frame, schema=_SCHEMA)
    del frame
    release_arrow_memory()  # (the Arrow batches the rows were sent in)
    return df


def spark_fitter(model: FactorALSRecommender, data: Interactions) -> tuple[np.ndarray, np.ndarray]:
    spark = active_session()
    df = None
    fits: list[AlsRows] = []
    if _sources:
        parts, fits = _sources[-1]
        df = rows_on_spark(spark, model, parts).persist(StorageLevel.MEMORY_AND_DISK)
        with spark_errors(f"reading the ratings of {model.name} from {parts[0].path}"):
            got = df.agg(F.count(F.lit(1)), F.sum("u"), F.sum("i")).collect()[0]
        n = int(got[0])
        given = (len(data.rating), int(data.user_idx.sum()), int(data.movie_idx.sum()))
        if (n, int(got[1] or 0), int(got[2] or 0)) != given:
            log.warning(
                "%s: the files hold other rows than the fit was given (%d rows, %d given); "
                "sending the driver's rows to Spark instead",
                model.name,
                n,
                len(data.rating),
            )
            df.unpersist()
            df = None
        else:
            log.info(
                "%s: fitting %d rows read on Spark from %d file set(s)", model.name, n, len(parts)
            )
            fits.append(AlsRows(model.name, "files", n))
    if df is None:
        df = _sent_from_driver(spark, model, data)
        fits.append(AlsRows(model.name, "driver", len(data.rating)))
    try:
        return fit_als_frame(model, df, data.n_users, data.n_movies)
    finally:
        df.unpersist()


register_fitter("spark", spark_fitter)


def make_spark_als_components(cfg: SparkConfig, seed: int) -> dict[str, FactorALSRecommender]:
    """The enabled Spark ALS components, named as the hybrid will know them."""
    out: dict[str, FactorALSRecommender] = {}
    if cfg.als.enabled:
        out["als_explicit"] = ExplicitALSRecommender(
            rank=cfg.als.rank,
            max_iter=cfg.als.max_iter,
            reg_param=cfg.als.reg_param,
            seed=seed,
        )
    if cfg.als_implicit.enabled:
        imp = cfg.als_implicit
        out["als_implicit"] = ImplicitALSRecommender(
            rank=imp.rank,
            max_iter=imp.max_iter,
            reg_param=imp.reg_param,
            alpha=imp.alpha,
            min_rating=imp.min_rating,
            seed=seed,
        )
    return out
