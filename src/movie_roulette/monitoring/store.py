"""Durable store of the interaction batches the continuous-training pipeline has consumed.

Layout of `root` (one folder per model):

    state.json               cursor of each batch source, the committed batches, and which
                             batches each registered model version was trained on
    batches/batch-000001.parquet ...

Every write is atomic (temp file, fsync, rename, fsync of the folder), the state file is the
commit point, and each batch file's SHA-256 is recorded and checked when it is read, so a crash
never leaves a half-committed batch and a damaged file is reported instead of trained on.
A lock file serialises concurrent pipeline runs (a cron run and a manual one).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from movie_roulette import columns as C
from movie_roulette.exceptions import MovieRouletteError

STATE_VERSION = 1
INTERACTION_COLUMNS = [*C.RATINGS_COLUMNS, "event"]


class StoreError(MovieRouletteError):
    """The batch store is inconsistent, damaged, or was changed by another run."""


@dataclass(frozen=True)
class BatchRecord:
    index: int  # 1-based
    file: str  # relative to root
    rows: int
    ratings: int  # explicit ratings among the rows
    sha256: str
    source: str
    committed_at: float
    info: dict[str, Any]


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see the old or the new content, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def coerce_interactions(frame: pd.DataFrame) -> pd.DataFrame:
    """Interaction rows in the store's columns and dtypes (event defaults to "rating")."""
    missing = [c for c in C.RATINGS_COLUMNS if c not in frame.columns]
    if missing:
        raise StoreError(f"interaction batch misses column(s) {missing}.")
    out = frame.copy()
    if "event" not in out.columns:
        out["event"] = "rating"
    out = out[INTERACTION_COLUMNS].astype(
        {
            C.USER_ID: "int64",
            C.MOVIE_ID: "int64",
            C.RATING: "float64",
            C.TIMESTAMP: "int64",
            "event": "object",
        }
    )
    return out.reset_index(drop=True)


class InteractionStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser()
        self.state_path = self.root / "state.json"

    # ---- state -----------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive lock across processes for read-modify-write of the state."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def state(self) -> dict[str, Any]:
        if not self.state_path.exists():
            return {"version": STATE_VERSION, "cursors": {}, "batches": [], "models": {}}
        try:
            state = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise StoreError(
                f"{self.state_path} is unreadable ({err}); restore it from a backup or move the "
                "folder away to start the continuous pipeline from scratch."
            ) from err
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            version = state.get("version") if isinstance(state, dict) else None
            raise StoreError(
                f"{self.state_path} has state version {version!r}; this code "
                f"reads version {STATE_VERSION}."
            )
        self._check_state(state)
        return state

    def _check_state(self, state: dict[str, Any]) -> None:
        """The state's shape, so a hand-edited or damaged file is named, not a KeyError."""
        problems = [
            f"{key!r} must be {kind.__name__ if isinstance(kind, type) else 'an object'}"
            for key, kind in (("cursors", dict), ("batches", list), ("models", dict))
            if not isinstance(state.get(key), kind)
        ]
        if not problems:
            fields = {f.name for f in BatchRecord.__dataclass_fields__.values()}
            for position, batch in enumerate(state["batches"], start=1):
                if not isinstance(batch, dict) or set(batch) != fields:
                    problems.append(f"batches[{position}] is not a batch record ({batch!r:.80})")
                    break
            for source, cursor in state["cursors"].items():
                if not isinstance(cursor, dict):
                    problems.append(f"the {source!r} cursor is not an object ({cursor!r:.80})")
            for version, model in state["models"].items():
                if not isinstance(model, dict) or not isinstance(model.get("batches"), int):
                    problems.append(f"model {version!r} has no batch count ({model!r:.80})")
        if problems:
            raise StoreError(
                f"{self.state_path} is damaged: {'; '.join(problems)}. Restore it from a backup "
                "or move the folder away to start the continuous pipeline from scratch."
            )

    def _write_state(self, state: dict[str, Any]) -> None:
        atomic_write_bytes(
            self.state_path, json.dumps(state, indent=1, sort_keys=True).encode("utf-8")
        )

    def cursor(self, source: str) -> dict[str, Any]:
        """The saved position of a batch source ({} when it has never been read)."""
        return dict(self.state()["cursors"].get(source, {}))

    def batches(self) -> list[BatchRecord]:
        return [BatchRecord(**b) for b in self.state()["batches"]]

    # ---- commit ----------------------------------------------------------------------------
    def commit(
        self,
        batch: pd.DataFrame,
        source: str,
        expected_cursor: dict[str, Any],
        new_cursor: dict[str, Any],
        info: dict[str, Any] | None = None,
    ) -> BatchRecord | None:
        """Store a batch and move the source's cursor, atomically; None for an empty batch.

        `expected_cursor` is the cursor the batch was read from: if another run moved it in the
        meantime the commit is refused, so a batch is never stored twice.
        """
        frame = coerce_interactions(batch)
        with self.lock():
            state = self.state()
            current = state["cursors"].get(source, {})
            if current != expected_cursor:
                raise StoreError(
                    f"the {source!r} cursor moved from {expected_cursor} to {current} while this "
                    "batch was being prepared (another run committed first); run again."
                )
            record = None
            if len(frame):
                index = len(state["batches"]) + 1
                rel = f"batches/batch-{index:06d}.parquet"
                data = _parquet_bytes(frame)
                atomic_write_bytes(self.root / rel, data)
                record = BatchRecord(
                    index=index,
                    file=rel,
                    rows=len(frame),
                    ratings=int(frame[C.RATING].notna().sum()),
                    sha256=hashlib.sha256(data).hexdigest(),
                    source=source,
                    committed_at=time.time(),
                    info=info or {},
                )
                state["batches"].append(asdict(record))
            state["cursors"][source] = new_cursor
            self._write_state(state)  # the commit point
        return record

    # ---- reading batches -------------------------------------------------------------------
    def load(self, start: int = 0, stop: int | None = None) -> pd.DataFrame:
        """Rows of batches[start:stop] (0-based slice), checksum-verified, in commit order."""
        frames = []
        for record in self.batches()[start:stop]:
            path = self.root / record.file
            try:
                data = path.read_bytes()
            except OSError as err:
                raise StoreError(f"batch {record.index} ({path}) is missing: {err}") from err
            if hashlib.sha256(data).hexdigest() != record.sha256:
                raise StoreError(
                    f"batch {record.index} ({path}) does not match its recorded SHA-256; the "
                    "file was changed or damaged after it was committed."
                )
            frames.append(pd.read_parquet(path))
        if not frames:
            return coerce_interactions(pd.DataFrame(columns=C.RATINGS_COLUMNS))
        return coerce_interactions(pd.concat(frames, ignore_index=True))

    def rows_after(self, n_batches: int) -> int:
        return sum(b.rows for b in self.batches()[n_batches:])

    # ---- which data each model version saw -------------------------------------------------
    def record_model(self, version: str, n_batches: int) -> None:
        with self.lock():
            state = self.state()
            if not 0 <= n_batches <= len(state["batches"]):
                raise StoreError(
                    f"model version {version}: n_batches={n_batches} is outside "
                    f"0..{len(state['batches'])}."
                )
            state["models"][str(version)] = {"batches": n_batches, "recorded_at": time.time()}
            self._write_state(state)

    def batches_for_model(self, version: str | None) -> int:
        """How many stored batches a model version was trained on (0 when unknown: base data)."""
        if version is None:
            return 0
        return int(self.state()["models"].get(str(version), {}).get("batches", 0))


def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "batch.parquet"
        frame.to_parquet(path, index=False)
        return path.read_bytes()


def merge_interactions(base: pd.DataFrame, batches: pd.DataFrame) -> pd.DataFrame:
    """Base ratings + stored explicit ratings; a later rating of the same (user, movie) wins."""
    explicit = batches[batches[C.RATING].notna()][C.RATINGS_COLUMNS]
    merged = pd.concat([base[C.RATINGS_COLUMNS], explicit], ignore_index=True)
    merged = merged.drop_duplicates([C.USER_ID, C.MOVIE_ID], keep="last")
    return merged.astype(
        {C.USER_ID: "int64", C.MOVIE_ID: "int64", C.RATING: "float64", C.TIMESTAMP: "int64"}
    ).reset_index(drop=True)
