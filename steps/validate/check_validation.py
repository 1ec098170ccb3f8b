"""Gate: stop the run before training when any validation suite failed."""

from typing import Annotated, Any

from zenml import log_metadata, step

from movie_roulette.validation import ValidationReport, raise_for_failure


@step
def check_validation(
    ratings_validation: dict[str, Any],
    catalogue_validation: dict[str, Any],
    join_validation: dict[str, Any],
) -> Annotated[bool, "validation_passed"]:
    reports = [
        ValidationReport.from_dict(r)
        for r in (ratings_validation, catalogue_validation, join_validation)
    ]
    log_metadata(metadata={r.suite: bool(r.success) for r in reports})
    raise_for_failure(*reports)
    return True
