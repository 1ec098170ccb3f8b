"""docker/requirements.lock covers pyproject's dependencies (else: `make lock`)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[3]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (REPO / "docker" / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"not an exact pin: {line!r}"
            pins[_norm(name)] = version
    return pins


def test_every_runtime_dependency_is_pinned_within_its_range() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pins = _lock()
    problems = []
    for spec in project["dependencies"]:
        req = Requirement(spec)
        version = pins.get(_norm(req.name))
        if version is None:
            problems.append(f"{req.name} is not in the lock")
        elif not req.specifier.contains(version, prereleases=True):
            problems.append(f"{req.name}=={version} is outside {req.specifier}")
    assert not problems, "; ".join(problems) + ": run `make lock`"


def test_lock_has_no_dev_tools_and_runs_on_debian_python() -> None:
    pins = _lock()
    assert not {"pytest", "ruff", "playwright"} & set(pins)
    assert "psycopg2-binary" in pins  # MLflow's PostgreSQL driver in the image
    # Debian bookworm's python3.11 is 3.11.2; soupsieve>=3.0.2 requires >=3.11.5
    assert tuple(int(p) for p in pins["soupsieve"].split(".")[:3]) < (3, 0, 2)
