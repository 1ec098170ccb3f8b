"""Data checksums and code version, recorded in every bundle and model version."""

from __future__ import annotations

import hashlib
import itertools
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pandas as pd

import movie_roulette

CHECKSUM_CHUNK_ROWS = 1 << 20


def frame_checksum(
    frame: pd.DataFrame,
    columns: Sequence[str] | None = None,
    chunk_rows: int = CHECKSUM_CHUNK_ROWS,
) -> str:
    """SHA-256 over a frame's column names and row hashes (order-sensitive, dtype-stable; the
    index is not hashed). `columns`: hash only these, in this order (as `frame[columns]`
    would, without copying the whole frame).

    A row's hash depends on that row only, so the rows are hashed `chunk_rows` at a time: the
    digest is the same for any chunk size, and the memory is a chunk's (hashing 25M ratings at
    once held ~80 bytes a row: 2 GB)."""
    return frames_checksum([frame], columns, chunk_rows)


def frames_checksum(
    frames: Iterable[pd.DataFrame],
    columns: Sequence[str] | None = None,
    chunk_rows: int = CHECKSUM_CHUNK_ROWS,
) -> str:
    """`frame_checksum` of the frames' concatenation, without building it (the same digest
    where the frames' columns share dtypes: a row's hash depends on its values and dtypes).
    Without `columns`, the names hashed are the first frame's. `frames` may be a generator
    (e.g. batches read from files): each frame is hashed as it comes."""
    frames = iter(frames)
    first = next(frames, None)
    if first is None:
        raise ValueError("frames_checksum: give at least one frame.")
    names = list(first.columns if columns is None else columns)
    step = max(int(chunk_rows), 1)

    def chunks() -> Iterator[pd.DataFrame]:
        for frame in itertools.chain([first], frames):
            for start in range(0, len(frame), step):
                rows = frame.iloc[start : start + step]
                yield rows if columns is None else rows[names]

    return chunks_checksum(names, chunks())


def chunks_checksum(names: Sequence[str], chunks: Iterable[pd.DataFrame]) -> str:
    """`frame_checksum` of the concatenation of `chunks` (frames with the columns `names`, in
    that order), one chunk at a time: rows streamed from files hash as the whole frame would."""
    digest = hashlib.sha256()
    digest.update("|".join(map(str, names)).encode())
    for rows in chunks:
        digest.update(pd.util.hash_pandas_object(rows, index=False).to_numpy().tobytes())
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
