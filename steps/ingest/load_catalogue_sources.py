"""Load every catalogue source (MovieLens movies + links + tags, IMDb CSV, TMDB CSV, or demo)."""

from typing import Annotated, Any

import pandas as pd
from zenml import step

from movie_roulette.config import config_from_dict
from movie_roulette.data import sources


@step(enable_cache=False)
def load_catalogue_sources(
    config: dict[str, Any],
) -> Annotated[dict[str, pd.DataFrame], "catalogue_sources"]:
    cfg = config_from_dict(config)
    return sources.load_catalogue_sources(cfg.data, seed=cfg.seed)
