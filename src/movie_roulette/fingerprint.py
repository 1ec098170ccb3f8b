"""Data checksums and code version, recorded in every bundle and model version."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

import movie_roulette


def frame_checksum(frame: pd.DataFrame) -> str:
    """SHA-256 over a frame's column names and row hashes (order-sensitive, dtype-stable)."""
    digest = hashlib.sha256()
    digest.update("|".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def files_fingerprint(paths: Iterable[Path], salt: str = "") -> str:
    """SHA-256 over `salt` and each file's name and bytes, in path order: the same files with
    the same contents give the same value wherever they are, and any changed byte changes it.
    A path that is not a file counts as absent (its name, no bytes)."""
    digest = hashlib.sha256(salt.encode())
    for path in sorted(Path(p) for p in paths):
        digest.update(f"\0{path.name}\0".encode())
        if not path.is_file():
            digest.update(b"<absent>")
            continue
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def library_fingerprint(package_dir: Path | None = None) -> str:
    """SHA-256 over every Python file of the library (relative path and bytes).

    ZenML keys a step's cache by the step function's own source only, so a change to the
    library code a step calls would otherwise reuse results the old code computed: the
    fingerprint steps mix this in, and any library change reruns the data steps and
    everything after them."""
    root = package_dir or Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(f"\0{path.relative_to(root).as_posix()}\0".encode())
        digest.update(path.read_bytes())
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
