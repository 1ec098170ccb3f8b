"""Per-user train / valid / test split on Spark: the same rows as `data.split` for the same seed.

The local rule (`data.split.per_user_holdout`) sorts the ratings by (user, movie), draws one
uniform key per row from `numpy.random.default_rng(seed)` in that order, and holds out, per
user, the `rint(n * fraction)` ratings (clipped to [1, n - 1]; none under `min_user_ratings`)
with the smallest keys (ties: lower movie id). Spark reproduces it exactly:

* the global position of each row in (user, movie) order: the cumulated per-user counts (one
  row per user, summed on the driver) plus a `row_number` within the user;
* the key at position p is the p-th draw of the seeded PCG64 stream: each partition (whole
  users, range-partitioned and sorted by position) advances its own PCG64(seed) to its first
  position (`PCG64.advance`, O(log p)) and draws its keys in `mapInPandas`;
* the per-user rank and the number held out are window functions (`row_number` over the user
  ordered by key then movie; `bround` is numpy's round-half-even `rint`).

`per_user_time` orders by timestamp, latest first (ties: lower movie id), like `latest=True`.

`time` (one global cut-off, `data.split.time_holdout`) needs the cut-off timestamp: the
(n - n_test)-th smallest of all n timestamps (0-based, as numpy sorts them), found without
sorting the ratings: approximate quantiles bracket it, then the timestamps between the two are
counted on Spark (one row per distinct value) and the driver walks those counts. Test rows (at
or after the cut-off) and valid rows (the same rule on the rest) whose user or movie has no
training rating are dropped, as the local rule drops them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pandas as pd
from pyspark import StorageLevel
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from movie_roulette import columns as C
from movie_roulette.config import SplitConfig

_POS, _KEY = "_split_pos", "_split_key"
# relative rank error of the approximate quantiles that bracket the time cut-off: the bracket
# holds about 8 x this share of the rows (25M ratings: ~20,000), counted per distinct timestamp
_CUTOFF_REL_ERROR = 1e-4


def keys_at(seed: int, positions: np.ndarray) -> np.ndarray:
    """`default_rng(seed).random(n)[positions]` without drawing the n - len(positions) others
    (positions sorted ascending: one PCG64 advance per run of consecutive positions)."""
    positions = np.asarray(positions, np.int64)
    out = np.empty(len(positions))
    if len(positions) == 0:
        return out
    breaks = np.flatnonzero(np.diff(positions) != 1) + 1
    starts, stops = np.r_[0, breaks], np.r_[breaks, len(positions)]
    for a, b in zip(starts, stops, strict=True):
        bits = np.random.PCG64(seed)
        bits.advance(int(positions[a]))
        out[a:b] = np.random.Generator(bits).random(int(b - a))
    return out


def _with_positions(df: DataFrame) -> DataFrame:
    """Each row's index in (user, movie) order: the user's offset (cumulated per-user counts:
    one row per user, summed on the driver) plus its row number within the user."""
    per_user = df.groupBy(C.USER_ID).agg(F.count(F.lit(1)).alias("_n")).toPandas()
    per_user = per_user.sort_values(C.USER_ID, kind="stable")
    counts = per_user["_n"].to_numpy(np.int64)
    offsets = pd.DataFrame(
        {
            C.USER_ID: per_user[C.USER_ID].to_numpy(np.int64),
            "_offset": np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64),
        }
    )
    table = df.sparkSession.createDataFrame(offsets, schema=f"{C.USER_ID} long, _offset long")
    in_user = Window.partitionBy(C.USER_ID).orderBy(C.MOVIE_ID)
    return (
        df.join(F.broadcast(table), C.USER_ID)
        .withColumn(_POS, F.col("_offset") + F.row_number().over(in_user) - 1)
        .drop("_offset")
    )


def _with_random_keys(df: DataFrame, seed: int) -> DataFrame:
    positioned = _with_positions(df)
    parts = max(1, positioned.sparkSession.sparkContext.defaultParallelism)
    ordered = positioned.repartitionByRange(parts, C.USER_ID).sortWithinPartitions(_POS)

    def draw(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            pos = batch[_POS].to_numpy(np.int64)
            order = np.argsort(pos, kind="stable")
            keys = np.empty(len(pos))
            keys[order] = keys_at(seed, pos[order])
            yield batch.assign(**{_KEY: keys})

    schema = T.StructType([*positioned.schema.fields, T.StructField(_KEY, T.DoubleType())])
    return ordered.mapInPandas(draw, schema=schema)


def label_holdout(
    df: DataFrame,
    fraction: float,
    seed: int,
    min_user_ratings: int = 5,
    *,
    latest: bool = False,
) -> DataFrame:
    """`df` with a boolean column `_holdout`: the rows `data.split.per_user_holdout` holds out."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"test_fraction must be in [0, 1), got {fraction}.")
    if fraction == 0.0:
        return df.withColumn("_holdout", F.lit(False))
    user = Window.partitionBy(C.USER_ID)
    if latest:
        keyed = df
        order = [F.col(C.TIMESTAMP).desc(), F.col(C.MOVIE_ID)]
    else:
        keyed = _with_random_keys(df, seed)
        order = [F.col(_KEY), F.col(C.MOVIE_ID)]
    size = F.count(F.lit(1)).over(user)
    n_test = F.least(F.greatest(F.bround(size * F.lit(float(fraction)), 0), F.lit(1.0)), size - 1)
    n_test = F.when(size < max(min_user_ratings, 2), F.lit(0.0)).otherwise(n_test)
    rank = F.row_number().over(user.orderBy(*order)) - 1
    out = keyed.withColumn("_holdout", rank < n_test)
    return out.drop(_POS, _KEY)


