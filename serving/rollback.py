"""Roll production back to the previously promoted version (registry alias + ZenML stage)."""

from __future__ import annotations

from typing import Any

from mlflow.tracking import MlflowClient

from movie_roulette.exceptions import MovieRouletteError
from movie_roulette.rollback import parse_stamp, rollback_target, stamp
from serving.registry import (
    PRODUCTION_SINCE_TAG,
    ROLLED_BACK_TAG,
    configure_mlflow,
    production_version,
    set_stage,
)


class RollbackError(MovieRouletteError):
    """There is nothing to roll back to; the message says what the registry holds."""


def production_history(model_name: str) -> list[dict[str, Any]]:
    """Every registered version with its promotion/rollback stamps, oldest first."""
    configure_mlflow()
    versions = MlflowClient().search_model_versions(f"name='{model_name}'")
    return sorted(
        (
            {
                "version": str(v.version),
                "production_since": parse_stamp(v.tags.get(PRODUCTION_SINCE_TAG)),
                "rolled_back_at": parse_stamp(v.tags.get(ROLLED_BACK_TAG)),
            }
            for v in versions
        ),
        key=lambda v: int(v["version"]),
    )


def _set_zenml_stage(model_name: str, mlflow_version: str, stage: str) -> str | None:
    """Set the stage of the ZenML model version linked to an MLflow version; its number."""
    from zenml.client import Client
    from zenml.enums import ModelStages

    client = Client()
    try:
        model_id = client.get_model(model_name).id
    except KeyError:
        return None
    versions = client.list_model_versions(model=model_id, size=1000, hydrate=True)
    for mv in versions.items:
        if str(mv.run_metadata.get("mlflow_model_version")) == str(mlflow_version):
            mv.set_stage(ModelStages(stage), force=True)
            return str(mv.number)
    return None


def rollback(model_name: str) -> dict[str, Any]:
    """Make the previously promoted version production again; return what changed."""
    current = production_version(model_name)
    if current is None:
        raise RollbackError(f"Model {model_name!r} has no production version to roll back.")
    history = production_history(model_name)
    target = rollback_target(history, current)
    if target is None:
        promoted = [
            v["version"] + (" (rolled back)" if v["rolled_back_at"] else "")
            for v in history
            if v["production_since"] is not None
        ]
        raise RollbackError(
            f"Version {current} of {model_name!r} is in production and no other version is left "
            f"to roll back to (promoted versions: {', '.join(promoted) or 'none'})."
        )
    configure_mlflow()
    MlflowClient().set_model_version_tag(model_name, current, ROLLED_BACK_TAG, stamp())
    set_stage(model_name, target, "production", record_promotion=False)
    set_stage(model_name, current, "archived")
    zenml_version = _set_zenml_stage(model_name, target, "production")
    _set_zenml_stage(model_name, current, "archived")
    return {
        "model_name": model_name,
        "rolled_back_from": current,
        "live_version": target,
        "zenml_model_version": zenml_version,
    }
