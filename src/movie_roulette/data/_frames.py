"""Column coercions shared by the review frames of every source."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from movie_roulette import columns as C

REVIEW_TEXT_FIELDS = (C.REVIEW_ID, C.AUTHOR, C.REVIEW_TITLE, C.REVIEW_TEXT, C.REVIEW_DATE)


def as_text(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """Missing values become "", everything else str (in place; returns the frame)."""
    for col in columns:
        frame[col] = frame[col].astype(object).where(frame[col].notna(), "").astype(str)
    return frame


def fetched_reviews_frame(
    rows: list[dict[str, Any]], columns: Sequence[str], id_column: str, id_dtype: str
) -> pd.DataFrame:
    """Reviews parsed from a live source (TMDB API, IMDb pages), one row per review id."""
    frame = pd.DataFrame(rows, columns=list(columns))
    frame[id_column] = frame[id_column].astype(id_dtype)
    frame[C.RATING] = pd.to_numeric(frame[C.RATING]).astype("float64")
    as_text(frame, REVIEW_TEXT_FIELDS)
    return frame.drop_duplicates(C.REVIEW_ID).reset_index(drop=True)


def coerce_reviews(frame: pd.DataFrame) -> pd.DataFrame:
    """The review frame contract (columns.REVIEW_COLUMNS types), in place; returns the frame."""
    frame[C.MOVIE_ID] = frame[C.MOVIE_ID].astype("int64")
    frame[C.USER_ID] = pd.to_numeric(frame[C.USER_ID], errors="coerce").astype("Int64")
    frame[C.RATING] = pd.to_numeric(frame[C.RATING], errors="coerce").astype("float64")
    return as_text(frame, (*REVIEW_TEXT_FIELDS, C.REVIEW_SOURCE))
