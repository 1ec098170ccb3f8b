"""Fixtures that run the real ZenML + MLflow stack in the isolated store of tests/conftest.py."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def stack() -> Iterator[str]:
    from stack_setup import ensure_stack

    name = ensure_stack()
    yield name
    # Never leave a model server behind, whatever the tests did (or failed to do).
    from serving.deployment import stop_servers

    stop_servers()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def mlflow_client(stack: str) -> Any:
    from mlflow.tracking import MlflowClient

    from stack_setup import mlflow_tracking_uri

    return MlflowClient(tracking_uri=mlflow_tracking_uri())


def write_config(tmp_path: Path, base: str, **overrides: Any) -> Path:
    """Copy configs/<base>.yaml with nested overrides, e.g. data={"data_dir": "..."}.

    Deployment is off unless a test turns it on (serving={"deploy": True, "port": free_port()}).
    """
    raw = yaml.safe_load((REPO_ROOT / "configs" / f"{base}.yaml").read_text())
    raw.setdefault("serving", {})["deploy"] = False
    for key, value in overrides.items():
        if isinstance(value, dict):
            raw.setdefault(key, {}).update(value)
        else:
            raw[key] = value
    path = tmp_path / f"{base}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def run_cli(*args: str) -> Result:
    from run_pipeline import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def copy_data_dir(shared: Path, dst: Path) -> Path:
    """A writable copy of the shared data layout (only the folders the pipeline reads)."""
    for name in ("ml-latest-small", "imdb-5000", "tmdb-top10k"):
        shutil.copytree(shared / name, dst / name)
    return dst


def assert_ratings_checksum_registered(version: Any, producer: str) -> None:
    """The version's `ratings_sha256` (which register_model reads from the ratings artifact's
    metadata instead of loading the frame) is the checksum of the ratings `producer` wrote, as
    they load back."""
    from zenml.client import Client

    from movie_roulette.fingerprint import frame_checksum

    run = Client().get_pipeline_run(version.tags["zenml_run_id"])
    ratings = run.steps[producer].outputs["ratings"][0]
    assert ratings.run_metadata["sha256"] == version.tags["ratings_sha256"]
    loaded = ratings.load()  # a frame, or (engine: spark) the Parquet files Spark wrote
    frame = loaded.to_pandas() if hasattr(loaded, "to_pandas") else loaded
    assert frame_checksum(frame) == version.tags["ratings_sha256"]
