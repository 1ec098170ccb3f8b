"""Remember which stored batches the new model version was trained on (the next drift reference)."""

from pathlib import Path
from typing import Annotated, Any

from zenml import step

from movie_roulette.monitoring.store import InteractionStore


@step(enable_cache=False)
def record_model_data(
    mlflow_model_version: str, data_info: dict[str, Any], state_dir: str
) -> Annotated[int, "trained_batches"]:
    InteractionStore(Path(state_dir)).record_model(
        mlflow_model_version, data_info["stored_batches"]
    )
    return int(data_info["stored_batches"])
