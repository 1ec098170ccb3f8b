"""ZenML's pandas materializer for the catalogue, minus one failure: its `extract_metadata`
takes `float()` of every numeric column's mean, which is None for a column with no value at all
(the TMDB columns, Int64, when the TMDB join is off, as on MovieLens 25M), so it logged "Failed
to extract materializer metadata" and stored no statistics. Here the all-missing columns are
left out of the statistics. Stored as zstd Parquet (`FrameMaterializer`)."""

from __future__ import annotations

from typing import Any, ClassVar

import pandas as pd

from materializers.frame_materializer import FrameMaterializer


class CatalogueMaterializer(FrameMaterializer):
    SKIP_REGISTRATION: ClassVar[bool] = True  # only where a step names it, not every DataFrame

    def extract_metadata(self, df: pd.DataFrame | pd.Series) -> dict[str, Any]:
        if isinstance(df, pd.Series):
            return super().extract_metadata(df)
        has_values = df.notna().any()
        if has_values.all():
            return super().extract_metadata(df)
        present = df.loc[:, has_values]
        metadata = super().extract_metadata(present)
        metadata["shape"] = df.shape
        metadata["all_missing_columns"] = [str(c) for c in df.columns[~has_values.to_numpy()]]
        return metadata
