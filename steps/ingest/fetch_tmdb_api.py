"""Fetch details, credits, keywords and reviews from the TMDB API for the catalogue's movies.

Live data: caching is off. The disk cache of the library still avoids repeated calls.
"""

from typing import Annotated, Any

import pandas as pd
from zenml import log_metadata, step

from movie_roulette.config import TMDBApiConfig
from movie_roulette.data.tmdb_api import fetch_tmdb_for_catalogue


@step(enable_cache=False)
def fetch_tmdb_api(
    catalogue: pd.DataFrame, settings: TMDBApiConfig
) -> tuple[
    Annotated[pd.DataFrame, "tmdb_movies"],
    Annotated[pd.DataFrame, "tmdb_reviews"],
    Annotated[dict[str, Any], "tmdb_fetch_report"],
]:
    result = fetch_tmdb_for_catalogue(catalogue, settings)
    report = result.report.to_dict()
    log_metadata(metadata={"tmdb_fetch": {k: v for k, v in report.items() if k != "failures"}})
    return result.movies, result.reviews, report
