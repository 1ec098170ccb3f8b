"""The served model: the evaluated recipe refitted on every rating.

Evaluation needs a holdout: the model that is measured is fitted on train (+ valid) and scored on
the test split it never saw. The model that is registered and served must not miss those test
ratings (it would recommend movies the user already rated), so after evaluation the same recipe
(components' hyperparameters, blend weights, rating stack) is refitted on train + valid + test.
The metrics stay those of the holdout model; `FitRecord`s say what each fit saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from movie_roulette import columns as C
from movie_roulette.fingerprint import frames_checksum
from movie_roulette.models.hybrid import HybridRecommender
from movie_roulette.models.hybrid.training import FitScope, no_scope
from movie_roulette.models.indexing import union_ids

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


def fit_record(data: str, ratings: pd.DataFrame | Sequence[pd.DataFrame]) -> FitRecord:
    """The record of a fit on `ratings`, or on the concatenation of several frames (computed
    without building it, as the refit on them is)."""
    if isinstance(ratings, pd.DataFrame):
        frames = [ratings]
    else:
        frames = [f for f in ratings if len(f)] or list(ratings[:1])
        if not frames:
            raise ValueError(f"fit_record({data!r}): no frame given.")
    if len(frames) > 1 and not _same_dtypes(frames):  # (then their rows would hash otherwise)
        frames = [pd.concat([f[_COLUMNS] for f in frames], ignore_index=True)]
    return FitRecord(
        data=data,
        ratings_sha256=frames_checksum(frames, columns=_COLUMNS),
        rows=sum(len(f) for f in frames),
        users=_distinct(frames, C.USER_ID),
        movies=_distinct(frames, C.MOVIE_ID),
    )


def _same_dtypes(frames: list[pd.DataFrame]) -> bool:
    """Whether the frames' rating columns share dtypes: then their rows hash as their
    concatenation's do (`frames_checksum`)."""
    return len({tuple(str(f[c].dtype) for c in _COLUMNS) for f in frames}) <= 1


def _distinct(frames: list[pd.DataFrame], column: str) -> int:
    return len(union_ids([f[column].to_numpy() for f in frames]))


def all_ratings(train: pd.DataFrame, valid: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
    """train + valid + test (user_id, movie_id, rating); a pair rated twice keeps the last."""
    frames = [f[_COLUMNS] for f in (train, valid, test) if len(f)]
    everything = pd.concat(frames, ignore_index=True) if frames else train[_COLUMNS]
    if not _has_duplicate_pairs([everything]):  # the usual case: the splits are disjoint
        return everything
    return everything.drop_duplicates([C.USER_ID, C.MOVIE_ID], keep="last").reset_index(drop=True)


def _has_duplicate_pairs(frames: list[pd.DataFrame]) -> bool:
    """Whether a (user, movie) pair occurs twice in the frames, from one sorted int64 key per
    row (8 bytes a row, where pandas' drop_duplicates hashes both columns: ~1 GB at 25M
    ratings). Ids outside 0..2^31 answer True (drop_duplicates then decides)."""
    total = sum(len(f) for f in frames)
    if total < 2:
        return False
    key = np.empty(total, np.int64)
    start = 0
    for frame in frames:
        users = frame[C.USER_ID].to_numpy(np.int64)
        movies = frame[C.MOVIE_ID].to_numpy(np.int64)
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
    train: pd.DataFrame,
    valid: pd.DataFrame,
    test: pd.DataFrame,
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
    frames = [f for f in (train, valid, test) if len(f)]
    if _has_duplicate_pairs(frames):  # (the rare case: a pair's last rating is kept)
        everything = all_ratings(train, valid, test)
        served = fit_record(SERVED_DATA, everything)
        with fit_scope(("train", "valid", "test")):
            model.refit(everything, catalogue)
    else:  # disjoint splits: fitted as their concatenation, not built (600 MB at 25M)
        served = fit_record(SERVED_DATA, frames)
        with fit_scope(("train", "valid", "test")):
            model.refit(frames, catalogue)
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
