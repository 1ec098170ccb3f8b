"""The served model: the evaluated recipe refitted on every rating.

Evaluation needs a holdout: the model that is measured is fitted on train (+ valid) and scored on
the test split it never saw. The model that is registered and served must not miss those test
ratings (it would recommend movies the user already rated), so after evaluation the same recipe
(components' hyperparameters, blend weights, rating stack) is refitted on train + valid + test.
The metrics stay those of the holdout model; `FitRecord`s say what each fit saw.

The parts may be frames or `RatingsSource`s (the Spark engine's part files): records, the
duplicate check and the refit then read them a batch at a time, so the served refit never
holds the rating frames (600 MB at 25M), except in the rare case of a pair rated in two parts.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from movie_roulette import columns as C
from movie_roulette.fingerprint import frames_checksum
from movie_roulette.models.hybrid import HybridRecommender
from movie_roulette.models.hybrid.training import FitScope, no_scope
from movie_roulette.models.indexing import union_ids
from movie_roulette.ratings_source import Part, RatingsSource, as_source, as_sources

SERVED_DATA = "train+valid+test"  # what the served fit saw
HOLDOUT = "holdout"  # the evaluated model: train (+ valid); its metrics are on the test split
SERVED = "served"  # the registered and served model: every rating
METRICS_NOTE = (
    "metrics are those of the holdout model (fitted on {holdout}, evaluated on the test split); "
    "the registered model is the same recipe refitted on all {rows} ratings"
)
_COLUMNS = [C.USER_ID, C.MOVIE_ID, C.RATING]


@dataclass(frozen=True)
class FitRecord:
    """What one fit saw: a checksum of its (user_id, movie_id, rating) rows and their counts."""

    data: str  # "train", "train+valid", "train+valid+test"
    ratings_sha256: str
    rows: int
    users: int
    movies: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fit_record(data: str, ratings: Part | Sequence[Part]) -> FitRecord:
    """The record of a fit on `ratings`, or on the concatenation of several parts (computed
    in one pass, a batch at a time, without building it, as the refit on them is)."""
    sources = as_sources(ratings)
    parts = [p for p in sources if p.rows] or sources[:1]
    if not parts:
        raise ValueError(f"fit_record({data!r}): no frame given.")
    dtypes = _common_dtypes(parts)  # (parts with other dtypes hash as their concatenation)
    users: list[np.ndarray] = []
    movies: list[np.ndarray] = []

    def batches() -> Iterator[pd.DataFrame]:
        for part in parts:
            for batch in part.batches(_COLUMNS):
                users.append(np.unique(batch[C.USER_ID].to_numpy()))
                movies.append(np.unique(batch[C.MOVIE_ID].to_numpy()))
                yield batch if dtypes is None else batch.astype(dtypes)

    sha256 = frames_checksum(batches(), columns=_COLUMNS)  # (fills users and movies)
    return FitRecord(
        data=data,
        ratings_sha256=sha256,
        rows=sum(p.rows for p in parts),
        users=len(union_ids(users)) if users else 0,
        movies=len(union_ids(movies)) if movies else 0,
    )


def _common_dtypes(parts: list[RatingsSource]) -> dict[str, np.dtype] | None:
    """None when the parts' rating columns share dtypes (then their rows hash as their
    concatenation's do, `frames_checksum`), else the dtypes the concatenation would have."""
    seen = []
    for part in parts:
        first = next(part.batches(_COLUMNS), None)
        if first is not None:
            seen.append(tuple(first[c].dtype for c in _COLUMNS))
    if len(set(seen)) <= 1:
        return None
    return {c: np.result_type(*(d[k] for d in seen)) for k, c in enumerate(_COLUMNS)}


def all_ratings(train: Part, valid: Part, test: Part) -> pd.DataFrame:
    """train + valid + test (user_id, movie_id, rating); a pair rated twice keeps the last.
    Loads the parts as frames (the rare case of a pair in two parts, `refit_for_serving`)."""
    sources = [as_source(f) for f in (train, valid, test)]
    frames = [s.frame()[_COLUMNS] for s in sources if s.rows] or [sources[0].frame()[_COLUMNS]]
    everything = pd.concat(frames, ignore_index=True)
    if not _has_duplicate_pairs([everything]):  # the usual case: disjoint splits
        return everything
    return everything.drop_duplicates([C.USER_ID, C.MOVIE_ID], keep="last").reset_index(drop=True)


def _has_duplicate_pairs(given: Sequence[Part]) -> bool:
    """Whether a (user, movie) pair occurs twice in the parts, from one sorted int64 key per
    row (8 bytes a row, where pandas' drop_duplicates hashes both columns: ~1 GB at 25M
    ratings), read a batch at a time. Ids outside 0..2^31 answer True (drop_duplicates then
    decides)."""
    parts = [as_source(p) for p in given]
    total = sum(p.rows for p in parts)
    if total < 2:
        return False
    key = np.empty(total, np.int64)
    start = 0
    for part in parts:
        for batch in part.batches([C.USER_ID, C.MOVIE_ID]):
            users = batch[C.USER_ID].to_numpy(np.int64)
            movies = batch[C.MOVIE_ID].to_numpy(np.int64)
            if len(users) and (
                min(users.min(), movies.min()) < 0 or max(users.max(), movies.max()) >= 2**31
            ):
                return True
            np.bitwise_or(users << 31, movies, out=key[start : start + len(users)])
            start += len(users)
    key.sort()
    return bool((key[1:] == key[:-1]).any())


def refit_for_serving(
    model: HybridRecommender,
    train: Part,
    valid: Part,
    test: Part,
    catalogue: pd.DataFrame | None,
    refit_on_train_and_valid: bool = True,
    fit_scope: FitScope = no_scope,
) -> tuple[HybridRecommender, dict[str, FitRecord]]:
    """Refit `model` (in place) on every rating, keeping its tuned weights and rating stack.
    `fit_scope` is entered around the refit with the parts it fits (`hybrid.training.FitScope`).

    Returns the model and {"holdout": what the evaluated model saw, "served": what it sees now}.
    """
    if refit_on_train_and_valid and len(valid):
        holdout = fit_record("train+valid", [train, valid])
    else:
        holdout = fit_record("train", train)
    parts = [as_source(f) for f in (train, valid, test) if len(f)]
    if _has_duplicate_pairs(parts):  # (the rare case: a pair's last rating is kept)
        everything = all_ratings(train, valid, test)
        served = fit_record(SERVED_DATA, everything)
        with fit_scope(("train", "valid", "test")):
            model.refit(everything, catalogue)
    else:  # disjoint splits: fitted as their concatenation, not built (600 MB at 25M)
        served = fit_record(SERVED_DATA, parts)
        with fit_scope(("train", "valid", "test")):
            model.refit(parts, catalogue)
    model.fit_info["served_fit"] = served.to_dict()
    model.fit_info["holdout_fit"] = holdout.to_dict()
    return model, {HOLDOUT: holdout, SERVED: served}


def metrics_note(fits: dict[str, FitRecord]) -> str:
    """One sentence saying whose metrics these are (for tags and descriptions)."""
    return METRICS_NOTE.format(holdout=fits[HOLDOUT].data, rows=fits[SERVED].rows)


__all__ = [
    "HOLDOUT",
    "SERVED",
    "FitRecord",
    "all_ratings",
    "fit_record",
    "metrics_note",
    "refit_for_serving",
]
