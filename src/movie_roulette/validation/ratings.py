"""Expectation suite for the ratings frame."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from movie_roulette import columns as C
from movie_roulette.validation.report import ValidationReport, make_result
from movie_roulette.validation.runner import Expect, expect, run_suite
from movie_roulette.validation.types import INTEGER_TYPES, NUMERIC_TYPES

EARLIEST_TIMESTAMP = int(pd.Timestamp("1990-01-01", tz="UTC").timestamp())
PARSED_TIMESTAMP = f"{C.TIMESTAMP}_as_unix_seconds"


def _grid(low: float, high: float, step: float) -> list[float]:
    n = int(round((high - low) / step))
    return sorted({round(low + i * step, 10) for i in range(n + 1)})


def _as_unix_seconds(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        utc = values.dt.tz_localize("UTC") if values.dt.tz is None else values.dt.tz_convert("UTC")
        return (utc - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
    return pd.to_numeric(values, errors="coerce")


def _timestamp_parse_check(values: pd.Series, parsed: pd.Series) -> dict[str, Any]:
    bad = values.notna() & parsed.isna()
    n_bad = int(bad.sum())
    return make_result(
        "expect_column_values_to_be_parseable_as_unix_seconds",
        [C.TIMESTAMP],
        n_bad == 0,
        observed=str(values.dtype),
        unexpected_count=n_bad,
        unexpected_percent=100.0 * n_bad / len(values) if len(values) else 0.0,
        unexpected_examples=values[bad].head(5).tolist(),
        custom=True,
    )


def validate_ratings(
    df: pd.DataFrame,
    rating_scale: tuple[float, float] = (0.5, 5.0),
    rating_step: float | None = 0.5,
    *,
    user_col: str = C.USER_ID,
    movie_col: str = C.MOVIE_ID,
    rating_col: str = C.RATING,
    timestamp_col: str = C.TIMESTAMP,
) -> ValidationReport:
    """Check a ratings frame: columns, types, nulls, rating scale/grid, unique pairs, timestamps.

    Timestamps must be unix seconds between 1990-01-01 and now + 1 day. Non-numeric timestamp
    columns fail the type check; values that cannot be parsed as numbers fail a custom check.
    """
    low, high = rating_scale
    if not low < high:
        raise ValueError(f"rating_scale: {rating_scale} must be (low, high) with low < high.")
    if rating_step is not None and rating_step <= 0:
        raise ValueError(f"rating_step: {rating_step} must be positive or None.")
    frame = df
    required = [user_col, movie_col, rating_col, timestamp_col]
    present = [c for c in required if c in df.columns]
    exps: list[Expect] = [expect("ExpectTableRowCountToBeBetween", min_value=1)]
    exps += [expect("ExpectColumnToExist", column=c) for c in required]
    extras: list[dict[str, Any]] = []
    for col in present:
        types = NUMERIC_TYPES if col == rating_col else INTEGER_TYPES
        exps.append(expect("ExpectColumnValuesToBeInTypeList", column=col, type_list=types))
        exps.append(expect("ExpectColumnValuesToNotBeNull", column=col))
    if rating_col in present and pd.api.types.is_numeric_dtype(df[rating_col]):
        exps.append(
            expect(
                "ExpectColumnValuesToBeBetween", column=rating_col, min_value=low, max_value=high
            )
        )
        if rating_step is not None:
            exps.append(
                expect(
                    "ExpectColumnValuesToBeInSet",
                    column=rating_col,
                    value_set=_grid(low, high, rating_step),
                )
            )
    if user_col in present and movie_col in present:
        exps.append(expect("ExpectCompoundColumnsToBeUnique", column_list=[user_col, movie_col]))
    if timestamp_col in present:
        ts = df[timestamp_col]
        latest = int(time.time()) + 86_400
        ts_column = timestamp_col
        if not (pd.api.types.is_numeric_dtype(ts) and not pd.api.types.is_bool_dtype(ts)):
            parsed = _as_unix_seconds(ts)
            extras.append(_timestamp_parse_check(ts, parsed))
            frame = df.assign(**{PARSED_TIMESTAMP: parsed})
            ts_column = PARSED_TIMESTAMP
        exps.append(
            expect(
                "ExpectColumnValuesToBeBetween",
                column=ts_column,
                min_value=EARLIEST_TIMESTAMP,
                max_value=latest,
            )
        )
    stats: dict[str, Any] = {}
    if user_col in present and movie_col in present and len(df):
        stats = {
            "users": int(df[user_col].nunique()),
            "movies": int(df[movie_col].nunique()),
        }
    if rating_col in present and pd.api.types.is_numeric_dtype(df[rating_col]) and len(df):
        stats["mean_rating"] = float(np.nanmean(df[rating_col].to_numpy(dtype="float64")))
    return run_suite(frame, "ratings", exps, extras, stats)
