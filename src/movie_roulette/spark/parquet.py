"""Rating frames that Spark writes as Parquet and anything reads back, Spark or not.

On the Spark engine the prepared ratings and their split are not collected to the driver: the
prepare step hands each one over as `SparkRatings` (a Spark DataFrame and its row count), and
its artifact is written by Spark's own Parquet writer (`write_ratings`), sorted by (user, movie).
What was written is a `RatingsParquet`: a folder of `part-*.parquet` files that Spark reads back
as a DataFrame (`RatingsParquet.read`, e.g. to fit ALS where the rows are), and that a step which
needs pandas reads without Spark (`read_frame`: the local path's dtypes and row order).

`read_facts` streams the files once, a batch at a time, for what a ratings artifact records: the
row, user and movie counts and `fingerprint.frame_checksum` of the frame `read_frame` gives,
without holding that frame (digest equality is tested).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from movie_roulette import columns as C
from movie_roulette.fingerprint import CHECKSUM_CHUNK_ROWS, chunks_checksum

COLUMNS = (C.USER_ID, C.MOVIE_ID, C.RATING, C.TIMESTAMP)
ORDER = (C.USER_ID, C.MOVIE_ID)  # pairs are unique once cleaned: a strict order
SCHEMA = pa.schema(
    [
        pa.field(C.USER_ID, pa.int64()),
        pa.field(C.MOVIE_ID, pa.int64()),
        pa.field(C.RATING, pa.float64()),
        pa.field(C.TIMESTAMP, pa.int64()),
    ]
)
_SPARK_TYPES = ("bigint", "bigint", "double", "bigint")
Opener = Callable[[str], IO[bytes]]


class RatingsFileError(ValueError):
    """A ratings Parquet folder that is not what `write_ratings` writes."""


class CacheLease:
    """Rows cached on Spark for several writes: `free` runs when the last of them is done."""

    def __init__(self, free: Callable[[], None], holders: int) -> None:
        self._free: Callable[[], None] | None = free
        self._holders = int(holders)

    def release(self) -> None:
        self._holders -= 1
        if self._holders <= 0 and self._free is not None:
            free, self._free = self._free, None
            free()


@dataclass(frozen=True)
class SparkRatings:
    """Ratings on Spark, not collected: the columns `COLUMNS` and how many rows there are."""

    frame: Any  # pyspark.sql.DataFrame (typed Any: this module imports no Spark)
    rows: int
    lease: CacheLease | None = field(default=None, compare=False)

    def written(self) -> None:
        """Tell the lease this frame is written (the cached rows go when all are)."""
        if self.lease is not None:
            self.lease.release()


@dataclass(frozen=True)
class RatingsFacts:
    """What a ratings artifact records about its rows."""

    rows: int
    users: int
    movies: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RatingsParquet:
    """A written ratings folder: the part files (in order) and how to open them."""

    path: str
    files: tuple[str, ...]
    opener: Opener = field(default=lambda p: open(p, "rb"), compare=False, repr=False)

    @classmethod
    def at(
        cls,
        path: str,
        listdir: Callable[[str], Iterable[str]] = os.listdir,
        opener: Opener | None = None,
    ) -> RatingsParquet:
        names = sorted(
            str(n)
            for n in listdir(path)
            if str(n).startswith("part-") and str(n).endswith(".parquet")
        )
        if not names:
            raise RatingsFileError(
                f"{path} holds no part-*.parquet file: it is not a ratings folder written by "
                "Spark (movie_roulette.spark.parquet.write_ratings); rerun the prepare step."
            )
        files = tuple(f"{path.rstrip('/')}/{n}" for n in names)
        return cls(path, files, opener) if opener else cls(path, files)

    def to_pandas(self, columns: Iterable[str] = COLUMNS) -> pd.DataFrame:
        """`read_frame(self, columns)`: the rows as pandas, without Spark."""
        return read_frame(self, columns)

    def read(self, spark: Any) -> Any:
        """The rows as a Spark DataFrame (read where they are, not through the driver)."""
        return spark.read.parquet(spark_path(self.path))

    def batches(
        self, columns: Iterable[str] = COLUMNS, batch_size: int = CHECKSUM_CHUNK_ROWS
    ) -> Iterator[pa.RecordBatch]:
        """Record batches of `columns` in row order, `batch_size` rows at most each."""
        names = list(columns)
        for path in self.files:
            with self.opener(path) as handle:
                parquet = pq.ParquetFile(handle)
                yield from parquet.iter_batches(batch_size=batch_size, columns=names)


def spark_path(path: str) -> str:
    """The path as Spark's Hadoop file systems name it: a local path as `file://`, an S3 URI
    (what ZenML's S3 artifact store gives) as `s3a://` (Hadoop's S3 connector, which must be on
    Spark's classpath); other URIs as they are (`gs://`, `abfs://`, `hdfs://`)."""
    if path.startswith("s3://"):
        return "s3a://" + path[len("s3://") :]
    if "://" in path:
        return path
    return "file://" + os.path.abspath(path)


def write_ratings(ratings: SparkRatings, path: str) -> None:
    """Write `ratings` as Parquet (zstd) sorted by (user, movie), by Spark itself."""
    from pyspark.sql import functions as F

    from movie_roulette.spark.session import spark_errors

    frame = ratings.frame.select(
        *[F.col(c).cast(t).alias(c) for c, t in zip(COLUMNS, _SPARK_TYPES, strict=True)]
    )
    with spark_errors(f"writing {ratings.rows:,} ratings to {path}"):
        frame.orderBy(*ORDER).write.option("compression", "zstd").parquet(spark_path(path))
    ratings.written()


def read_frame(parquet: RatingsParquet, columns: Iterable[str] = COLUMNS) -> pd.DataFrame:
    """The rows as a pandas frame with the local path's dtypes, in (user, movie) order (only
    `columns`, which include user_id and movie_id). The Arrow rows are turned into numpy a
    column at a time, each dropped as it is done."""
    names = list(columns)
    if C.USER_ID not in names or C.MOVIE_ID not in names:
        raise ValueError(f"read_frame: columns {names} must include user_id and movie_id.")
    schema = pa.schema([SCHEMA.field(c) for c in names])
    tables = []
    for path in parquet.files:
        with parquet.opener(path) as handle:
            tables.append(pq.read_table(handle, columns=names, schema=schema))
    table = pa.concat_tables(tables) if tables else schema.empty_table()
    del tables
    values = {}
    for c in names:
        values[c] = table.column(c).to_numpy()
        table = table.drop_columns([c])
    del table
    frame = pd.DataFrame(values, copy=False)
    _check_order(frame[C.USER_ID].to_numpy(), frame[C.MOVIE_ID].to_numpy(), parquet.path)
    return frame


def _check_order(users: np.ndarray, movies: np.ndarray, where: str) -> None:
    if len(users) < 2:
        return
    du = np.diff(users)
    ok = (du > 0) | ((du == 0) & (np.diff(movies) > 0))
    if not ok.all():
        row = int(np.flatnonzero(~ok)[0]) + 1
        raise RatingsFileError(
            f"{where}: row {row:,} (user {users[row]}, movie {movies[row]}) is out of (user, "
            "movie) order or repeats a pair: the folder was not written by write_ratings or "
            "was changed since; rerun the prepare step."
        )


def read_facts(parquet: RatingsParquet) -> RatingsFacts:
    """Rows, users, movies and `frame_checksum(read_frame(parquet))`, streamed a batch at a
    time (the order is checked as `read_frame` checks it)."""
    rows = users = 0
    movies: set[int] = set()
    last: tuple[int, int] | None = None

    def chunks() -> Iterator[pd.DataFrame]:
        nonlocal rows, users, last
        for batch in parquet.batches():
            frame = batch.to_pandas()
            u, m = frame[C.USER_ID].to_numpy(), frame[C.MOVIE_ID].to_numpy()
            if not len(u):
                continue
            if last is not None:
                u_all, m_all = np.r_[last[0], u], np.r_[last[1], m]
            else:
                u_all, m_all = u, m
            _check_order(u_all, m_all, parquet.path)
            users += int((np.diff(u) != 0).sum()) + int(last is None or last[0] != int(u[0]))
            movies.update(np.unique(m).tolist())
            rows += len(frame)
            last = (int(u[-1]), int(m[-1]))
            yield frame

    sha256 = chunks_checksum(list(COLUMNS), chunks())
    return RatingsFacts(rows=rows, users=users, movies=len(movies), sha256=sha256)
