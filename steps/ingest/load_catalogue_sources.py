"""Load every catalogue source (MovieLens movies + links + tags, IMDb CSV, TMDB CSV, or demo)."""

from typing import Annotated

import pandas as pd
from zenml import log_metadata, step

from movie_roulette.config import DataConfig
from movie_roulette.data import sources


@step
def load_catalogue_sources(
    data: DataConfig, seed: int, data_fingerprint: str
) -> Annotated[dict[str, pd.DataFrame], "catalogue_sources"]:
    """Cached: `data_fingerprint` (the files' checksum) is an input, so new files rerun it."""
    note = sources.missing_metadata_note(data)
    if note:  # run_pipeline.py prints it once before the run; recorded on the run here
        log_metadata(metadata={"missing_metadata": note})
    return sources.load_catalogue_sources(data, seed=seed)
