"""Durable append-only event log for live traffic (model-server requests, web-app feedback).

Format: JSON lines. Every record is one line `{"v": 1, "type": ..., "ts": ..., "data": {...},
"sha256": <hex of the canonical JSON of the other fields>}` followed by a newline.

Durability and concurrency:

* a record is written with a single `os.write` on a descriptor opened with `O_APPEND`, while an
  exclusive `flock` is held, then `fsync`ed before the lock is released. Writers in several
  processes therefore never interleave, and a record reported as written survives a crash;
* a writer killed mid-write can leave at most one torn (partial) final line. The reader reports
  it (`ReadResult.torn_tail`) instead of failing, and the next writer first terminates the torn
  line with a newline so its own record starts on a fresh line (the torn line is then reported
  as `damaged`, never silently merged into a valid record);
* every complete line carries a checksum, so a damaged line is detected and reported, and the
  records around it are still read.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from movie_roulette import columns as C
from movie_roulette.exceptions import MovieRouletteError

FORMAT_VERSION = 1
# Feedback and traffic event types; the payload fields each one requires.
EVENT_FIELDS: dict[str, tuple[str, ...]] = {
    "request": ("kind",),  # a model-server request (user_id, k, genre, latency_ms, fallback...)
    "click": ("user_id", "movie_id"),  # the user opened a recommended movie
    "rating": ("user_id", "movie_id", "rating"),  # the user rated a movie in the web app
    "spin_accepted": ("user_id", "movie_id"),  # the user accepted the roulette's pick
}
RATING_SCALE = (0.5, 5.0)


class EventLogError(MovieRouletteError):
    """An event is malformed or the log cannot be written/read; the message names the problem."""


@dataclass(frozen=True)
class Event:
    type: str
    ts: float  # unix seconds (float)
    data: dict[str, Any]
    offset: int  # byte offset of the record's line in the file
    line: int  # 1-based line number


@dataclass
class ReadResult:
    events: list[Event]
    end_offset: int  # byte offset just after the last complete line (a resume cursor)
    damaged: list[dict[str, Any]] = field(default_factory=list)  # {line, offset, reason}
    torn_tail: bytes | None = None  # a final record without its newline (a killed writer)

    @property
    def clean(self) -> bool:
        return not self.damaged and self.torn_tail is None


def _canonical(record: Mapping[str, Any]) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def _checksum(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(_canonical(body)).hexdigest()


def _plain(value: Any, where: str) -> Any:
    """JSON-safe copy of a payload value (numpy scalars -> Python, NaN rejected)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        raise EventLogError(f"{where}: {value!r} is not a finite number; events store JSON.")
    if isinstance(value, Mapping):
        return {str(k): _plain(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise EventLogError(f"{where}: {type(value).__name__} values cannot be logged; use JSON types.")


def _int_id(data: Mapping[str, Any], name: str, event_type: str) -> int:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise EventLogError(f"{event_type} event: {name} must be an integer id, got {value!r}.")
    return value


def validate_event(event_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """Check an event's type and required fields; return a JSON-safe copy of its payload."""
    if event_type not in EVENT_FIELDS:
        raise EventLogError(
            f"unknown event type {event_type!r}; use one of {sorted(EVENT_FIELDS)}."
        )
    if not isinstance(data, Mapping):
        raise EventLogError(f"{event_type} event: the payload must be a mapping, got {data!r}.")
    payload = _plain(dict(data), event_type)
    missing = [name for name in EVENT_FIELDS[event_type] if payload.get(name) is None]
    if missing:
        raise EventLogError(f"{event_type} event: missing field(s) {missing}.")
    for name in ("user_id", "movie_id"):
        if name in EVENT_FIELDS[event_type]:
            _int_id(payload, name, event_type)
    if event_type == "rating":
        rating = payload["rating"]
        low, high = RATING_SCALE
        if (
            isinstance(rating, bool)
            or not isinstance(rating, int | float)
            or not low <= rating <= high
        ):
            raise EventLogError(
                f"rating event: rating must be a number in [{low}, {high}], got {rating!r}."
            )
        payload["rating"] = float(rating)
    if event_type == "request" and not isinstance(payload["kind"], str):
        raise EventLogError(f"request event: kind must be a string, got {payload['kind']!r}.")
    return payload


def encode_record(event_type: str, data: Mapping[str, Any], ts: float | None = None) -> bytes:
    """The exact bytes of one record line (with checksum and trailing newline)."""
    payload = validate_event(event_type, data)
    body = {
        "v": FORMAT_VERSION,
        "type": event_type,
        "ts": float(time.time() if ts is None else ts),
        "data": payload,
    }
    return _canonical({**body, "sha256": _checksum(body)}) + b"\n"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class EventLog:
    """Append-only JSON-lines event log; safe for concurrent writers in several processes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    # ---- writing ---------------------------------------------------------------------------
    def append(self, event_type: str, data: Mapping[str, Any], ts: float | None = None) -> int:
        """Durably append one event; return the byte offset its line starts at."""
        return self.append_many([(event_type, data, ts)])[0]

    def append_many(
        self, events: Iterable[tuple[str, Mapping[str, Any], float | None]]
    ) -> list[int]:
        """Append several events under one lock and one fsync (each record is still one write)."""
        records = [encode_record(t, d, ts) for t, d, ts in events]  # validate before touching disk
        if not records:
            return []
        created = not self.path.exists()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        offsets: list[int] = []
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    # A writer died mid-record: close its torn line so ours starts fresh.
                    self._write_all(fd, b"\n")
                    size += 1
                for record in records:
                    offsets.append(size)
                    self._write_all(fd, record)
                    size += len(record)
                os.fsync(fd)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
        if created:
            _fsync_dir(self.path.parent)
        return offsets

    @staticmethod
    def _write_all(fd: int, data: bytes) -> None:
        view = memoryview(data)
        while view:  # a regular file takes it in one write; loop only for partial writes
            written = os.write(fd, view)
            view = view[written:]

    # Convenience writers with the field names the rest of the project uses.
    def log_request(self, request: Mapping[str, Any], **extra: Any) -> int:
        return self.append("request", {**dict(request), **extra})

    def log_rating(self, user_id: int, movie_id: int, rating: float, **extra: Any) -> int:
        return self.append(
            "rating", {"user_id": user_id, "movie_id": movie_id, "rating": rating, **extra}
        )

    def log_click(self, user_id: int, movie_id: int, **extra: Any) -> int:
        return self.append("click", {"user_id": user_id, "movie_id": movie_id, **extra})

    def log_spin_accepted(self, user_id: int, movie_id: int, **extra: Any) -> int:
        return self.append("spin_accepted", {"user_id": user_id, "movie_id": movie_id, **extra})

    # ---- reading ---------------------------------------------------------------------------
    def read(self, start_offset: int = 0) -> ReadResult:
        """Every complete, checksum-valid record from `start_offset` (a line start) onwards."""
        if start_offset < 0:
            raise EventLogError(f"start_offset must be >= 0, got {start_offset}.")
        if not self.path.exists():
            if start_offset:
                raise EventLogError(
                    f"{self.path} does not exist but a cursor at byte {start_offset} was given; "
                    "the log was moved or deleted."
                )
            return ReadResult(events=[], end_offset=0)
        with open(self.path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            if start_offset > size:
                raise EventLogError(
                    f"cursor at byte {start_offset} is past the end of {self.path} ({size} "
                    "bytes): the log was truncated or replaced."
                )
            handle.seek(start_offset)
            blob = handle.read()
        result = ReadResult(events=[], end_offset=start_offset)
        lines = blob.split(b"\n")
        tail = lines.pop()  # bytes after the last newline: b"" when the file ends cleanly
        offset = start_offset
        line_no = 0  # line numbers count from start_offset
        for raw in lines:
            line_no += 1
            parsed = self._parse(raw)
            if isinstance(parsed, str):
                result.damaged.append({"line": line_no, "offset": offset, "reason": parsed})
            else:
                result.events.append(
                    Event(parsed["type"], parsed["ts"], parsed["data"], offset, line_no)
                )
            offset += len(raw) + 1
        result.end_offset = offset
        if tail:
            result.torn_tail = tail
        return result

    @staticmethod
    def _parse(raw: bytes) -> dict[str, Any] | str:
        """The record, or a string saying why the line is damaged."""
        if not raw.strip():
            return "empty line"
        try:
            record = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            return f"not valid JSON ({err.msg if hasattr(err, 'msg') else err})"
        if not isinstance(record, dict) or "sha256" not in record:
            return "not a record (no checksum)"
        claimed = record.pop("sha256")
        if _checksum(record) != claimed:
            return "checksum mismatch"
        if record.get("v") != FORMAT_VERSION or record.get("type") not in EVENT_FIELDS:
            return f"unsupported record version/type ({record.get('v')!r}, {record.get('type')!r})"
        return record


# ---- frames for monitoring --------------------------------------------------------------------


def ratings_from_events(events: Iterable[Event]) -> pd.DataFrame:
    """Rating feedback as a ratings frame (the contract's columns and dtypes).

    A user who rates the same movie twice keeps the latest rating, as a re-rating replaces the
    previous one in the web app.
    """
    rows = [
        (e.data["user_id"], e.data["movie_id"], e.data["rating"], int(e.ts))
        for e in events
        if e.type == "rating"
    ]
    frame = pd.DataFrame(rows, columns=C.RATINGS_COLUMNS)
    frame = frame.astype({C.USER_ID: "int64", C.MOVIE_ID: "int64", C.RATING: "float64"})
    frame[C.TIMESTAMP] = frame[C.TIMESTAMP].astype("int64")
    frame = frame.drop_duplicates([C.USER_ID, C.MOVIE_ID], keep="last")
    return frame.sort_values(C.TIMESTAMP, kind="stable").reset_index(drop=True)


def interactions_from_events(events: Iterable[Event]) -> pd.DataFrame:
    """Every feedback event as one interaction row: the "current" frame for the drift check.

    Columns: user_id, movie_id, rating (NaN for implicit feedback), timestamp, event
    ("rating" | "click" | "spin_accepted"). Requests are traffic, not interactions: see
    `traffic_summary`.
    """
    rows = [
        (
            e.data["user_id"],
            e.data["movie_id"],
            float(e.data["rating"]) if e.type == "rating" else np.nan,
            int(e.ts),
            e.type,
        )
        for e in events
        if e.type in ("rating", "click", "spin_accepted")
    ]
    frame = pd.DataFrame(rows, columns=[*C.RATINGS_COLUMNS, "event"])
    return frame.astype(
        {
            C.USER_ID: "int64",
            C.MOVIE_ID: "int64",
            C.RATING: "float64",
            C.TIMESTAMP: "int64",
            "event": "object",
        }
    )


def traffic_summary(events: Iterable[Event]) -> dict[str, Any]:
    """Model-server traffic: requests per kind, cold-start share, latency percentiles."""
    requests = [e for e in events if e.type == "request"]
    kinds: dict[str, int] = {}
    for e in requests:
        kinds[str(e.data["kind"])] = kinds.get(str(e.data["kind"]), 0) + 1
    fallbacks = [e for e in requests if e.data.get("fallback")]
    latencies = np.array(
        [
            float(e.data["latency_ms"])
            for e in requests
            if isinstance(e.data.get("latency_ms"), int | float)
        ]
    )
    summary: dict[str, Any] = {
        "requests": len(requests),
        "requests_by_kind": kinds,
        "fallback_share": len(fallbacks) / len(requests) if requests else 0.0,
        "users": len({e.data["user_id"] for e in requests if e.data.get("user_id") is not None}),
    }
    if latencies.size:
        summary["latency_ms_p50"] = float(np.percentile(latencies, 50))
        summary["latency_ms_p95"] = float(np.percentile(latencies, 95))
    return summary
