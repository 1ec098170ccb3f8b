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
* every complete line carries a checksum, and its payload is validated again when read (a line
  with a valid checksum but, say, a text user id is as damaged as one with a bad checksum), so a
  damaged line is reported with its line number and skipped, and the records around it are read.

Limits (docs/operations.md): a string field longer than `MAX_STRING_CHARS` is stored truncated
with a marker, a record line longer than `MAX_RECORD_BYTES` is refused, and the reader never
holds more than one line of `MAX_READ_LINE_BYTES` plus the `max_bytes` a caller asks for.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import os
import re
import time
from collections.abc import Collection, Iterable, Iterator, Mapping
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
    # a request logger's records lost since its previous log_writer event (refused, dropped,
    # failed): see monitoring/request_log.py
    "log_writer": ("pid",),
    # online experiments (src/movie_roulette/experiments): a recommendation list or spin shown
    # to a user through an arm, and an experiment's own events (e.g. a challenger fallback)
    "impression": ("experiment_id", "arm", "model_version"),
    "experiment": ("experiment_id", "action"),
}
RATING_SCALE = (0.5, 5.0)
MAX_STRING_CHARS = 1_000  # longer string values are stored cut, ending in TRUNCATED_MARKER
TRUNCATED_MARKER = "...[truncated from {n} chars]"
MAX_RECORD_BYTES = 64 * 1024  # a longer record line is refused by the writer
MAX_READ_LINE_BYTES = 1024 * 1024  # a longer line is reported damaged without being loaded
READ_CHUNK_BYTES = 1024 * 1024
INT64_MAX = 2**63 - 1
MAX_TS = 2.0**40  # unix seconds (year ~36812): any later timestamp is corrupt


class EventLogError(MovieRouletteError):
    """An event is malformed or the log cannot be written/read; the message names the problem."""


@dataclass(frozen=True)
class Event:
    type: str
    ts: float  # unix seconds (float)
    data: dict[str, Any]
    offset: int  # byte offset of the record's line in the file
    line: int  # 1-based line number in the file


@dataclass
class ReadResult:
    events: list[Event]
    end_offset: int  # byte offset just after the last line read (a resume cursor)
    damaged: list[dict[str, Any]] = field(default_factory=list)  # {line, offset, reason}
    torn_tail: bytes | None = None  # a final record without its newline (a killed writer)
    end_line: int = 1  # the line number of the line at end_offset (resume with first_line=)
    more: bool = False  # max_bytes stopped the read before the end of the log
    torn_tail_size: int = 0  # bytes of the torn tail (torn_tail keeps at most one line's limit)

    @property
    def clean(self) -> bool:
        return not self.damaged and self.torn_tail is None

    def damage_summary(self, path: str | Path, damaged_total: int | None = None) -> str | None:
        """A one-paragraph warning naming the damaged lines and the torn tail; None if clean.
        `damaged_total`: how many lines were damaged when `damaged` lists only the first."""
        if self.clean:
            return None
        parts = []
        if self.damaged:
            total = max(damaged_total or 0, len(self.damaged))
            shown = ", ".join(f"line {d['line']} ({d['reason']})" for d in self.damaged[:10])
            more = f" and {total - 10} more" if total > 10 else ""
            parts.append(f"{total} damaged line(s) skipped: {shown}{more}")
        if self.torn_tail is not None:
            parts.append(
                f"a torn final record of {self.torn_tail_size} bytes at line {self.end_line} "
                "(a writer was killed mid-write; it is skipped once the next record is written)"
            )
        return f"event log {path}: " + "; ".join(parts) + "."


@dataclass(frozen=True)
class AppendResult:
    """What `EventLog.append_each` did: the offsets of the written records, the refused ones."""

    offsets: list[int]  # byte offset of each written record, in input order
    refused: list[tuple[int, str]]  # (index in the input, why the record was refused)


