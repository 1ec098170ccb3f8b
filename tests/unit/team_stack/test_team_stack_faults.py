"""Team stack faults give a clear message naming the fix, without Docker or servers."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
STACK = REPO / "docker" / "stack.sh"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fake_docker(tmp_path: Path, body: str) -> dict[str, str]:
    """PATH with a `docker` script running `body` first."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "docker"
    fake.write_text(f"#!/usr/bin/env bash\n{body}\n")
    fake.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MR_")}
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    env["MR_ENV_FILE"] = str(tmp_path / "team.env")
    return env


def _stack(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(STACK), *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_docker_not_running_names_the_fix(tmp_path: Path) -> None:
    env = _fake_docker(tmp_path, 'echo "Cannot connect to the Docker daemon" >&2; exit 1')
    result = _stack(env, "status")
    assert result.returncode != 0
    assert "Docker is not running" in result.stderr and "dockerd" in result.stderr


def test_docker_not_installed_names_the_package(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "python3", "sed", "dirname", "cat", "grep", "tail"):
        found = subprocess.run(["which", tool], capture_output=True, text=True).stdout.strip()
        (bin_dir / tool).symlink_to(found)
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path), "MR_ENV_FILE": str(tmp_path / "e")}
    result = subprocess.run(
        [str(bin_dir / "bash"), str(STACK), "status"], capture_output=True, text=True, env=env
    )
    assert result.returncode != 0
    assert "Docker is not installed: apt-get install -y docker.io" in result.stderr


def test_a_taken_port_is_named_before_anything_starts(tmp_path: Path) -> None:
    # Docker answers; nothing runs; every image exists; `docker run` must not be reached.
    env = _fake_docker(
        tmp_path,
        'case "$1" in inspect) exit 1 ;; run) echo RUN-REACHED >&2; exit 1 ;; *) exit 0 ;; esac',
    )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env["MR_POSTGRES_PORT"] = str(taken.getsockname()[1])
        result = _stack(env, "up")
    assert result.returncode != 0
    assert f"port {env['MR_POSTGRES_PORT']} (for mr-postgres) is taken" in result.stderr
    assert "RUN-REACHED" not in result.stderr
    # the first `up` wrote a settings file with fresh random passwords, not the placeholders
    written = (tmp_path / "team.env").read_text()
    assert "MR_POSTGRES_PASSWORD=\n" not in written and "MR_POSTGRES_PASSWORD=" in written
    assert oct((tmp_path / "team.env").stat().st_mode & 0o777) == "0o600"


def test_missing_image_names_the_make_target(tmp_path: Path) -> None:
    env = _fake_docker(tmp_path, '[ "$1 $2" = "image inspect" ] && exit 1; exit 0')
    result = _stack(env, "up")
    assert result.returncode != 0
    assert "make base-image images" in result.stderr


def test_unreachable_tracking_server_stops_before_anything_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import stack_setup

    url = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("MOVIE_ROULETTE_MLFLOW_URL", url)
    with pytest.raises(SystemExit) as exit_info:
        stack_setup.main(["--team", "--artifact-dir", str(tmp_path / "a")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"The MLflow tracking server at {url} does not answer" in err
    assert "make stack-up" in err
    assert not (tmp_path / "a").exists()


def test_a_missing_password_names_the_settings_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import stack_setup

    monkeypatch.delenv("MR_ZENML_PASSWORD", raising=False)
    monkeypatch.setenv("MR_ENV_FILE", str(tmp_path / "team.env"))
    (tmp_path / "team.env").write_text("MR_ZENML_PASSWORD=\n")
    with pytest.raises(stack_setup.TeamStackError, match="MR_ZENML_PASSWORD is not set.*team.env"):
        stack_setup.team_setting("MR_ZENML_PASSWORD")
    (tmp_path / "team.env").write_text("# x\nMR_ZENML_PASSWORD=s3cret\n")
    assert stack_setup.team_setting("MR_ZENML_PASSWORD") == "s3cret"


def _entrypoint():  # noqa: ANN202
    spec = importlib.util.spec_from_file_location("entrypoint", REPO / "docker" / "entrypoint.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_entrypoint_wait_gives_up_naming_what_and_the_fix() -> None:
    entrypoint = _entrypoint()
    url = f"http://127.0.0.1:{_closed_port()}/health"
    with pytest.raises(SystemExit) as exit_info:
        entrypoint.wait_for("the MLflow server", entrypoint.http_ok(url), 1.0, "Start it.")
    message = str(exit_info.value.code)
    assert message.startswith("entrypoint: the MLflow server is not ready after 1 s (")
    assert message.endswith("Start it.")


def test_entrypoint_unknown_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    entrypoint = _entrypoint()
    monkeypatch.delenv("MLFLOW_BACKEND_STORE_URI", raising=False)
    with pytest.raises(SystemExit, match="MLFLOW_BACKEND_STORE_URI is not set"):
        entrypoint.mlflow_server([])
