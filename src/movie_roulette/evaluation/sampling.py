"""Seeded samples of users: the blend-weight search's validation users and the offline
evaluation's test users (how both stay affordable at scale)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from movie_roulette import columns as C


def sample_users(users: np.ndarray, max_users: int | None, seed: int) -> np.ndarray:
    """A seeded sample of at most `max_users` users (sorted); all of them for None."""
    users = np.unique(np.asarray(users, np.int64))
    if max_users is not None and len(users) > max_users:
        users = np.sort(np.random.default_rng(seed).choice(users, max_users, replace=False))
    return users


def sample_user_rows(rows: pd.DataFrame, max_users: int | None, seed: int) -> pd.DataFrame:
    """Every row of a seeded sample of at most `max_users` users (all rows, unchanged, when
    None or when there are no more users than that). The same seed and rows give the same
    sample, so a candidate and production are judged on the same users."""
    if max_users is not None and max_users < 1:
        raise ValueError(f"max_users: {max_users} must be at least 1 (or None for every user).")
    if max_users is None or rows[C.USER_ID].nunique() <= max_users:
        return rows
    chosen = sample_users(rows[C.USER_ID].to_numpy(), max_users, seed)
    return rows[rows[C.USER_ID].isin(chosen)].reset_index(drop=True)