def time_cutoff(df: DataFrame, index: int, n: int | None = None) -> int:
    """The `index`-th smallest timestamp of `df` (0-based, ties counted: numpy's
    `np.sort(times)[index]`), without sorting `df`. `n`: its row count, when known already."""
    ts = F.col(C.TIMESTAMP)
    n = df.count() if n is None else n
    if not 0 <= index < n:
        raise ValueError(f"time_cutoff: index {index} outside the {n} ratings.")
    width = 4 * _CUTOFF_REL_ERROR
    while True:
        lo_q, hi_q = max(0.0, index / n - width), min(1.0, index / n + width)
        if lo_q == 0.0 and hi_q == 1.0:  # the whole range: cannot miss
            lo, hi = (int(v) for v in df.agg(F.min(ts), F.max(ts)).first())
        else:
            quantiles = df.approxQuantile(C.TIMESTAMP, [lo_q, hi_q], _CUTOFF_REL_ERROR)
            lo = int(math.floor(quantiles[0])) if lo_q > 0.0 else None
            hi = int(math.ceil(quantiles[1])) if hi_q < 1.0 else None
        below = 0 if lo is None else df.where(ts < lo).count()
        if below <= index:
            inside = df if lo is None else df.where(ts >= lo)
            inside = inside if hi is None else inside.where(ts <= hi)
            counts = inside.groupBy(C.TIMESTAMP).count().orderBy(C.TIMESTAMP).toPandas()
            reached = below + np.cumsum(counts["count"].to_numpy(np.int64))
            at = int(np.searchsorted(reached, index, side="right"))
            if at < len(counts):
                return int(counts[C.TIMESTAMP].iloc[at])
        if lo_q == 0.0 and hi_q == 1.0:
            raise RuntimeError("time_cutoff: the timestamps changed while being counted.")
        width *= 4  # the approximation missed the rank: a wider bracket


