"""Per-interaction features for the drift check (reference = production's data)."""

from typing import Annotated

import pandas as pd
from zenml import step

from movie_roulette.monitoring.drift import drift_features


@step
def build_drift_features(
    history: pd.DataFrame, new_interactions: pd.DataFrame, catalogue: pd.DataFrame
) -> tuple[
    Annotated[pd.DataFrame, "reference_features"],
    Annotated[pd.DataFrame, "current_features"],
]:
    return (
        drift_features(history, history, catalogue),
        drift_features(new_interactions, history, catalogue),
    )
