"""Great Expectations on the review frame (and the TMDB API movies): stops the run when broken."""

from typing import Annotated, Any

import pandas as pd
from zenml import log_metadata, step

from movie_roulette.validation import raise_for_failure, validate_reviews, validate_tmdb_movies


@step
def validate_review_sources(
    reviews: pd.DataFrame, tmdb_movies: pd.DataFrame | None = None
) -> Annotated[dict[str, Any], "review_validation"]:
    reports = [validate_reviews(reviews)]
    if tmdb_movies is not None:
        reports.append(validate_tmdb_movies(tmdb_movies))
    summary = {r.suite: {"success": r.success, **r.statistics} for r in reports}
    log_metadata(metadata={"review_validation": summary})
    raise_for_failure(*reports)
    return {"success": True, "reports": [r.to_dict() for r in reports]}
