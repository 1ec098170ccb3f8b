"""Join coverage between ratings and catalogue, validated through GX on a per-movie frame."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from movie_roulette import columns as C
from movie_roulette.data.catalogue import movie_counts
from movie_roulette.ratings_source import Part, as_source
from movie_roulette.validation.report import ValidationReport, make_result, to_jsonable
from movie_roulette.validation.runner import expect, run_suite

CONTENT_COLUMNS = [C.DIRECTOR, C.OVERVIEW, C.KEYWORDS]
CONTENT_SHARE = "rating_share_with_content"
IN_CATALOGUE = "in_catalogue"


def _non_empty(values: pd.Series) -> pd.Series:
    return values.fillna("").astype(str).str.strip() != ""


def validate_join_coverage(
    ratings: Part,
    catalogue: pd.DataFrame,
    min_coverage: float,
    content_columns: Sequence[str] = tuple(CONTENT_COLUMNS),
) -> ValidationReport:
    """Every rated movie must be in the catalogue, and at least `min_coverage` of the ratings
    must point at a movie with content metadata (one of `content_columns` non-empty: director,
    overview or keywords by default; MovieLens alone has genres and tags, see
    `data.sources.content_columns`). `ratings`: a frame or a `RatingsSource` (read a batch at
    a time: only the per-movie counts are held)."""
    content = list(content_columns)
    ratings = as_source(ratings)
    if not 0.0 <= min_coverage <= 1.0:
        raise ValueError(f"min_coverage: {min_coverage} must be between 0 and 1.")
    missing = [("ratings", C.MOVIE_ID)] if C.MOVIE_ID not in ratings.columns else []
    missing += [("catalogue", c) for c in [C.MOVIE_ID, *content] if c not in catalogue]
    if missing:
        results = [
            make_result(
                "expect_column_to_exist",
                [col],
                False,
                observed=f"column '{col}' is missing from the {frame} frame",
                details={"frame": frame},
            )
            for frame, col in missing
        ]
        return run_suite(
            pd.DataFrame(),
            "join_coverage",
            [],
            results,
            {"min_coverage": min_coverage},
            rows=ratings.rows,
        )

    has_content = _non_empty(catalogue[content[0]])
    for col in content[1:]:
        has_content |= _non_empty(catalogue[col])
    content_by_movie = pd.Series(has_content.to_numpy(), index=catalogue[C.MOVIE_ID].to_numpy())
    content_by_movie = content_by_movie[~content_by_movie.index.duplicated()]
    # one row per rated movie with its number of ratings (not one row per rating: at 25M
    # ratings the per-rating frame and its temporaries took ~2.4 GB in this step)
    counts = movie_counts(ratings, dropna=False)
    ids = pd.Series(counts.index.to_numpy())
    known = ids.isin(content_by_movie.index).to_numpy()
    with_content = ids.map(content_by_movie.astype(float)).fillna(0.0).to_numpy() > 0
    n = counts.to_numpy(np.int64)
    total = int(n.sum())
    covered = int(n[with_content].sum())
    frame = pd.DataFrame(
        {
            C.MOVIE_ID: ids.to_numpy(),
            IN_CATALOGUE: known,
            # each movie's share of the ratings when it has content: their sum is the coverage
            CONTENT_SHARE: np.where(with_content, n / max(total, 1), 0.0),
        }
    )
    unknown_ids = ids[~known].dropna().unique()
    exps = [
        expect("ExpectTableRowCountToBeBetween", min_value=1),
        expect("ExpectColumnValuesToBeInSet", column=IN_CATALOGUE, value_set=[True]),
        expect(
            "ExpectColumnSumToBeBetween",
            column=CONTENT_SHARE,
            # the shares' float sum may fall 1 ulp short of a coverage exactly at the minimum
            min_value=max(min_coverage - 1e-12, 0.0),
            max_value=None,
        ),
    ]
    report = run_suite(
        frame,
        "join_coverage",
        exps,
        statistics={
            "min_coverage": min_coverage,
            "content_columns": content,
            "rated_movies": len(frame),
            "unknown_movie_ids": len(unknown_ids),
            "ratings_with_unknown_movie": int(n[~known].sum()),
            "join_coverage": covered / total if total else None,
        },
        rows=total,
    )
    for result in report.results:  # show the unknown ids rather than the boolean flag
        if result["expectation"] == "expect_column_values_to_be_in_set":
            result["column"] = C.MOVIE_ID
            result["columns"] = [C.MOVIE_ID]
            result["observed"] = (
                f"{len(unknown_ids)} movie id(s) rated but missing from the catalogue"
            )
            result["unexpected_examples"] = to_jsonable(sorted(unknown_ids)[:5])
            result["details"] = {"check": "every rated movie_id is in the catalogue"}
    return report
