"""Seeded samples of users: the blend-weight search's validation users and the offline
evaluation's test users (how both stay affordable at scale)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from movie_roulette import columns as C
from movie_roulette.ratings_source import Part, as_source, distinct_values, rows_where


def sample_users(users: np.ndarray, max_users: int | None, seed: int) -> np.ndarray:
    """A seeded sample of at most `max_users` users (sorted); all of them for None."""
    users = np.unique(np.asarray(users, np.int64))
    if max_users is not None and len(users) > max_users:
        users = np.sort(np.random.default_rng(seed).choice(users, max_users, replace=False))
    return users


def sample_user_rows(rows: Part, max_users: int | None, seed: int) -> pd.DataFrame:
    """Every row of a seeded sample of at most `max_users` users (all rows, unchanged, when
    None or when there are no more users than that). The same seed and rows give the same
    sample, so a candidate and production are judged on the same users. `rows` may be a
    `RatingsSource` (e.g. the test split's files at 25M ratings): two passes a batch at a time,
    one for the users and one for the sampled users' rows, so only those rows are held."""
    if max_users is not None and max_users < 1:
        raise ValueError(f"max_users: {max_users} must be at least 1 (or None for every user).")
    source = as_source(rows)
    if C.USER_ID not in source.columns:
        raise ValueError(
            f"rows: no '{C.USER_ID}' column (columns: {list(source.columns)}); "
            "pass ratings with user_id, movie_id and rating."
        )
    users = distinct_values([source], C.USER_ID) if max_users is not None else None
    if users is None or len(users) <= max_users:
        return rows if isinstance(rows, pd.DataFrame) else source.frame()
    chosen = sample_users(users, max_users, seed)
    return rows_where([source], C.USER_ID, chosen).reset_index(drop=True)
