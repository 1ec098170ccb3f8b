"""Read the next batch of interactions from the configured source (the cursor does not move)."""

from typing import Annotated, Any

import pandas as pd
from zenml import log_metadata, step

from movie_roulette.config import PipelineConfig
from movie_roulette.monitoring.batches import next_batch, state_dir
from movie_roulette.monitoring.retraining import explicit
from movie_roulette.monitoring.store import InteractionStore


@step(enable_cache=False)
def ingest_batch(
    config: PipelineConfig,
) -> tuple[
    Annotated[pd.DataFrame, "batch"],
    Annotated[pd.DataFrame, "batch_ratings"],
    Annotated[dict[str, Any], "batch_info"],
]:
    pending = next_batch(config, InteractionStore(state_dir(config)))
    info = {
        "source": pending.source,
        "rows": len(pending.frame),
        "ratings": int(pending.frame["rating"].notna().sum()),
        "cursor_before": pending.cursor_before,
        "cursor_after": pending.cursor_after,
        **pending.info,
    }
    log_metadata(metadata={"batch": info})
    print(f"Batch from {pending.source}: {info['rows']} interactions ({info['ratings']} ratings).")
    return pending.frame, explicit(pending.frame), info
