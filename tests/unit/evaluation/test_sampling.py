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
