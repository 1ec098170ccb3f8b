"""The catalogue's materializer stores statistics even when a column has no value at all (ZenML's
own pandas materializer fails on those and logs a warning instead; storing and loading are
ZenML's, exercised by every pipeline test)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from zenml.integrations.pandas.materializers.pandas_materializer import PandasMaterializer

from materializers.catalogue_materializer import CatalogueMaterializer


def _catalogue() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "movie_id": [1, 2, 3],
            "title": ["A", "B", "C"],
            "runtime": pd.array([pd.NA] * 3, dtype="Int64"),  # the TMDB join was off
            "vote_average": [float("nan")] * 3,
        }
    )


def test_all_missing_columns_are_left_out_of_the_statistics_only(tmp_path: Path) -> None:
    frame = _catalogue()
    with pytest.raises(TypeError):  # the failure this materializer exists for
        PandasMaterializer(str(tmp_path / "zenml")).extract_metadata(frame)
    metadata = CatalogueMaterializer(str(tmp_path / "ours")).extract_metadata(frame)
    assert metadata["shape"] == (3, 4)
    assert metadata["all_missing_columns"] == ["runtime", "vote_average"]
    assert metadata["mean"] == {"movie_id": 2.0}
    complete = frame[["movie_id", "title"]]
    assert "all_missing_columns" not in CatalogueMaterializer(str(tmp_path)).extract_metadata(
        complete
    )
