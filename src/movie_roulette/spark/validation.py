"""The ratings expectation suite run by Great Expectations on the Spark DataFrame itself.

The same checks as `validation.ratings.validate_ratings` (columns, types, nulls, rating scale
and half-star grid, unique (user, movie) pairs, plausible unix-second timestamps), through GX
1.x's Spark data source: GX computes them as Spark jobs, nothing is collected to pandas. The
rows that `spark.prep.clean_ratings` could not type are reported as a failed custom check (they
were dropped before GX saw the frame); duplicates it removed are reported in the statistics.
"""

from __future__ import annotations

import time
from typing import Any

from pyspark.sql import DataFrame

from movie_roulette import columns as C
from movie_roulette.spark.prep import PrepStats, counts
from movie_roulette.spark.session import spark_errors
from movie_roulette.validation.ratings import EARLIEST_TIMESTAMP
from movie_roulette.validation.report import ValidationReport, make_result
from movie_roulette.validation.runner import Expect, expect, run_suite

# Spark SQL type names as GX's expect_column_values_to_be_in_type_list sees them
SPARK_INTEGER_TYPES = ["ByteType", "ShortType", "IntegerType", "LongType"]
SPARK_NUMERIC_TYPES = [*SPARK_INTEGER_TYPES, "FloatType", "DoubleType", "DecimalType"]


def _grid(low: float, high: float, step: float) -> list[float]:
    n = int(round((high - low) / step))
    return sorted({round(low + i * step, 10) for i in range(n + 1)})


def _type_check(prep: PrepStats) -> dict[str, Any]:
    return make_result(
        "expect_column_values_to_be_parseable_as_their_types",
        [C.USER_ID, C.MOVIE_ID, C.RATING, C.TIMESTAMP],
        prep.bad_type_rows == 0,
        observed=f"{prep.bad_type_rows} of {prep.rows_read} rows",
        unexpected_count=prep.bad_type_rows,
        unexpected_percent=100.0 * prep.bad_type_rows / prep.rows_read if prep.rows_read else 0.0,
        unexpected_examples=prep.bad_type_examples,
        custom=True,
    )


def validate_ratings_spark(
    df: DataFrame,
    prep: PrepStats | None = None,
    rating_scale: tuple[float, float] = (0.5, 5.0),
    rating_step: float | None = 0.5,
) -> ValidationReport:
    """Validate a cleaned ratings DataFrame (user_id, movie_id, rating, timestamp) on Spark."""
    low, high = rating_scale
    exps: list[Expect] = [expect("ExpectTableRowCountToBeBetween", min_value=1)]
    for col in (C.USER_ID, C.MOVIE_ID, C.RATING, C.TIMESTAMP):
        exps.append(expect("ExpectColumnToExist", column=col))
        types = SPARK_NUMERIC_TYPES if col == C.RATING else SPARK_INTEGER_TYPES
        exps.append(expect("ExpectColumnValuesToBeInTypeList", column=col, type_list=types))
        exps.append(expect("ExpectColumnValuesToNotBeNull", column=col))
    exps.append(
        expect("ExpectColumnValuesToBeBetween", column=C.RATING, min_value=low, max_value=high)
    )
    if rating_step is not None:
        exps.append(
            expect(
                "ExpectColumnValuesToBeInSet",
                column=C.RATING,
                value_set=_grid(low, high, rating_step),
            )
        )
    exps.append(expect("ExpectCompoundColumnsToBeUnique", column_list=[C.USER_ID, C.MOVIE_ID]))
    exps.append(
        expect(
            "ExpectColumnValuesToBeBetween",
            column=C.TIMESTAMP,
            min_value=EARLIEST_TIMESTAMP,
            max_value=int(time.time()) + 86_400,
        )
    )
    stats = counts(df)
    extras = [_type_check(prep)] if prep is not None else []
    statistics: dict[str, Any] = {
        "users": stats["users"],
        "movies": stats["movies"],
        "mean_rating": stats["mean_rating"],
        "engine": "spark",
    }
    if prep is not None:
        statistics["duplicates_removed"] = prep.duplicate_rows
        statistics["rows_read"] = prep.rows_read
    with spark_errors("validating the ratings (Great Expectations)"):
        return run_suite(df, "ratings", exps, extras, statistics, rows=stats["rows"])
