"""ZenML model-version records stay true after a redeploy (issue 14 item 5)."""

from __future__ import annotations

from datetime import datetime

import pytest

pytestmark = [pytest.mark.integration]


def test_a_redeploy_rewrites_the_old_versions_running_record(stack: str) -> None:
    from zenml import log_metadata
    from zenml.client import Client

    from serving.deploy_records import mark_replaced

    client = Client()
    model = client.create_model(name="mr_records_it")
    versions = [client.create_model_version(model_name_or_id=model.id) for _ in range(3)]
    for number, mv in enumerate(versions, start=1):
        meta: dict = {"mlflow_model_version": str(number)}
        if number < 3:  # versions 1 and 2 were each deployed once; 3 never was
            meta["deployment"] = {"deployed": True, "running": True, "model_version": str(number)}
        log_metadata(metadata=meta, model_version_id=mv.id)

    live = {"deployed": True, "running": True, "model_version": "2", "url": "http://x"}
    assert mark_replaced("mr_records_it", "2", live_record=live) == ["1"]

    def record(mv: object) -> dict:
        return client.get_model_version(model.id, mv.id).run_metadata.get("deployment")

    old, current, never = (record(mv) for mv in versions)
    assert old["running"] is False and old["replaced_by_version"] == "2"
    assert datetime.fromisoformat(old["stopped_at"]).tzinfo is not None
    assert current["running"] is True and current["url"] == "http://x"
    assert never is None
    assert mark_replaced("mr_records_it", "2") == []  # nothing says running any more
