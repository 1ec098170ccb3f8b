"""Keep the ZenML model versions' deployment records true after a (re)deploy or a rollback.

`deploy_model` records `{"deployment": {..., "running": true}}` on the version it serves. One
server runs per model, so serving another version stops the old one: its record is rewritten to
say it stopped, when, and which version replaced it.
"""

from __future__ import annotations

from typing import Any

from movie_roulette.rollback import stamp


def mark_replaced(
    model_name: str, live_version: str, live_record: dict[str, Any] | None = None
) -> list[str]:
    """Rewrite the deployment record of every other version of `model_name` that still says
    running; return their MLflow version numbers. With `live_record`, also record it on the
    live version (a redeploy or rollback outside the training pipeline)."""
    from zenml import log_metadata
    from zenml.client import Client

    client = Client()
    try:
        model_id = client.get_model(model_name).id
    except KeyError:
        return []
    changed = []
    for mv in client.list_model_versions(model=model_id, size=1000, hydrate=True).items:
        record: Any = mv.run_metadata.get("deployment")
        version = str(mv.run_metadata.get("mlflow_model_version"))
        if version == str(live_version) and live_record is not None:
            live = {**live_record, "deployed_at": stamp()}
            log_metadata(metadata={"deployment": live}, model_version_id=mv.id)
            continue
        if not isinstance(record, dict) or not record.get("running") or version == live_version:
            continue
        log_metadata(
            metadata={
                "deployment": {
                    **record,
                    "running": False,
                    "stopped_at": stamp(),
                    "replaced_by_version": str(live_version),
                    "reason": f"replaced by version {live_version}; its server was stopped",
                }
            },
            model_version_id=mv.id,
        )
        changed.append(version)
    return changed
