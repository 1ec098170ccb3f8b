"""Data frames are stored as zstd Parquet (ZenML's pandas materializer writes gzip: 46x slower to
write at 25M ratings, docs/scale.md 6i) and read back equal; artifacts ZenML's materializer wrote
before still load."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from zenml.integrations.pandas.materializers.pandas_materializer import PandasMaterializer

from materializers.catalogue_materializer import CatalogueMaterializer
from materializers.frame_materializer import FILENAME, FrameMaterializer, describe
from materializers.local_files import LocalFiles
from movie_roulette.evaluation.seen import SeenRatings
from movie_roulette.fingerprint import frame_checksum
from movie_roulette.ratings_source import RatingFiles, RatingsSource

ROOT = Path(__file__).resolve().parents[2]


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


@pytest.mark.parametrize("writer", [FrameMaterializer, PandasMaterializer])
def test_a_step_input_typed_ratings_source_gets_the_file_not_the_frame(tmp_path, writer) -> None:
    """The judging steps (evaluate, behaviour, card, promotion) read train and valid a batch at
    a time (`RatingsSource`): the file, ours or ZenML's (gzip), never loaded whole."""
    frame = _ratings()
    frame.index = frame.index * 2 + 1  # (a split's index: stored in the file, not a column)
    uri = str(tmp_path / "part")
    writer(uri, artifact_store=LocalFiles()).save(frame)
    source = FrameMaterializer(uri, artifact_store=LocalFiles()).load(RatingsSource)
    assert isinstance(source, RatingFiles) and len(source) == len(frame)
    assert source.columns == tuple(frame.columns)
    pd.testing.assert_frame_equal(source.frame(), frame.reset_index(drop=True))
    assert SeenRatings.of(source).checksum() == frame_checksum(frame)
    assert FrameMaterializer.can_load_type(RatingsSource)


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


def _mixed() -> pd.DataFrame:
    frame = _ratings()
    frame["liked"] = frame["rating"] >= 4.0
    frame["year"] = pd.array([None if i % 7 == 0 else 1990 + i % 30 for i in range(500)], "Int64")
    frame["title"] = [f"movie {i}" for i in range(500)]
    return frame


def test_statistics_computed_a_column_at_a_time_are_zenmls(tmp_path: Path) -> None:
    frame = _mixed()
    ours = FrameMaterializer(str(tmp_path / "a")).extract_metadata(frame)
    zenml = PandasMaterializer(str(tmp_path / "b")).extract_metadata(frame)
    assert ours.keys() == zenml.keys()
    assert ours["shape"] == zenml["shape"]
    assert {c: str(t) for c, t in ours["dtype"].items()} == {
        c: str(t) for c, t in zenml["dtype"].items()
    }
    for stat in ("mean", "std", "min", "max"):
        assert ours[stat].keys() == zenml[stat].keys()
        for column, value in zenml[stat].items():
            assert ours[stat][column] == pytest.approx(value, rel=1e-12), (stat, column)


def test_the_describe_visualization_is_zenmls_and_the_sample_too(tmp_path: Path) -> None:
    frame = _mixed()
    ours = FrameMaterializer(str(tmp_path / "a"), artifact_store=LocalFiles())
    zenml = PandasMaterializer(str(tmp_path / "b"), artifact_store=LocalFiles())
    assert len(ours.save_visualizations(frame)) == len(zenml.save_visualizations(frame)) == 2
    for name in ("describe.csv", "sample.csv"):
        assert (tmp_path / "a" / name).read_text() == (tmp_path / "b" / name).read_text(), name
    pd.testing.assert_frame_equal(describe(frame), frame.describe())


def test_statistics_of_a_large_frame_hold_about_two_columns_not_the_whole_frame() -> None:
    """ZenML's whole-frame std / describe convert the integer columns together (~1.45x the
    frame); a column at a time needs about two columns. Measured in a fresh process."""
    script = """
import numpy as np, pandas as pd, sys
from materializers.frame_materializer import FrameMaterializer, describe
n = 4_000_000
frame = pd.DataFrame({c: np.arange(n, dtype=np.int64) for c in ("a", "b", "c", "d")})
def hwm():
    return int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) // 1024
open("/proc/self/clear_refs", "w").write("5")
base = hwm()
FrameMaterializer("/nonexistent").extract_metadata(frame)
describe(frame)
print(hwm() - base)
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True
    )
    above = int(out.stdout.split()[-1])
    column_mb = 4_000_000 * 8 / 2**20  # 30.5 MB; the frame is 122 MB
    assert above <= 2.6 * column_mb, f"{above} MB above the frame (one column is {column_mb:.0f})"
