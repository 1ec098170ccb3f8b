"""Data frames as zstd-compressed Parquet: ZenML's pandas materializer with a fast codec.

ZenML's `PandasMaterializer` writes gzip Parquet. For the rating frames of a large data set that is
most of a step's time: at 25M ratings, 185.9 s to write the ratings frame with gzip against 3.0 s
with zstd, whose file is smaller too (159 against 170 MB), and 1.0 s to read it against 2.15
(`python benchmarks/artifact_io.py --ratings 25000000`, docs/scale.md 6i). Here frames are written
as `df.zstd.parquet`; artifacts written by ZenML's materializer (gzip, before this one) still load.
The dashboard's visualizations (describe, sample) are ZenML's; so are the statistics, minus one
failure: ZenML's `extract_metadata` takes `float()` of every numeric column's mean, which is None
for a column with no value at all (the catalogue's TMDB columns, Int64, when the TMDB join is off,
as on MovieLens 25M), so it logged "Failed to extract materializer metadata" and stored no
statistics. Here the all-missing columns are left out of the statistics and listed.

A step input typed `RatingsSource` gets the artifact's Parquet file to read a batch at a time
(`ratings_source.RatingFiles`), not the frame: the judging steps read train and valid so.

The statistics and the `describe` visualization are ZenML's figures computed one column at a
time: ZenML reduces the whole frame at once (`df.std()`, `df.describe()`), which converts every
integer column together to float64 with temporaries, about 1.45x the frame (~1.15 GB for the
25M-row ratings frame, while the step still holds its other outputs); a column at a time it is
about two columns (~0.4 GB at 25M).
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from zenml.enums import VisualizationType
from zenml.integrations.pandas.materializers.pandas_materializer import (
    DEFAULT_SAMPLE_ROWS,
    PandasMaterializer,
    is_standard_dtype,
)
from zenml.metadata.metadata_types import DType

from movie_roulette.ratings_source import FrameRatings, RatingFiles, RatingsSource

FILENAME = "df.zstd.parquet"
COMPRESSION = "zstd"


class FrameMaterializer(PandasMaterializer):
    # a step input typed `RatingsSource` gets the file to read a batch at a time, not the frame
    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (pd.DataFrame, pd.Series, RatingsSource)
    SKIP_REGISTRATION: ClassVar[bool] = True  # only where a step names it, not every DataFrame

    @property
    def _path(self) -> str:
        return os.path.join(self.uri, FILENAME)

    def load(self, data_type: type[Any]) -> pd.DataFrame | pd.Series | RatingsSource:
        if isinstance(data_type, type) and issubclass(data_type, RatingsSource):
            return self._source()
        if not self.artifact_store.exists(self._path):
            return super().load(data_type)  # written by ZenML's materializer
        with self.artifact_store.open(self._path, mode="rb") as f:
            df = pd.read_parquet(f)
        if issubclass(data_type, pd.Series):
            return df["series"]  # saved as a one-column frame, as ZenML does
        return df

    def _source(self) -> RatingsSource:
        """The frame's Parquet file (ours, or ZenML's gzip one) to read a batch at a time; a
        frame ZenML stored as CSV is loaded."""
        for path in (self._path, self.parquet_path):
            if self.artifact_store.exists(path):
                return RatingFiles.of(
                    self.uri, [path], lambda p: self.artifact_store.open(p, mode="rb")
                )
        return FrameRatings(super().load(pd.DataFrame))

    def extract_metadata(self, df: pd.DataFrame | pd.Series) -> dict[str, Any]:
        if isinstance(df, pd.Series):
            return super().extract_metadata(df)
        metadata: dict[str, Any] = {
            "shape": df.shape,
            "dtype": {str(c): DType(t.type) for c, t in df.dtypes.items()},
        }
        custom: dict[str, str] = {}
        for c, t in df.dtypes.items():
            if not is_standard_dtype(str(t)):
                custom[str(c)] = str(t)
                custom[f"{c}_module"] = t.type.__module__
        if custom:
            metadata["custom_types"] = custom
        missing = [c for c in df.columns if not df[c].notna().any()]
        numeric = [c for c in _numeric_columns(df, reductions=True) if c not in missing]
        for stat in ("mean", "std", "min", "max"):
            metadata[stat] = {str(c): float(getattr(df[c], stat)()) for c in numeric}
        if missing:
            metadata["all_missing_columns"] = [str(c) for c in missing]
        return metadata

    def save_visualizations(self, df: pd.DataFrame | pd.Series) -> dict[str, Any]:
        if isinstance(df, pd.Series) or not _numeric_columns(df, reductions=False):
            return super().save_visualizations(df)
        out = {}
        rows = int(os.environ.get("ZENML_PANDAS_SAMPLE_ROWS", DEFAULT_SAMPLE_ROWS))
        for name, frame in (("describe.csv", describe(df)), ("sample.csv", df.head(rows))):
            uri = os.path.join(self.uri, name).replace("\\", "/")
            with self.artifact_store.open(uri, mode="wb") as f:
                frame.to_csv(f)
            out[uri] = VisualizationType.CSV
        return out

    def save(self, df: pd.DataFrame | pd.Series) -> None:
        if isinstance(df, pd.Series):
            df = df.to_frame(name="series")
        with self.artifact_store.open(self._path, mode="wb") as f:
            df.to_parquet(f, compression=COMPRESSION)


def _numeric_columns(df: pd.DataFrame, reductions: bool) -> list[Any]:
    """The columns pandas reduces with `numeric_only=True` (`reductions`: bool columns too) or
    describes by default (numbers only), chosen on no rows."""
    empty = df.iloc[:0]
    if reductions:
        return [c for c, t in empty.dtypes.items() if pd.api.types.is_numeric_dtype(t)]
    return list(empty.select_dtypes(include=np.number).columns)


def describe(df: pd.DataFrame) -> pd.DataFrame:
    """`df.describe()` for a frame with numeric columns, computed a column at a time."""
    columns = _numeric_columns(df, reductions=False)
    return pd.concat({c: df[c].describe() for c in columns}, axis=1)
