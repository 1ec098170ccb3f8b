"""Ratings as Parquet part files that must be read a batch at a time (tests' helpers).

`NoFrame` is a `RatingFiles` whose `frame()` fails the test, so code that quietly loads a part
whole (what the Spark engine's steps did before: ~600 MB of frames at 25M ratings) fails; with
`ratings_source.BATCH_ROWS` patched small, batches never line up with the files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from movie_roulette.ratings_source import RatingFiles


class NoFrame(RatingFiles):
    def frame(self) -> pd.DataFrame:
        raise AssertionError(f"{self.path} was loaded whole; it must be read a batch at a time")


def as_files(
    tmp_path: Path, frame: pd.DataFrame, name: str, cls: type[RatingFiles] = NoFrame
) -> RatingFiles:
    """`frame` as three Parquet files (row order kept), read back as `cls`."""
    folder = tmp_path / name
    folder.mkdir()
    paths = []
    for k, rows in enumerate(np.array_split(np.arange(len(frame)), 3)):
        path = folder / f"part-{k}.parquet"
        table = pa.Table.from_pandas(frame.iloc[rows], preserve_index=False)
        pq.write_table(table, path)
        paths.append(str(path))
    return cls.of(str(folder), paths)
