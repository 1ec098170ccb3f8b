"""The configured port serves one model at a time: `make run`'s demo model, then a real-data
run on the same port. The second deploy used to fail with "Port 8000 ... is in use by another
program" although the program was this project's own server of the first model."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.integration.conftest import free_port, run_cli, write_config

pytestmark = [pytest.mark.integration, pytest.mark.slow]
FIRST, SECOND = "mr_port_first_it", "mr_port_second_it"


def test_a_deploy_takes_the_port_over_from_this_projects_server_of_another_model(
    tmp_path: Any, stack: str, mlflow_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from movie_roulette.config import ServingConfig
    from serving.deployment import deploy_version, list_servers, ping, stop_servers

    port = free_port()
    config = write_config(
        tmp_path,
        "quickstart",
        model_name=FIRST,
        experiment_name=FIRST,
        serving={"deploy": True, "port": port, "warm_seconds": 1},
    )
    try:
        result = run_cli("--config", str(config))
        assert result.exit_code == 0, result.output
        url = f"http://127.0.0.1:{port}"
        assert ping(url)
        # a second registered model (same artifacts, another name), as a second config would have
        source = mlflow_client.get_model_version(FIRST, "1").source
        mlflow_client.create_registered_model(SECOND)
        mlflow_client.create_model_version(SECOND, source)
        with caplog.at_level("WARNING", logger="serving.deployment"):
            info = deploy_version(SECOND, "1", ServingConfig(port=port, warm_seconds=1))
        assert info.url == url and ping(url)
        assert f"Port {port} served {FIRST} version 1: stopped it to serve {SECOND}" in caplog.text
        assert not [s for s in list_servers(FIRST) if s.running]
        assert [s.url for s in list_servers(SECOND) if s.running] == [url]
        answer = requests.post(
            f"{url}/invocations", json={"inputs": [{"kind": "recommend", "user_id": 1}]}, timeout=30
        )
        assert answer.status_code == 200, answer.text
    finally:
        stop_servers(FIRST)
        stop_servers(SECOND)
