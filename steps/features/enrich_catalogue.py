"""Fill the catalogue from the TMDB API answers (runtime, votes, poster, release date, ...)."""

from typing import Annotated

import pandas as pd
from zenml import log_metadata, step

from movie_roulette.data.catalogue import enrich_from_tmdb_api


@step
def enrich_catalogue(
    catalogue: pd.DataFrame, tmdb_movies: pd.DataFrame
) -> Annotated[pd.DataFrame, "enriched_catalogue"]:
    enriched = enrich_from_tmdb_api(catalogue, tmdb_movies)
    log_metadata(
        metadata={
            "movies_from_tmdb_api": len(tmdb_movies),
            "movies_with_poster": int((enriched["poster_path"] != "").sum()),
            "movies_with_runtime": int(enriched["runtime"].notna().sum()),
        }
    )
    return enriched
