"""A seeded sample of users' rows: how the offline evaluation stays affordable at scale."""

from __future__ import annotations

import numpy as np
import pandas as pd

from movie_roulette import columns as C


def sample_user_rows(rows: pd.DataFrame, max_users: int | None, seed: int) -> pd.DataFrame:
    """Every row of a seeded sample of at most `max_users` users (all rows, unchanged, when
    None or when there are no more users than that). The same seed and rows give the same
    sample, so a candidate and production are judged on the same users."""
    if max_users is not None and max_users < 1:
        raise ValueError(f"max_users: {max_users} must be at least 1 (or None for every user).")
    users = np.unique(rows[C.USER_ID].to_numpy())
    if max_users is None or len(users) <= max_users:
        return rows
    chosen = np.random.default_rng(seed).choice(users, max_users, replace=False)
    return rows[rows[C.USER_ID].isin(chosen)].reset_index(drop=True)
