from __future__ import annotations

import pandas as pd
import pytest

from movie_roulette.evaluation.sampling import sample_user_rows


def _rows() -> pd.DataFrame:
    users = [u for u in range(1, 101) for _ in range(3)]
    return pd.DataFrame({"user_id": users, "movie_id": range(len(users)), "rating": 4.0})


def test_a_sample_keeps_every_row_of_the_chosen_users_and_is_seeded() -> None:
    rows = _rows()
    sample = sample_user_rows(rows, 10, seed=1)
    assert sample["user_id"].nunique() == 10 and len(sample) == 30
    assert sample.equals(sample_user_rows(rows, 10, seed=1))
    assert set(sample["user_id"]) != set(sample_user_rows(rows, 10, seed=2)["user_id"])


def test_no_limit_or_a_limit_above_the_users_keeps_the_rows_as_they_are() -> None:
    rows = _rows()
    assert sample_user_rows(rows, None, seed=0) is rows
    assert sample_user_rows(rows, 100, seed=0) is rows
    with pytest.raises(ValueError, match="max_users"):
        sample_user_rows(rows, 0, seed=0)


def test_a_sample_from_files_is_the_frames_sample_and_loads_only_its_rows(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The test split's files at 25M (sample_test_users): read in batches, never whole."""
    import numpy as np

    from movie_roulette import ratings_source
    from tests.unit.rating_files import as_files

    monkeypatch.setattr(ratings_source, "BATCH_ROWS", 7)
    rows = _rows().sample(frac=1.0, random_state=3).reset_index(drop=True)  # users interleaved
    files = as_files(tmp_path, rows, "test")
    for seed in (1, 2):
        from_files = sample_user_rows(files, 10, seed=seed)
        pd.testing.assert_frame_equal(from_files, sample_user_rows(rows, 10, seed=seed))
        assert from_files["user_id"].nunique() == 10 and len(from_files) == 30
        assert isinstance(from_files.index, pd.RangeIndex)
    assert not np.array_equal(
        sample_user_rows(files, 10, seed=1)["user_id"].unique(),
        sample_user_rows(files, 10, seed=2)["user_id"].unique(),
    )
    with pytest.raises(ValueError, match="no 'user_id' column"):
        sample_user_rows(as_files(tmp_path, rows[["movie_id"]], "bad"), 10, seed=1)
