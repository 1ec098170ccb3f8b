"""Ratings rows as dense indices sorted by (user, movie): what every fit starts from.

Several parts (the pipeline's train, valid and test splits) are indexed exactly as their
concatenation would be, without building it: at 25M ratings a concatenated (user, movie,
rating) frame is 600 MB that the fit does not need. Parts read a batch at a time (Parquet files:
`index_streamed`) are indexed without ever holding their frames: two passes over the batches,
one for the distinct ids, one writing each row's indices. Pure numpy; `models.base` checks the
frames and reads the batches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class IndexedRows:
    """Rows over `user_ids` x `movie_ids` (sorted unique ids, so index order is id order),
    sorted by (user, movie); rows of an equal pair keep the order of the parts."""

    user_idx: np.ndarray  # int64
    movie_idx: np.ndarray  # int64
    rating: np.ndarray
    user_ids: np.ndarray
    movie_ids: np.ndarray


def index_rows(
    users: Sequence[np.ndarray], movies: Sequence[np.ndarray], ratings: Sequence[np.ndarray]
) -> IndexedRows:
    """Index the parts' rows as one concatenated table (part i's arrays are users[i],
    movies[i], ratings[i]). One part's arrays are shared where no sort is needed, not copied."""
    if not (len(users) == len(movies) == len(ratings)) or not users:
        raise ValueError("index_rows: give as many user, movie and rating arrays, at least one.")
    user_ids, movie_ids = union_ids(users), union_ids(movies)
    u = _positions(user_ids, users)
    i = _positions(movie_ids, movies)
    rated = ratings[0] if len(ratings) == 1 else np.concatenate(ratings)
    return _in_pair_order(u, i, rated, user_ids, movie_ids)


def index_streamed(
    ids: Callable[[], Iterable[tuple[np.ndarray, np.ndarray]]],
    rows: Callable[[], Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]]],
    total: int,
) -> IndexedRows:
    """`index_rows` of rows given a batch at a time: `ids()` yields each batch's (users,
    movies), `rows()` the same batches' (users, movies, ratings), `total` rows in all. Holds
    the distinct ids and the indexed rows (24 bytes a row), never the batches together. A batch
    whose ids the first pass did not see, or rows that do not add up to `total`, mean the
    parts changed between the passes: ValueError."""
    users: list[np.ndarray] = []
    movies: list[np.ndarray] = []
    for batch_users, batch_movies in ids():
        users.append(np.unique(batch_users))
        movies.append(np.unique(batch_movies))
    if not users:
        raise ValueError("index_streamed: no rows given.")
    user_ids, movie_ids = union_ids(users), union_ids(movies)
    del users, movies
    u = np.empty(total, np.int64)
    i = np.empty(total, np.int64)
    rated: np.ndarray | None = None
    start = 0
    for batch_users, batch_movies, batch_ratings in rows():
        end = start + len(batch_users)
        if end > total:
            raise ValueError(f"index_streamed: more than the {total:,} rows announced were read.")
        u[start:end] = _known_positions(user_ids, batch_users, "user")
        i[start:end] = _known_positions(movie_ids, batch_movies, "movie")
        if rated is None:
            rated = np.empty(total, np.asarray(batch_ratings).dtype)
        rated[start:end] = batch_ratings
        start = end
    if start != total or rated is None:
        raise ValueError(f"index_streamed: {start:,} rows read, {total:,} announced.")
    return _in_pair_order(u, i, rated, user_ids, movie_ids)


def _known_positions(ids: np.ndarray, values: np.ndarray, what: str) -> np.ndarray:
    positions = np.searchsorted(ids, values)
    found = ids[np.minimum(positions, len(ids) - 1)] == values
    if not found.all():
        value = values[int(np.flatnonzero(~found)[0])]
        raise ValueError(
            f"index_streamed: {what} {value} was not in the first pass over the rows: they "
            "changed while being read; read them again."
        )
    return positions


def _in_pair_order(
    u: np.ndarray, i: np.ndarray, rated: np.ndarray, user_ids: np.ndarray, movie_ids: np.ndarray
) -> IndexedRows:
    if not sorted_pairs(u, i):  # (already sorted: a stable sort would not move a row)
        order = np.lexsort((i, u))  # stable: equal pairs keep the parts' order
        # one column at a time: each old column is freed before the next is reordered
        u = u[order]
        i = i[order]
        rated = rated[order]
        del order
    return IndexedRows(u, i, rated, user_ids, movie_ids)


def sorted_pairs(u: np.ndarray, i: np.ndarray) -> bool:
    """Whether (u, i) pairs are in ascending order (u first): true of frames collected sorted,
    which then skip the lexsort and the three copies it makes."""
    if len(u) < 2:
        return True
    du = np.diff(u)
    if (du < 0).any():
        return False
    return bool(((du > 0) | (i[1:] >= i[:-1])).all())


def union_ids(parts: Sequence[np.ndarray]) -> np.ndarray:
    """The sorted distinct values of the parts together (no concatenated copy of them)."""
    if len(parts) == 1:
        return np.unique(parts[0])
    return np.unique(np.concatenate([np.unique(p) for p in parts]))


def _positions(ids: np.ndarray, parts: Sequence[np.ndarray]) -> np.ndarray:
    """Each value's index in `ids`, the parts one after the other (no concatenated copy of
    the values: one part's positions at a time are written into the result)."""
    if len(parts) == 1:
        return np.searchsorted(ids, parts[0])
    out = np.empty(sum(len(p) for p in parts), np.int64)
    start = 0
    for part in parts:
        out[start : start + len(part)] = np.searchsorted(ids, part)
        start += len(part)
    return out


__all__ = ["IndexedRows", "index_rows", "index_streamed", "sorted_pairs", "union_ids"]
