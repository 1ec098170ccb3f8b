"""A part of the ratings (train, valid, test, ...) read a batch at a time, wherever it is.

The steps that judge a model (evaluation, behavioural checks, model card, production
comparison, promotion) need counts, distinct ids, a few users' rows and a checksum of the
ratings the model was fitted on, never the whole frame at once. At 25M ratings, loading train
and valid as frames costs each of those steps ~0.7 GB. A `RatingsSource` gives the rows in
order as pandas batches:

- `FrameRatings`: a frame already in memory (one batch, no copy): tests, the library's callers;
- `RatingFiles`: Parquet files in row order, read `BATCH_ROWS` rows at a time. Both engines'
  materializers hand a split part over as one (the local path's `FrameMaterializer` file, the
  Spark engine's part files), so a judging step's input is the same type on either engine.

A model's fit reads its parts so too (`models.base.Recommender.fit_frames`): the Spark engine's
training and served refit index the part files a batch at a time and never hold their frames.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from movie_roulette.fingerprint import CHECKSUM_CHUNK_ROWS

BATCH_ROWS = CHECKSUM_CHUNK_ROWS  # ~1M rows: ~32 MB a batch of the four rating columns
Opener = Callable[[str], IO[bytes]]


def _open(path: str) -> IO[bytes]:
    return open(path, "rb")


class RatingsSource(ABC):
    """Rating rows in a fixed order, given as pandas batches of chosen columns."""

    @property
    @abstractmethod
    def rows(self) -> int: ...

    @property
    @abstractmethod
    def columns(self) -> tuple[str, ...]: ...

    @abstractmethod
    def batches(self, columns: Sequence[str] | None = None) -> Iterator[pd.DataFrame]:
        """The rows in order, as frames of `columns` (default: all) with a fresh index each."""

    @abstractmethod
    def frame(self) -> pd.DataFrame:
        """Every row as one frame (a full load: for small data, or a fit that needs it)."""

    def series(self, column: str) -> Iterator[pd.Series]:
        """One column's values in row order, a batch at a time."""
        for batch in self.batches([column]):
            yield batch[column]

    def __len__(self) -> int:
        return self.rows


@dataclass(frozen=True, eq=False)
class FrameRatings(RatingsSource):
    """A frame in memory, given as one batch (itself: no copy)."""

    data: pd.DataFrame

    @property
    def rows(self) -> int:
        return len(self.data)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(str(c) for c in self.data.columns)

    def batches(self, columns: Sequence[str] | None = None) -> Iterator[pd.DataFrame]:
        if columns is None or list(columns) == list(self.data.columns):
            yield self.data
        else:
            yield self.data[list(columns)]

    def series(self, column: str) -> Iterator[pd.Series]:
        yield self.data[column]  # (a view: no copy of the column)

    def frame(self) -> pd.DataFrame:
        return self.data


