"""Great Expectations 1.x validation of ratings, catalogue and their join.

Every suite returns a `ValidationReport`; `raise_for_failure` turns failed reports into one
`ValidationFailed` whose message is what a user sees when the pipeline stops.
"""

from __future__ import annotations

from movie_roulette.exceptions import ValidationFailed
from movie_roulette.validation.catalogue import validate_catalogue
from movie_roulette.validation.coverage import validate_join_coverage
from movie_roulette.validation.ratings import validate_ratings
from movie_roulette.validation.report import ValidationReport
from movie_roulette.validation.runner import Expect, expect, run_suite
from movie_roulette.validation.sources import (
    validate_labelled_reviews,
    validate_reviews,
    validate_tmdb_movies,
)

__all__ = [
    "Expect",
    "ValidationReport",
    "expect",
    "raise_for_failure",
    "run_suite",
    "validate_catalogue",
    "validate_join_coverage",
    "validate_labelled_reviews",
    "validate_ratings",
    "validate_reviews",
    "validate_tmdb_movies",
]


def raise_for_failure(*reports: ValidationReport) -> None:
    """Raise `ValidationFailed` naming every failed expectation of every failed report."""
    failed = [r for r in reports if not r.success]
    if not failed:
        return
    message = "\n\n".join(r.to_text() for r in failed)
    raise ValidationFailed(
        message,
        report={"success": False, "reports": [r.to_dict() for r in reports]},
    )
