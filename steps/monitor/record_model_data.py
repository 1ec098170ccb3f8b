"""Remember which stored batches the new model version was trained on (the next drift reference)."""

from typing import Annotated, Any

from zenml import step

from movie_roulette.config import config_from_dict
from movie_roulette.monitoring.batches import state_dir
from movie_roulette.monitoring.store import InteractionStore


@step(enable_cache=False)
def record_model_data(
    mlflow_model_version: str, data_info: dict[str, Any], config: dict[str, Any]
) -> Annotated[int, "trained_batches"]:
    cfg = config_from_dict(config)
    InteractionStore(state_dir(cfg)).record_model(mlflow_model_version, data_info["stored_batches"])
    return int(data_info["stored_batches"])
