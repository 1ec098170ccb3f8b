"""The ratings a model was fitted on, held as the frames they came in (train, valid).

The evaluation, the behavioural checks, the model card and the promotion need a model's
training ratings ("seen": what its recommendations must exclude and what the popularity and
history figures count). The final model is fitted on train + valid, and concatenating the two
copied every training rating once per step (~0.7 GB at 25M ratings). `SeenRatings` answers
what those steps ask (lengths, per-movie counts, distinct ids, some users' rows, the checksum)
from the parts, as the concatenation would, without building it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from movie_roulette.fingerprint import frames_checksum


@dataclass(frozen=True)
class SeenRatings:
    """Rating frames read as their concatenation (in order), never concatenated."""

    frames: tuple[pd.DataFrame, ...]

    def __post_init__(self) -> None:
        if not self.frames:
            raise ValueError("SeenRatings: give at least one ratings frame.")

    @classmethod
    def of(cls, ratings: SeenRatings | pd.DataFrame | Sequence[pd.DataFrame]) -> SeenRatings:
        if isinstance(ratings, SeenRatings):
            return ratings
        if isinstance(ratings, pd.DataFrame):
            return cls((ratings,))
        return cls(tuple(ratings))

    def __len__(self) -> int:
        return sum(len(f) for f in self.frames)

    @property
    def empty(self) -> bool:
        return len(self) == 0

    def missing(self, columns: Sequence[str]) -> list[str]:
        """The `columns` some part lacks."""
        return [c for c in columns if any(c not in f.columns for f in self.frames)]

    def value_counts(self, column: str) -> pd.Series:
        """Rows per value of `column` (NaN not counted), most frequent first (as `value_counts`
        of the concatenation; ties between parts' values by value)."""
        parts = [f[column].value_counts() for f in self.frames if len(f)]
        if not parts:
            return self.frames[0][column].value_counts()
        if len(parts) == 1:
            return parts[0]
        counts = pd.concat(parts).groupby(level=0).sum().astype("int64")
        counts = counts.sort_values(ascending=False, kind="stable")  # (index sorted: ties by value)
        counts.index.name = column
        return counts.rename("count")

    def unique(self, column: str) -> np.ndarray:
        """The distinct non-missing values of `column`, sorted."""
        values = [f[column].dropna().unique() for f in self.frames if len(f)]
        if not values:
            return np.empty(0, self.frames[0][column].to_numpy().dtype)
        return np.unique(np.concatenate([np.asarray(v) for v in values]))

    def nunique(self, column: str) -> int:
        return int(self.unique(column).size)

    def max(self, column: str) -> Any:
        highs = [f[column].max() for f in self.frames if len(f)]
        highs = [v for v in highs if pd.notna(v)]
        return max(highs) if highs else np.nan

    def rows_of(self, column: str, values: Any) -> pd.DataFrame:
        """The rows whose `column` is in `values` (as `frame[frame[column].isin(values)]` of
        the concatenation: the parts' rows in order, a fresh RangeIndex)."""
        picked = [f[f[column].isin(values)] for f in self.frames]
        if len(picked) == 1:
            return picked[0]
        return pd.concat(picked, ignore_index=True)

    def checksum(self) -> str:
        """`frame_checksum` of the concatenation (`fingerprint.frames_checksum`)."""
        return frames_checksum(self.frames)

    def frame(self) -> pd.DataFrame:
        """The concatenation itself (a copy of every row: for small data and for callers that
        need one frame, such as fitting a single component in a benchmark)."""
        if len(self.frames) == 1:
            return self.frames[0]
        return pd.concat(self.frames, ignore_index=True)


def seen_ratings(
    train: pd.DataFrame, valid: pd.DataFrame, refit_on_train_and_valid: bool
) -> SeenRatings:
    """The ratings the final model was fitted on (what recommendations must exclude): train and
    valid when the recipe refits on both, else train."""
    return SeenRatings((train, valid) if refit_on_train_and_valid else (train,))
