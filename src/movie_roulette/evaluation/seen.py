"""The ratings a model was fitted on, read from the parts they came in (train, valid).

The evaluation, the behavioural checks, the model card and the promotion need a model's
training ratings ("seen": what its recommendations must exclude and what the popularity and
history figures count). The final model is fitted on train + valid; concatenating the two
copied every training rating once per step (~0.7 GB at 25M ratings), and even loading them
as frames costs as much. `SeenRatings` answers what those steps ask (lengths, per-movie
counts, distinct ids, extremes, some users' rows, the checksum) from the parts, as the
concatenation would, a batch at a time (`ratings_source`): frames in memory, or the Parquet
files the split was written to, which are then never loaded whole.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from movie_roulette.fingerprint import frames_checksum
from movie_roulette.ratings_source import (
    Part,
    RatingsSource,
    as_sources,
    distinct_values,
    rows_where,
    value_counts,
)


@dataclass(frozen=True)
class SeenRatings:
    """Rating parts read as their concatenation (in order), never concatenated."""

    parts: tuple[RatingsSource, ...]

    def __post_init__(self) -> None:
        if not self.parts:
            raise ValueError("SeenRatings: give at least one ratings part.")

    @classmethod
    def of(cls, ratings: SeenRatings | Part | Sequence[Part]) -> SeenRatings:
        if isinstance(ratings, SeenRatings):
            return ratings
        return cls(tuple(as_sources(ratings)))

    def __len__(self) -> int:
        return sum(p.rows for p in self.parts)

    @property
    def empty(self) -> bool:
        return len(self) == 0

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns every part has (in the first part's order)."""
        return tuple(c for c in self.parts[0].columns if not self.missing([c]))

    def missing(self, columns: Sequence[str]) -> list[str]:
        """The `columns` some part lacks."""
        return [c for c in columns if any(c not in p.columns for p in self.parts)]

    def _column(self, column: str) -> Iterator[pd.Series]:
        for part in self.parts:  # (a part without the column: its rows count as missing)
            if column not in part.columns:
                continue
            for values in part.series(column):
                if len(values):
                    yield values

    def value_counts(self, column: str) -> pd.Series:
        """Rows per value of `column` (NaN not counted), most frequent first, ties by value
        (as `value_counts` of the concatenation, with its ties ordered)."""
        return value_counts(self.parts, column)

    def unique(self, column: str) -> np.ndarray:
        """The distinct non-missing values of `column`, sorted."""
        return distinct_values(self.parts, column)

    def nunique(self, column: str) -> int:
        return int(self.unique(column).size)

    def max(self, column: str) -> Any:
        highs = [v for v in (s.max() for s in self._column(column)) if pd.notna(v)]
        return max(highs) if highs else np.nan

    def min(self, column: str) -> Any:
        lows = [v for v in (s.min() for s in self._column(column)) if pd.notna(v)]
        return min(lows) if lows else np.nan

    def rows_of(self, column: str, values: Any) -> pd.DataFrame:
        """The rows whose `column` is in `values` (as `frame[frame[column].isin(values)]` of
        the concatenation: the parts' rows in order; a fresh RangeIndex unless one batch)."""
        return rows_where(self.parts, column, values)

    def checksum(self) -> str:
        """`frame_checksum` of the concatenation (the first part's columns, in order)."""
        names = list(self.parts[0].columns)
        batches = (batch for part in self.parts for batch in part.batches(names))
        return frames_checksum(batches, names)

    def frames(self) -> list[pd.DataFrame]:
        """Each part as one frame (a full load: for a refit that needs the rows)."""
        return [p.frame() for p in self.parts]

    def frame(self) -> pd.DataFrame:
        """The concatenation itself (a copy of every row: for small data and for callers that
        need one frame, such as fitting a single component in a benchmark)."""
        frames = self.frames()
        if len(frames) == 1:
            return frames[0]
        return pd.concat(frames, ignore_index=True)


def seen_ratings(train: Part, valid: Part, refit_on_train_and_valid: bool) -> SeenRatings:
    """The ratings the final model was fitted on (what recommendations must exclude): train and
    valid when the recipe refits on both, else train."""
    return SeenRatings.of((train, valid) if refit_on_train_and_valid else (train,))
