"""Merge the catalogue sources into one row per movie."""

from typing import Annotated

import pandas as pd
from zenml import log_metadata, step

from materializers.catalogue_materializer import CatalogueMaterializer
from movie_roulette.data.catalogue import join_coverage
from movie_roulette.data.catalogue import merge_catalogue as merge
from movie_roulette.fingerprint import frame_checksum
from movie_roulette.ratings_source import RatingsSource


@step(output_materializers=CatalogueMaterializer)
def merge_catalogue(
    catalogue_sources: dict[str, pd.DataFrame], ratings: RatingsSource
) -> Annotated[pd.DataFrame, "catalogue"]:
    """`ratings` as the artifact's files, read a batch at a time for the per-movie counts."""
    catalogue = merge(catalogue_sources, ratings=ratings)
    log_metadata(
        metadata={
            "movies": len(catalogue),
            "join_coverage": float(join_coverage(ratings, catalogue)),
            "sha256": frame_checksum(catalogue),
        },
        infer_artifact=True,
        artifact_name="catalogue",
    )
    return catalogue
