"""Load every catalogue source (MovieLens movies + links + tags, IMDb CSV, TMDB CSV, or demo)."""

from typing import Annotated, Any

import pandas as pd
from zenml import log_metadata, step

from movie_roulette.config import config_from_dict
from movie_roulette.data import sources


@step(enable_cache=False)
def load_catalogue_sources(
    config: dict[str, Any],
) -> Annotated[dict[str, pd.DataFrame], "catalogue_sources"]:
    cfg = config_from_dict(config)
    note = sources.missing_metadata_note(cfg.data)
    if note:  # run_pipeline.py prints it once before the run; recorded on the run here
        log_metadata(metadata={"missing_metadata": note})
    return sources.load_catalogue_sources(cfg.data, seed=cfg.seed)
