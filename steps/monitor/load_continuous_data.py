"""The production model's data (history) vs the interactions stored after it (new)."""

from typing import Annotated, Any

import pandas as pd
from zenml import log_metadata, step

from materializers.frame_materializer import FrameMaterializer
from movie_roulette.config import PipelineConfig
from movie_roulette.monitoring.batches import continuous_data, state_dir
from movie_roulette.monitoring.store import InteractionStore, merge_interactions
from serving.registry import production_version
from steps.ratings_artifact import log_on_ratings_artifact, ratings_facts


@step(
    enable_cache=False,
    output_materializers={n: FrameMaterializer for n in ("history", "new_interactions", "ratings")},
)
def load_continuous_data(
    config: PipelineConfig, batch_commit: dict[str, Any]
) -> tuple[
    Annotated[pd.DataFrame, "history"],
    Annotated[pd.DataFrame, "new_interactions"],
    Annotated[pd.DataFrame, "ratings"],
    Annotated[dict[str, Any], "data_info"],
]:
    history, new, info = continuous_data(
        config, InteractionStore(state_dir(config)), production_version(config.model_name)
    )
    log_metadata(metadata={"data": info})
    ratings = merge_interactions(history, new)
    log_on_ratings_artifact(ratings_facts(ratings))
    return history, new, ratings, info