def _canonical(record: Mapping[str, Any]) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def _checksum(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(_canonical(body)).hexdigest()


def truncate_text(value: str, limit: int = MAX_STRING_CHARS) -> str:
    """`value` cut to at most `limit` characters, ending in a marker saying how long it was
    (a truncated value is not truncated again)."""
    if len(value) <= limit:
        return value
    marker = TRUNCATED_MARKER.format(n=len(value))
    return value[: limit - len(marker)] + marker


def _plain(value: Any, where: str) -> Any:
    """JSON-safe copy of a payload value (numpy scalars -> Python, NaN rejected, long strings
    truncated with a marker)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        raise EventLogError(f"{where}: {value!r} is not a finite number; events store JSON.")
    if isinstance(value, str):
        return truncate_text(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if value is None or isinstance(value, int | float | bool):
        return value
    raise EventLogError(f"{where}: {type(value).__name__} values cannot be logged; use JSON types.")


def _int_id(data: Mapping[str, Any], name: str, event_type: str) -> int:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise EventLogError(f"{event_type} event: {name} must be an integer id, got {value!r}.")
    if not 0 <= value <= INT64_MAX:
        raise EventLogError(f"{event_type} event: {name} {value} is outside 0..2^63-1.")
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


def _timestamp(ts: Any) -> float:
    if isinstance(ts, bool) or not isinstance(ts, int | float) or not 0 <= ts < MAX_TS:
        raise EventLogError(f"ts must be unix seconds in [0, 2^40), got {ts!r}.")
    return float(ts)


def encode_record(event_type: str, data: Mapping[str, Any], ts: float | None = None) -> bytes:
    """The exact bytes of one record line (with checksum and trailing newline)."""
    payload = validate_event(event_type, data)
    body = {
        "v": FORMAT_VERSION,
        "type": event_type,
        "ts": _timestamp(time.time() if ts is None else ts),
        "data": payload,
    }
    line = _canonical({**body, "sha256": _checksum(body)}) + b"\n"
    if len(line) > MAX_RECORD_BYTES:
        raise EventLogError(
            f"{event_type} event: the record is {len(line)} bytes, over the {MAX_RECORD_BYTES}-"
            "byte limit; log fewer or shorter fields."
        )
    return line


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
        """Append several events under one lock and one fsync, all or none: one invalid event
        raises `EventLogError` and nothing is written (see `append_each` for a batch writer)."""
        records = [encode_record(t, d, ts) for t, d, ts in events]  # validate before touching disk
        return self._write(records)

    def append_each(
        self, events: Iterable[tuple[str, Mapping[str, Any], float | None]]
    ) -> AppendResult:
        """Append every valid event under one lock and one fsync; an invalid one is refused
        alone and reported (its index and why), never taking the others with it."""
        records: list[bytes] = []
        refused: list[tuple[int, str]] = []
        for index, (event_type, data, ts) in enumerate(events):
            try:
                records.append(encode_record(event_type, data, ts))
            except (EventLogError, TypeError, ValueError, RecursionError) as err:
                refused.append((index, f"{type(err).__name__}: {err}"))
        return AppendResult(offsets=self._write(records), refused=refused)

    def _write(self, records: list[bytes]) -> list[int]:
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
    def read(
        self,
        start_offset: int = 0,
        max_bytes: int | None = None,
        first_line: int | None = None,
        types: Collection[str] | None = None,
        wait_for_writers: bool = True,
    ) -> ReadResult:
        """Every complete, valid record from `start_offset` (a line start) onwards.

        The file is read in chunks: at most `max_bytes` of lines (at least one line) are read,
        and `more` says whether the log goes on (resume at `end_offset` / `end_line`). A line
        longer than `MAX_READ_LINE_BYTES` is reported damaged without being held in memory.
        `first_line` is the line number at `start_offset` (counted from the file when omitted:
        a reader that resumes should pass `end_line`, or every read counts the file's newlines
        from its start). `types`: only records of these types are returned; a record the writer
        wrote of another type is skipped without being parsed (`_other_type`).
        `wait_for_writers=False` reads without the shared lock, so it never waits for a writer's
        write and fsync (milliseconds on a busy disk; a model server reads on its request path):
        a record still being written then looks like a torn tail, which a resuming reader simply
        reads again next time.
        """
        if start_offset < 0:
            raise EventLogError(f"start_offset must be >= 0, got {start_offset}.")
        if max_bytes is not None and max_bytes < 1:
            raise EventLogError(f"max_bytes must be at least 1, got {max_bytes}.")
        if not self.path.exists():
            if start_offset:
                raise EventLogError(
                    f"{self.path} does not exist but a cursor at byte {start_offset} was given; "
                    "the log was moved or deleted."
                )
            return ReadResult(events=[], end_offset=0)
        with open(self.path, "rb") as handle:
            # The size under a shared lock: no writer is mid-record, so a partial final line
            # is a writer that died, not one that is still writing.
            if wait_for_writers:
                fcntl.flock(handle.fileno(), fcntl.LOCK_SH)
            try:
                size = os.fstat(handle.fileno()).st_size
            finally:
                if wait_for_writers:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            if start_offset > size:
                raise EventLogError(
                    f"cursor at byte {start_offset} is past the end of {self.path} ({size} "
                    "bytes): the log was truncated or replaced."
                )
            if first_line is None:
                first_line = 1 + _count_newlines(handle, start_offset)
            wanted = None if types is None else frozenset(types)
            return self._read_lines(handle, start_offset, size, max_bytes, first_line, wanted)

    def _read_lines(
        self,
        handle: Any,
        start: int,
        size: int,
        max_bytes: int | None,
        first_line: int,
        types: frozenset[str] | None = None,
    ) -> ReadResult:
        result = ReadResult(events=[], end_offset=start, end_line=first_line)
        line_no = first_line
        offset = start
        for raw, length, complete in _lines(handle, start, size):
            if not complete:
                result.torn_tail = raw if raw is not None else b""
                result.torn_tail_size = length
                break
            if max_bytes is not None and offset > start and offset + length - start > max_bytes:
                result.more = True
                break
            if raw is None:
                reason = f"line of {length} bytes exceeds the {MAX_READ_LINE_BYTES}-byte limit"
                parsed: dict[str, Any] | str | None = reason
            elif types is not None and _other_type(raw, types):
                parsed = None  # a record of a type not asked for: skipped unparsed
            else:
                parsed = self._parse(raw)
            if isinstance(parsed, dict) and types is not None and parsed["type"] not in types:
                parsed = None
            if parsed is None:
                pass
            elif isinstance(parsed, str):
                result.damaged.append({"line": line_no, "offset": offset, "reason": parsed})
            else:
                result.events.append(
                    Event(parsed["type"], parsed["ts"], parsed["data"], offset, line_no)
                )
            offset += length
            line_no += 1
        result.end_offset = offset
        result.end_line = line_no
        return result

    @staticmethod
    def _parse(raw: bytes) -> dict[str, Any] | str:
        """The record (payload validated), or a string saying why the line is damaged."""
        if not raw.strip():
            return "empty line"
        try:
            record = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            return f"not valid JSON ({err.msg if hasattr(err, 'msg') else err})"
        except RecursionError:
            return "not valid JSON (nested too deeply)"
        if not isinstance(record, dict) or "sha256" not in record:
            return "not a record (no checksum)"
        claimed = record.pop("sha256")
        try:
            checksum = _checksum(record)
        except (TypeError, ValueError, RecursionError) as err:
            return f"not a record ({err})"
        if checksum != claimed:
            return "checksum mismatch"
        if record.get("v") != FORMAT_VERSION or record.get("type") not in EVENT_FIELDS:
            return f"unsupported record version/type ({record.get('v')!r}, {record.get('type')!r})"
        try:
            record["ts"] = _timestamp(record.get("ts"))
            record["data"] = validate_event(record["type"], record.get("data"))
        except EventLogError as err:
            return f"invalid payload: {err}"
        except RecursionError:
            return "invalid payload: nested too deeply"
        return record


# The end of a line as `encode_record` writes it: the canonical JSON's keys are sorted, so the
# record's own "type" and "v" are its last two members (the payload, "data", comes first).
_CANONICAL_TAIL = re.compile(rb',"type":"([a-z_]+)","v":1\}\Z')


def _other_type(raw: bytes, types: frozenset[str]) -> bool:
    """True when `raw` is a line as the writer writes it whose record type is not in `types`
    (decided from its last bytes, without parsing it); False when unsure (then it is parsed).
    In a valid JSON object the final `,"type":"...","v":1}` can only be its own last members:
    quotes inside strings are escaped and a nested object would end in a second brace."""
    found = _CANONICAL_TAIL.search(raw, max(0, len(raw) - 64))
    return found is not None and found.group(1).decode() not in types


def _count_newlines(handle: Any, end: int) -> int:
    """Newlines in the first `end` bytes, read in chunks."""
    handle.seek(0)
    count = 0
    remaining = end
    while remaining > 0:
        chunk = handle.read(min(READ_CHUNK_BYTES, remaining))
        if not chunk:
            break
        count += chunk.count(b"\n")
        remaining -= len(chunk)
    return count


def _lines(handle: Any, start: int, size: int) -> Iterator[tuple[bytes | None, int, bool]]:
    """(line without its newline or None when over the limit, bytes incl. newline, complete)
    for each line of [start, size), read in chunks; the last one is incomplete if the file does
    not end with a newline."""
    handle.seek(start)
    remaining = size - start
    buffer = b""
    skipping = 0  # > 0: inside an over-long line, this many bytes of it seen (not kept)
    while remaining > 0:
        chunk = handle.read(min(READ_CHUNK_BYTES, remaining))
        if not chunk:
            break
        remaining -= len(chunk)
        buffer += chunk
        begin = 0
        while True:
            end = buffer.find(b"\n", begin)
            if end < 0:
                break
            if skipping:  # the end of an over-long line (the buffer restarted at its tail)
                yield None, skipping + end - begin + 1, True
                skipping = 0
            elif end - begin > MAX_READ_LINE_BYTES:
                yield None, end - begin + 1, True
            else:
                yield buffer[begin:end], end - begin + 1, True
            begin = end + 1
        buffer = buffer[begin:]
        if skipping or len(buffer) > MAX_READ_LINE_BYTES:
            skipping += len(buffer)
            buffer = b""
    if skipping:
        yield None, skipping, False
    elif buffer:
        yield buffer, len(buffer), False


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


def _is_id(value: Any) -> bool:
    return isinstance(value, int | str) and not isinstance(value, bool)


class TrafficSummary:
    """`traffic_summary` built chunk by chunk in bounded memory (latency percentiles from a
    uniform sample of at most `max_latencies` requests; exact below that)."""

    def __init__(self, max_latencies: int = 200_000, seed: int = 0) -> None:
        self.requests = 0
        self.kinds: dict[str, int] = {}
        self.fallbacks = 0
        self.users: set[Any] = set()
        self.lost = {"refused": 0, "dropped": 0, "failed": 0}
        self.max_latencies = max_latencies
        self._latencies: list[float] = []
        self._seen_latencies = 0
        self._rng = np.random.default_rng(seed)

    def add(self, events: Iterable[Event]) -> None:
        for e in events:
            if e.type == "log_writer":
                for name in self.lost:
                    value = e.data.get(name)
                    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                        self.lost[name] += value
            if e.type != "request":
                continue
            self.requests += 1
            kind = str(e.data["kind"])
            self.kinds[kind] = self.kinds.get(kind, 0) + 1
            self.fallbacks += bool(e.data.get("fallback"))
            if _is_id(e.data.get("user_id")):
                self.users.add(e.data["user_id"])
            latency = e.data.get("latency_ms")
            if isinstance(latency, int | float):
                self._sample(float(latency))

    def _sample(self, latency: float) -> None:
        """Reservoir sampling (algorithm R): every latency is kept with the same chance."""
        self._seen_latencies += 1
        if len(self._latencies) < self.max_latencies:
            self._latencies.append(latency)
            return
        slot = int(self._rng.integers(self._seen_latencies))
        if slot < self.max_latencies:
            self._latencies[slot] = latency

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "requests": self.requests,
            "requests_by_kind": dict(self.kinds),
            "fallback_share": self.fallbacks / self.requests if self.requests else 0.0,
            "users": len(self.users),
            "requests_not_logged": dict(self.lost),
        }
        if self._latencies:
            latencies = np.array(self._latencies)
            out["latency_ms_p50"] = float(np.percentile(latencies, 50))
            out["latency_ms_p95"] = float(np.percentile(latencies, 95))
        return out


def traffic_summary(events: Iterable[Event]) -> dict[str, Any]:
    """Model-server traffic: requests per kind, cold-start share, users, latency percentiles,
    and the requests the servers' loggers could not log (`log_writer` events)."""
    summary = TrafficSummary()
    summary.add(events)
    return summary.summary()
