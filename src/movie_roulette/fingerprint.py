"""Data checksums and code version, recorded in every bundle and model version."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pandas as pd

import movie_roulette


def frame_checksum(frame: pd.DataFrame) -> str:
    """SHA-256 over a frame's column names and row hashes (order-sensitive, dtype-stable)."""
    digest = hashlib.sha256()
    digest.update("|".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def _git(repo_dir: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo_dir, capture_output=True, text=True, timeout=5, check=True
    ).stdout.strip()


def code_version(repo_dir: Path | None = None) -> str:
    """`<package version>+<git commit>[.dirty]`, or just the package version outside git."""
    repo_dir = repo_dir or Path(__file__).resolve().parents[2]
    version = movie_roulette.__version__
    try:
        commit = _git(repo_dir, "rev-parse", "--short=12", "HEAD")
        dirty = _git(repo_dir, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return version
    return f"{version}+{commit}{'.dirty' if dirty else ''}"
