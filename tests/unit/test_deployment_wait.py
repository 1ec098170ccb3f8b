"""serving/deployment.py reports a deployment only once every worker has started."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from movie_roulette.config import ServingConfig
from serving import deployment
from serving.deployment import DeploymentError, ServerInfo

WARMED = "movie_roulette: answer cache warmed for 5 users in 0.1 s (all known users: True)\n"
STARTED = "INFO:     Application startup complete.\n"


def _info(log: Path) -> ServerInfo:
    return ServerInfo("u", "m", "3", "http://127.0.0.1:1", True, "1", str(log))


def test_waits_until_every_worker_has_loaded_and_warmed(tmp_path: Path) -> None:
    log = tmp_path / "service.log"
    log.write_text(WARMED + STARTED + WARMED)  # the second worker is still starting

    def second_worker() -> None:
        time.sleep(0.6)
        with log.open("a") as f:
            f.write(STARTED)

    threading.Thread(target=second_worker).start()
    started = time.monotonic()
    deployment._wait_for_every_worker(object(), _info(log), ServingConfig(workers=2))
    assert time.monotonic() - started >= 0.5


def test_a_model_version_without_the_warm_up_deploys_too(tmp_path: Path) -> None:
    log = tmp_path / "service.log"
    log.write_text(STARTED * 2)  # registered before the warm-up existed: no "warmed" lines
    deployment._wait_for_every_worker(object(), _info(log), ServingConfig(workers=2))


def test_a_worker_that_never_starts_stops_the_server_and_names_the_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "service.log"
    log.write_text(WARMED + STARTED + "Traceback: boom\n")
    stopped = []
    monkeypatch.setattr(deployment, "_stop", stopped.append)
    # a 1 s start timeout (a config refuses < 10 s): model_copy skips validation, for speed
    serving = ServingConfig(workers=2, warm_seconds=0).model_copy(
        update={"start_timeout_seconds": 1}
    )
    service = object()
    with pytest.raises(DeploymentError, match=r"1 of the 2 workers of m version 3") as err:
        deployment._wait_for_every_worker(service, _info(log), serving)
    assert "Traceback: boom" in str(err.value) and stopped == [service]
