"""The ZenML model the registering steps belong to (not the whole run: a run that registers
nothing, such as a deploy, a failed or a no-retrain run, creates no ZenML model version)."""

from zenml import Model

DESCRIPTION = "Movie Roulette hybrid recommender"


def registered_model(model_name: str) -> Model:
    """One ZenML model version per run, shared by every step given this model."""
    return Model(name=model_name, description=DESCRIPTION)
