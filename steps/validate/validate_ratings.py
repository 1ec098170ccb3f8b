"""Great Expectations suite over the ratings frame (never raises: the gate step decides)."""

from typing import Annotated, Any

import pandas as pd
from zenml import step
from zenml.types import HTMLString

from movie_roulette.validation import validate_ratings as run_suite


@step
def validate_ratings(
    ratings: pd.DataFrame,
) -> tuple[
    Annotated[dict[str, Any], "ratings_validation"],
    Annotated[HTMLString, "ratings_validation_report"],
]:
    report = run_suite(ratings)
    return report.to_dict(), HTMLString(report.to_html())