@dataclass(frozen=True, eq=False)
class RatingFiles(RatingsSource):
    """Parquet files read in the order given, `BATCH_ROWS` rows at a time (`of` reads the
    footers for the row count and the columns; a pandas index stored as a column is left
    out, as `pd.read_parquet` turns it back into the index)."""

    path: str  # what the files are (for messages): a folder or an artifact's URI
    files: tuple[str, ...]
    n_rows: int
    names: tuple[str, ...]
    opener: Opener = field(default=_open, repr=False)

    @classmethod
    def of(cls, path: str, files: Iterable[str], opener: Opener = _open) -> RatingFiles:
        files = tuple(files)
        rows, names = 0, None
        for file in files:
            with opener(file) as handle:
                parquet = pq.ParquetFile(handle)
                rows += parquet.metadata.num_rows
                schema = parquet.schema_arrow
            stored = (schema.pandas_metadata or {}).get("index_columns") or []
            index = {c for c in stored if isinstance(c, str)}  # (a RangeIndex is not a column)
            here = tuple(n for n in schema.names if n not in index)
            if names is not None and here != names:
                raise ValueError(
                    f"{path}: {file} has the columns {list(here)}, the files before it "
                    f"{list(names)}; one ratings part is written with one schema: rerun the "
                    "step that wrote it."
                )
            names = here
        if names is None:
            raise ValueError(f"{path}: no Parquet file given; rerun the step that wrote it.")
        return cls(path, files, rows, names, opener)

    @property
    def rows(self) -> int:
        return self.n_rows

    @property
    def columns(self) -> tuple[str, ...]:
        return self.names

    def batches(self, columns: Sequence[str] | None = None) -> Iterator[pd.DataFrame]:
        names = list(self.names if columns is None else columns)
        missing = [c for c in names if c not in self.names]
        if missing:
            raise KeyError(f"{self.path}: no column {missing} (it has {list(self.names)}).")
        for file in self.files:
            with self.opener(file) as handle:
                parquet = pq.ParquetFile(handle)
                for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=names):
                    rows = batch.to_pandas()  # (the stored pandas dtypes)
                    rows.index = pd.RangeIndex(len(rows))  # (not a stored RangeIndex's)
                    yield rows

    def frame(self) -> pd.DataFrame:
        """The files read whole (Arrow tables joined, then one conversion to pandas)."""
        tables = []
        for file in self.files:
            with self.opener(file) as handle:
                tables.append(pq.read_table(handle, columns=list(self.names)))
        table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
        del tables
        rows = table.to_pandas()  # (the stored pandas dtypes)
        rows.index = pd.RangeIndex(len(rows))  # (not a stored RangeIndex's)
        return rows


Part = pd.DataFrame | RatingsSource  # what a caller may hand over for a part: a frame or a source


def as_source(part: Part) -> RatingsSource:
    return part if isinstance(part, RatingsSource) else FrameRatings(part)


def as_sources(given: Part | Iterable[Part]) -> list[RatingsSource]:
    """One part (a frame or a source) or several, as a list of sources."""
    if isinstance(given, pd.DataFrame | RatingsSource):
        return [as_source(given)]
    return [as_source(p) for p in given]


def distinct_values(parts: Iterable[RatingsSource], column: str) -> np.ndarray:
    """The sorted distinct non-missing values of `column` over the parts (those lacking the
    column are skipped), a batch at a time; an empty array of the column's dtype when none."""
    parts = list(parts)
    values, dtype = [], None
    for part in parts:
        if column not in part.columns:
            continue
        for batch in part.series(column):
            dtype = batch.to_numpy().dtype if dtype is None else dtype
            if len(batch):
                values.append(np.asarray(batch.dropna().unique()))
    if not values:
        return np.empty(0, dtype if dtype is not None else np.float64)
    return np.unique(np.concatenate(values))


def value_counts(parts: Iterable[RatingsSource], column: str, dropna: bool = True) -> pd.Series:
    """Rows per value of `column` over the parts (those lacking the column are skipped), a
    batch at a time: as `value_counts` of their concatenation, most frequent first, ties by
    value. `dropna=False` counts missing values too (under a NaN index entry)."""
    parts = list(parts)
    counts = []
    for part in parts:
        if column not in part.columns:
            continue
        counts += [s.value_counts(dropna=dropna) for s in part.series(column) if len(s)]
    if not counts:
        empty = next((p for p in parts if column in p.columns), None)
        first = next(empty.batches([column]), None) if empty is not None else None
        values = first[column] if first is not None else pd.Series([], name=column, dtype=float)
        return values.value_counts(dropna=dropna)
    total = pd.concat(counts).groupby(level=0, dropna=dropna).sum().astype("int64")
    total = total.sort_values(ascending=False, kind="stable")  # (index sorted: ties by value)
    total.index.name = column
    return total.rename("count")


def rows_where(
    parts: Iterable[RatingsSource],
    column: str,
    values: object,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The rows whose `column` is in `values`, a batch at a time (as `frame[frame[column].isin(
    values)]` of the concatenation: the parts' rows in order; a fresh RangeIndex unless they
    are one batch). `columns`: read only these (they must include `column`); None: all."""
    picked = [b[b[column].isin(values)] for p in parts for b in p.batches(columns)]
    if not picked:  # (no parts, or only parts without batches)
        return pd.DataFrame(columns=list(columns or [column]))
    if len(picked) == 1:
        return picked[0]
    return pd.concat(picked, ignore_index=True)