def _time_holdout(df: DataFrame, fraction: float) -> tuple[DataFrame, DataFrame]:
    """(before the cut-off, at or after it) by `data.split.time_holdout`'s rule; cold rows not
    dropped yet (the caller drops them against the final train part)."""
    n = df.count()
    n_test = int(np.ceil(n * fraction))
    if n_test == 0:
        return df, df.limit(0)
    cutoff = time_cutoff(df, n - n_test, n)
    ts = F.col(C.TIMESTAMP)
    return df.where(ts < cutoff), df.where(ts >= cutoff)


def time_labels(df: DataFrame, cfg: SplitConfig) -> DataFrame:
    """`split_labels` for `split.strategy: time`: the rows of `data.split.train_valid_test`
    (one global cut-off for test, another on the rest for valid; valid and test rows of users
    or movies without a training rating dropped, as there)."""
    df = df.persist(StorageLevel.MEMORY_AND_DISK)
    rest, test = _time_holdout(df, cfg.test_fraction)
    rest = rest.persist(StorageLevel.MEMORY_AND_DISK)
    train, valid = _time_holdout(rest, cfg.valid_fraction)
    users = train.select(C.USER_ID).distinct().withColumn("_user_known", F.lit(True))
    movies = train.select(C.MOVIE_ID).distinct().withColumn("_movie_known", F.lit(True))
    cols = df.columns

    def labelled(part: DataFrame, label: int) -> DataFrame:
        """`label`, or DROPPED where the row's user or movie has no training rating."""
        flagged = part.join(F.broadcast(movies), C.MOVIE_ID, "left").join(users, C.USER_ID, "left")
        known = F.col("_user_known").isNotNull() & F.col("_movie_known").isNotNull()
        return flagged.select(
            *cols, F.when(known, label).otherwise(DROPPED).cast("byte").alias(PART)
        )

    train = train.select(*cols, F.lit(TRAIN).cast("byte").alias(PART))
    return train.unionByName(labelled(valid, VALID)).unionByName(labelled(test, TEST))


PART = "_part"  # split_labels' column: TRAIN, VALID, TEST or DROPPED
TRAIN, VALID, TEST = 0, 1, 2
# `split.strategy: time` only: a valid or test row whose user or movie has no training rating
# (in the ratings, in no split; `data.split.time_holdout` drops them so)
DROPPED = 3


def split_labels(df: DataFrame, cfg: SplitConfig, seed: int) -> DataFrame:
    """`df` with a byte column PART naming the split of each row: the rows of
    `train_valid_test`, as one frame (so the driver collects the ratings once, not twice)."""
    if cfg.strategy == "time":
        return time_labels(df, cfg)
    if cfg.strategy not in ("per_user", "per_user_time"):
        raise ValueError(
            f"split.strategy {cfg.strategy!r} is not one of ['per_user', 'per_user_time', 'time']."
        )
    latest = cfg.strategy == "per_user_time"
    cols = df.columns
    first = label_holdout(df, cfg.test_fraction, seed, cfg.min_user_ratings, latest=latest)
    first = first.persist(StorageLevel.MEMORY_AND_DISK)
    rest = first.where(~F.col("_holdout")).drop("_holdout")
    second = label_holdout(rest, cfg.valid_fraction, seed + 1, cfg.min_user_ratings, latest=latest)
    held = first.where(F.col("_holdout")).select(*cols, F.lit(TEST).cast("byte").alias(PART))
    kept = second.select(
        *cols, F.when(F.col("_holdout"), VALID).otherwise(TRAIN).cast("byte").alias(PART)
    )
    return held.unionByName(kept)


def train_valid_test(
    df: DataFrame, cfg: SplitConfig, seed: int
) -> tuple[DataFrame, DataFrame, DataFrame]:
    """`data.split.train_valid_test` on Spark (every strategy)."""
    labelled = split_labels(df, cfg, seed)
    parts = (labelled.where(F.col(PART) == label).drop(PART) for label in (TRAIN, VALID, TEST))
    return tuple(parts)  # type: ignore[return-value]
