"""frame_checksum hashes rows a chunk at a time: the digest must not depend on the chunk."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from movie_roulette.fingerprint import frame_checksum


def _whole_frame_digest(frame: pd.DataFrame) -> str:
    """The definition: SHA-256 of the column names, then every row's hash (index not hashed)."""
    digest = hashlib.sha256("|".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


@pytest.fixture
def ratings() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "user_id": rng.integers(1, 50, 1_001),
            "movie_id": rng.integers(1, 300, 1_001),
            "rating": rng.integers(1, 11, 1_001) / 2.0,
            "title": [f"movie {i}" for i in range(1_001)],
        },
        index=np.arange(1_001) * 3,  # not a range index: the index is not hashed
    )


@pytest.mark.parametrize("chunk_rows", [1, 7, 1_000, 1_001, 1 << 20])
def test_checksum_is_the_same_for_any_chunk_size(ratings: pd.DataFrame, chunk_rows: int) -> None:
    assert frame_checksum(ratings, chunk_rows=chunk_rows) == _whole_frame_digest(ratings)


def test_checksum_of_some_columns_equals_that_of_the_selected_frame(ratings: pd.DataFrame) -> None:
    columns = ["user_id", "movie_id", "rating"]
    expected = _whole_frame_digest(ratings[columns].reset_index(drop=True))
    assert frame_checksum(ratings, columns=columns, chunk_rows=10) == expected
    assert frame_checksum(ratings, columns=columns[::-1]) != expected  # the order counts


def test_checksum_sees_a_changed_row_and_the_row_order(ratings: pd.DataFrame) -> None:
    base = frame_checksum(ratings, chunk_rows=100)
    changed = ratings.copy()
    changed.iloc[777, 2] = 0.5 if changed.iloc[777, 2] != 0.5 else 1.0
    assert frame_checksum(changed, chunk_rows=100) != base
    assert frame_checksum(ratings.iloc[::-1], chunk_rows=100) != base


def test_checksum_of_an_empty_frame_is_that_of_its_column_names() -> None:
    empty = pd.DataFrame({"user_id": pd.Series([], dtype="int64")})
    assert frame_checksum(empty) == hashlib.sha256(b"user_id").hexdigest()
