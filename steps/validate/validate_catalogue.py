"""Great Expectations suites over the catalogue and the ratings-to-catalogue join."""

from typing import Annotated, Any

import pandas as pd
from zenml import step
from zenml.types import HTMLString

from movie_roulette.config import DataConfig
from movie_roulette.data import sources
from movie_roulette.ratings_source import RatingsSource
from movie_roulette.validation import validate_catalogue as catalogue_suite
from movie_roulette.validation import validate_join_coverage


@step
def validate_catalogue(
    catalogue: pd.DataFrame, ratings: RatingsSource, data: DataConfig
) -> tuple[
    Annotated[dict[str, Any], "catalogue_validation"],
    Annotated[dict[str, Any], "join_validation"],
    Annotated[HTMLString, "catalogue_validation_report"],
]:
    """`ratings` as the artifact's files: the join suite reads them a batch at a time."""
    catalogue_report = catalogue_suite(catalogue)
    join_report = validate_join_coverage(
        ratings, catalogue, data.min_join_coverage, sources.content_columns(data)
    )
    html = catalogue_report.to_html() + join_report.to_html()
    return catalogue_report.to_dict(), join_report.to_dict(), HTMLString(html)
