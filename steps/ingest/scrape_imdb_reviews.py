"""Scrape IMDb user reviews for the catalogue's movies (live data: caching off)."""

from typing import Annotated, Any

import pandas as pd
from zenml import log_metadata, step

from movie_roulette.config import IMDbReviewsConfig
from movie_roulette.data.imdb_reviews import scrape_for_catalogue


@step(enable_cache=False)
def scrape_imdb_reviews(
    catalogue: pd.DataFrame, settings: IMDbReviewsConfig
) -> tuple[
    Annotated[pd.DataFrame, "imdb_reviews"],
    Annotated[dict[str, Any], "imdb_scrape_report"],
]:
    result = scrape_for_catalogue(catalogue, settings)
    report = result.report.to_dict()
    log_metadata(metadata={"imdb_scrape": {k: v for k, v in report.items() if k != "failures"}})
    return result.reviews, report
