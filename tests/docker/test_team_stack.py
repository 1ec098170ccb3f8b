"""The team stack end to end, in Docker: images, stack-up, a training run against it, the
containerised model server and web app, a stack-down/stack-up that loses nothing, a pipeline
refused before training when MLflow is down, and teardown (containers and volumes).

A second stack beside any user's: its own container/volume prefix, free ports, settings file
and ZenML client config. Skipped, with the reason, when Docker is not installed or not running.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
STACK = REPO / "docker" / "stack.sh"
MODEL = "movie_roulette"
LOCAL_BASE = "movie-roulette-base:bookworm"
DEFAULT_BASE = "python:3.11-slim-bookworm"


def _docker_unavailable() -> str | None:
    if shutil.which("docker") is None:
        return "Docker is not installed (apt-get install docker.io; .ci/run does it)"
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        return "Docker is not running (start dockerd; .ci/run does it)"
    return None


pytestmark = [
    pytest.mark.docker,
    pytest.mark.slow,
    pytest.mark.skipif(_docker_unavailable() is not None, reason=str(_docker_unavailable())),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(cmd: list[str], env: dict[str, str], timeout: float, check: bool = True) -> str:
    result = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    output = result.stdout + result.stderr
    if check and result.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} failed ({result.returncode}):\n{output[-4000:]}")
    return output


def _parent_image(env: dict[str, str]) -> str:
    """MOVIE_ROULETTE_BASE_IMAGE, else the Debian-built parent, else python:3.11-slim-bookworm
    (present or pullable), else build the Debian parent (make base-image, needs root)."""
    if os.environ.get("MOVIE_ROULETTE_BASE_IMAGE"):
        return os.environ["MOVIE_ROULETTE_BASE_IMAGE"]
    for image in (LOCAL_BASE, DEFAULT_BASE):
        if (
            subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode
            == 0
        ):
            return image
    if subprocess.run(["docker", "pull", DEFAULT_BASE], capture_output=True).returncode == 0:
        return DEFAULT_BASE
    _run(["make", "base-image", f"LOCAL_BASE_IMAGE={LOCAL_BASE}"], env, timeout=1200)
    return LOCAL_BASE


def _wait(what: str, check: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
            if value:
                return value
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not ready after {timeout:.0f} s")
        time.sleep(2)


class Stack:
    def __init__(self, root: Path) -> None:
        prefix = f"mrtest{os.getpid()}"
        self.prefix = prefix
        self.ports = {k: _free_port() for k in ("postgres", "mlflow", "zenml", "model", "app")}
        self.env_file = root / "team.env"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("MR_")},
            "MR_PREFIX": prefix,
            "MR_ENV_FILE": str(self.env_file),
            "MR_IMAGE": "movie-roulette:test",
            "MR_POSTGRES_IMAGE": "movie-roulette-postgres:test",
            "MR_POSTGRES_PORT": str(self.ports["postgres"]),
            "MR_MLFLOW_PORT": str(self.ports["mlflow"]),
            "MR_ZENML_PORT": str(self.ports["zenml"]),
            "MR_MODEL_PORT": str(self.ports["model"]),
            "MR_APP_PORT": str(self.ports["app"]),
            "MR_READY_SECONDS": "180",
            "ZENML_CONFIG_PATH": str(root / "zenml-client"),
        }
        self.mlflow = f"http://127.0.0.1:{self.ports['mlflow']}"
        self.model_url = f"http://127.0.0.1:{self.ports['model']}"
        self.app_url = f"http://127.0.0.1:{self.ports['app']}"
        self.root = root

    def sh(self, *args: str, timeout: float = 400) -> str:
        return _run(["bash", str(STACK), *args], self.env, timeout)

    def python(self, *args: str, timeout: float = 900, check: bool = True) -> str:
        return _run([sys.executable, *args], self.env, timeout, check)

    def setting(self, name: str) -> str:
        for line in self.env_file.read_text().splitlines():
            if line.startswith(f"{name}="):
                return line.split("=", 1)[1]
        raise KeyError(name)

    def psql(self, sql: str) -> str:
        return _run(
            [
                "docker",
                "exec",
                "-e",
                f"PGPASSWORD={self.setting('MR_POSTGRES_PASSWORD')}",
                f"{self.prefix}-postgres",
                "psql",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.ports["postgres"]),
                "-U",
                "mlflow",
                "-d",
                "mlflow",
                "-tAc",
                sql,
            ],
            self.env,
            timeout=60,
        ).strip()

    def champion(self) -> str:
        response = requests.get(
            f"{self.mlflow}/api/2.0/mlflow/registered-models/alias",
            params={"name": MODEL, "alias": "champion"},
            timeout=10,
        )
        response.raise_for_status()
        return str(response.json()["model_version"]["version"])

    def zenml_runs(self) -> list[str]:
        out = self.python(
            "-c",
            "from zenml.client import Client\n"
            "for r in Client().list_pipeline_runs(size=50).items: print('RUN', r.name, r.status)",
            timeout=120,
        )
        return [line for line in out.splitlines() if line.startswith("RUN ")]

    def serving_answers(self) -> None:
        _wait("the model server", lambda: requests.get(f"{self.model_url}/ping", timeout=5).ok, 300)
        answer = requests.post(
            f"{self.model_url}/invocations",
            json={"inputs": [{"kind": "recommend", "user_id": 1, "k": 5}]},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text[:500]
        items = answer.json()["predictions"][0]["items"]
        assert len(items) == 5
        _wait("the web app", lambda: requests.get(f"{self.app_url}/healthz", timeout=5).ok, 300)
        page = requests.get(f"{self.app_url}/user/1", timeout=30)
        assert page.status_code == 200 and "Picks for user 1" in page.text


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = Stack(tmp_path_factory.mktemp("team-stack"))
    base = _parent_image(s.env)
    _run(
        [
            "make",
            "images",
            f"BASE_IMAGE={base}",
            f"IMAGE={s.env['MR_IMAGE']}",
            f"POSTGRES_IMAGE={s.env['MR_POSTGRES_IMAGE']}",
        ],
        s.env,
        timeout=2400,
    )
    try:
        yield s
    finally:
        subprocess.run(["bash", str(STACK), "destroy"], env=s.env, capture_output=True)


def test_team_stack_trains_serves_and_survives_a_restart(stack: Stack) -> None:
    started = time.monotonic()
    up = stack.sh("up")
    assert "all services up" in up, up
    assert "waiting for a production version" in stack.sh("status")

    stack.python("stack_setup.py", "--team", "--artifact-dir", str(stack.root / "artifacts"))
    stack.python("run_pipeline.py", "--config", "configs/team.yaml")

    version = stack.champion()
    assert version == "1"
    metrics = int(stack.psql("select count(*) from metrics"))
    assert metrics > 10  # the evaluation's metrics are rows in PostgreSQL
    assert stack.psql("select count(*) from metrics where key like '%ndcg_at_10'") != "0"
    runs = stack.zenml_runs()
    assert len(runs) == 1 and "completed" in runs[0], runs
    stack.serving_answers()  # the containers picked up the first production version

    stack.sh("down")
    restart = time.monotonic()
    assert "all services up" in stack.sh("up")
    restart_seconds = time.monotonic() - restart
    assert stack.champion() == version
    assert int(stack.psql("select count(*) from metrics")) == metrics
    assert stack.zenml_runs() == runs
    stack.serving_answers()  # the artifacts (served by MLflow) survived too

    # MLflow down: the next pipeline is refused before any step runs, naming the fix.
    subprocess.run(["docker", "stop", f"{stack.prefix}-mlflow"], capture_output=True, check=True)
    out = stack.python("run_pipeline.py", "--config", "configs/team.yaml", check=False)
    assert f"The MLflow tracking server at {stack.mlflow} does not answer" in out
    assert "make stack-up" in out
    subprocess.run(["docker", "start", f"{stack.prefix}-mlflow"], capture_output=True, check=True)
    assert stack.zenml_runs() == runs
    print(
        f"team stack test: {time.monotonic() - started:.0f} s "
        f"(restart to all services up: {restart_seconds:.0f} s)"
    )
