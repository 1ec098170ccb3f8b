"""Spark MLlib ALS as the fitter of the ALS factor components (`models.factor_als`).

Importing this module registers the "spark" fitter: `ExplicitALSRecommender` /
`ImplicitALSRecommender` with `engine="spark"` then fit with `pyspark.ml.recommendation.ALS`
(explicit ratings, or `implicitPrefs`) on the run's SparkSession, and keep only the factor
arrays (collected to the driver as float32), so the fitted component, its bundle and the model
server need neither Spark nor Java.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyspark.ml.recommendation import ALS
from pyspark.sql import DataFrame
from pyspark.sql import types as T

from movie_roulette.config import SparkConfig
from movie_roulette.models.base import Interactions
from movie_roulette.models.factor_als import (
    ExplicitALSRecommender,
    FactorALSRecommender,
    ImplicitALSRecommender,
    register_fitter,
)
from movie_roulette.spark.session import active_session, release_arrow_memory, spark_errors

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


def spark_fitter(model: FactorALSRecommender, data: Interactions) -> tuple[np.ndarray, np.ndarray]:
    spark = active_session()
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
    return fit_als_frame(model, df, data.n_users, data.n_movies)


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
