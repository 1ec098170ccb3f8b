"""Data frames are stored as zstd Parquet (ZenML's pandas materializer writes gzip: 46x slower to
write at 25M ratings, docs/scale.md 6i) and read back equal; artifacts ZenML's materializer wrote
before still load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from zenml.integrations.pandas.materializers.pandas_materializer import PandasMaterializer

from materializers.catalogue_materializer import CatalogueMaterializer
from materializers.frame_materializer import FILENAME, FrameMaterializer
from materializers.local_files import LocalFiles


def _ratings() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "user_id": rng.integers(1, 50, 500),
            "movie_id": rng.integers(1, 80, 500).astype(np.int32),
            "rating": rng.integers(1, 11, 500) / 2.0,
            "timestamp": rng.integers(10**9, 2 * 10**9, 500),
            "split": rng.integers(0, 3, 500).astype(np.int8),
        }
    )


def test_a_frame_is_written_as_zstd_parquet_and_read_back_equal(tmp_path: Path) -> None:
    frame = _ratings()
    uri = str(tmp_path / "artifact")
    FrameMaterializer(uri, artifact_store=LocalFiles()).save(frame)
    path = Path(uri) / FILENAME
    assert {
        c["compression"]
        for c in pq.ParquetFile(path).metadata.to_dict()["row_groups"][0]["columns"]
    } == {"ZSTD"}
    back = FrameMaterializer(uri, artifact_store=LocalFiles()).load(pd.DataFrame)
    pd.testing.assert_frame_equal(back, frame)  # values, dtypes (int8, int32) and index


def test_a_series_round_trips(tmp_path: Path) -> None:
    series = pd.Series([1.5, 2.0, np.nan], name="series")
    uri = str(tmp_path / "artifact")
    FrameMaterializer(uri, artifact_store=LocalFiles()).save(series)
    back = FrameMaterializer(uri, artifact_store=LocalFiles()).load(pd.Series)
    pd.testing.assert_series_equal(back, series)


def test_an_artifact_written_by_zenmls_materializer_still_loads(tmp_path: Path) -> None:
    frame = _ratings()
    uri = str(tmp_path / "old")
    PandasMaterializer(uri, artifact_store=LocalFiles()).save(frame)  # gzip, its own file name
    assert not (Path(uri) / FILENAME).exists()
    back = FrameMaterializer(uri, artifact_store=LocalFiles()).load(pd.DataFrame)
    pd.testing.assert_frame_equal(back, frame)


def test_the_catalogue_is_stored_the_same_way(tmp_path: Path) -> None:
    catalogue = pd.DataFrame({"movie_id": [1, 2], "title": ["A", "B"]})
    uri = str(tmp_path / "catalogue")
    CatalogueMaterializer(uri, artifact_store=LocalFiles()).save(catalogue)
    assert (Path(uri) / FILENAME).is_file()
    back = CatalogueMaterializer(uri, artifact_store=LocalFiles()).load(pd.DataFrame)
    pd.testing.assert_frame_equal(back, catalogue)


def test_every_frame_skips_all_missing_columns_in_its_statistics(tmp_path: Path) -> None:
    # build_content_features' frame carries the catalogue's empty TMDB columns too
    features = pd.DataFrame(
        {"movie_id": [1, 2], "runtime": pd.array([pd.NA, pd.NA], dtype="Int64"), "text": ["a", ""]}
    )
    metadata = FrameMaterializer(str(tmp_path)).extract_metadata(features)
    assert metadata["all_missing_columns"] == ["runtime"]
    assert metadata["shape"] == (2, 3)
