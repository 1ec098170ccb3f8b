"""Model-server request logging into the durable event log, off the request path.

An fsync per request would add milliseconds to every answer, so requests are queued and a
background thread appends them in batches (`EventLog.append_each`: one lock, one fsync per batch)
every `flush_seconds` (on a fixed cadence, not `flush_seconds` after the previous write ended) and
once more at exit. Promises (docs/operations.md, each with its test):

* what is written is never corrupted by a crash (see eventlog.py);
* a kill -9 loses at most what was answered in the last `LOSS_WINDOW_SECONDS` (the flush
  interval plus one batch write);
* one bad record (say a temperature of Infinity) is sanitised by `summarise` or, failing that,
  refused alone: the good records of its batch are written;
* a batch that cannot be written (disk full, log folder gone) is kept and retried at the next
  flush, within the queue's bound;
* the queue is bounded: under a flood, excess records are dropped and counted, never blocking a
  request.

Every refused, dropped or failed record is counted (`stats()`), announced as a warning on the
server's log (at most one line per `report_seconds`), and written to the event log itself as a
`log_writer` event, so the continuous pipeline reports what the log is missing.
"""

from __future__ import annotations

import atexit
import logging
import math
import os
import queue
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from movie_roulette.monitoring.eventlog import EventLog, truncate_text

log = logging.getLogger(__name__)

REQUEST_FIELDS = ("kind", "user_id", "movie_id", "title", "k", "genre", "temperature", "seed")
FLUSH_SECONDS = 0.05
# An answered request is on disk within this time: FLUSH_SECONDS plus one batch write. Proved by
# tests/unit/monitoring/test_request_log.py::test_a_killed_writer_loses_at_most_the_loss_window.
LOSS_WINDOW_SECONDS = 0.25
MAX_QUEUE = 100_000


@dataclass(frozen=True)
class WriterStats:
    """Counters of one process's request logger since it started."""

    written: int  # records appended to the event log
    refused: int  # records that could not be encoded (refused alone, the batch was written)
    dropped: int  # records not queued because the queue was full
    failed: int  # records lost because the log could not be written, even on retry
    write_errors: int  # batch writes that failed (their records were retried)
    queued: int  # records waiting for the next flush
    last_error: str | None

    @property
    def lost(self) -> int:
        return self.refused + self.dropped + self.failed


def _loggable(name: str, value: Any) -> Any:
    """A request value as JSON: numpy scalars unwrapped, whole floats as ints (not temperature),
    Infinity as the string "inf" (the request is logged, its value flagged), text truncated."""
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value.is_integer() and name != "temperature":
            return int(value)
        return value
    if isinstance(value, bool | int):
        return value
    return truncate_text(value if isinstance(value, str) else repr(value))


def summarise(request: Mapping[str, Any], answer: Mapping[str, Any] | None) -> dict[str, Any]:
    """The request's own fields (no NaN) plus what was answered: fallback, items, error.

    Always loggable: non-finite numbers become strings ("inf"), long text is truncated."""
    out: dict[str, Any] = {}
    for name in REQUEST_FIELDS:
        value = request.get(name)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        out[name] = _loggable(name, value)
    if not isinstance(out.get("kind"), str):
        out["kind"] = str(out.get("kind"))
    ratings = request.get("ratings")
    if isinstance(ratings, str) and ratings:
        out["profile_ratings"] = len(ratings)  # size only: a newcomer profile is not stored
    if answer is not None:
        if "error" in answer:
            out["error"] = str(answer["error"])[:200]
        fallback = answer.get("fallback")
        out["fallback"] = None if fallback is None else _loggable("fallback", fallback)
        items = answer.get("items") or ([answer["item"]] if answer.get("item") else [])
        out["movie_ids"] = [int(i["movie_id"]) for i in items]
    return out


class RequestLogger:
    def __init__(
        self,
        path: str | Path,
        flush_seconds: float = FLUSH_SECONDS,
        max_batch: int = 512,
        max_queue: int = MAX_QUEUE,
        report_seconds: float = 10.0,
    ) -> None:
        self.log = EventLog(path)
        self.flush_seconds = flush_seconds
        self.max_batch = max_batch
        self.max_queue = max_queue
        self.report_seconds = report_seconds
        self._queue: queue.Queue[tuple[str, dict[str, Any], float]] = queue.Queue(max_queue)
        self._retry: list[tuple[str, dict[str, Any], float]] = []  # a batch whose write failed
        self._lock = threading.Lock()  # one flush at a time (the thread, close, a test)
        self._count_lock = threading.Lock()  # counters bumped by request threads
        self.written = 0
        self.refused = 0
        self.dropped = 0
        self.failed = 0
        self.write_errors = 0
        self.last_error: str | None = None
        self._reported = {"refused": 0, "dropped": 0, "failed": 0}  # totals already reported
        self._warned = 0  # lost records + write errors at the last warning
        self._last_warning = -math.inf
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="request-log", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def record(
        self, request: Mapping[str, Any], answer: Mapping[str, Any] | None, **extra: Any
    ) -> None:
        try:
            data = {**summarise(request, answer), **extra}
        except Exception as err:  # never fail a request for its log line
            with self._count_lock:
                self.refused += 1
                self.last_error = f"summarise: {type(err).__name__}: {err}"
            return
        try:
            self._queue.put_nowait(("request", data, time.time()))
        except queue.Full:
            with self._count_lock:
                self.dropped += 1

    def stats(self) -> WriterStats:
        return WriterStats(
            written=self.written,
            refused=self.refused,
            dropped=self.dropped,
            failed=self.failed,
            write_errors=self.write_errors,
            queued=self._queue.qsize() + len(self._retry),
            last_error=self.last_error,
        )

    def _drain(self) -> list[tuple[str, dict[str, Any], float]]:
        batch, self._retry = self._retry, []
        while len(batch) < self.max_batch:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def flush(self, final: bool = False) -> int:
        """Write everything queued; return how many records were written."""
        with self._lock:
            written = 0
            while batch := self._drain():
                try:
                    result = self.log.append_each(batch)
                except Exception as err:  # never take the server down for its log
                    self.write_errors += 1
                    self.last_error = f"{type(err).__name__}: {err}"
                    self._keep_for_retry(batch, final)
                    break
                with self._count_lock:
                    self.refused += len(result.refused)
                written += len(batch) - len(result.refused)
                for _, why in result.refused:
                    self.last_error = why
            self.written += written
            self._write_report()
            self._warn(final)
            return written

    def _write_report(self) -> None:
        """A `log_writer` event with the records lost since the previous one, if any."""
        totals = self._totals()
        delta = {k: totals[k] - self._reported[k] for k in totals}
        if not any(delta.values()):
            return
        report = {"pid": os.getpid(), **delta, "last_error": self.last_error}
        try:
            self.log.append_each([("log_writer", report, None)])
        except Exception as err:  # reported with the next successful write
            self.last_error = f"{type(err).__name__}: {err}"
            return
        self._reported = totals

    def _keep_for_retry(self, batch: list[tuple[str, dict[str, Any], float]], final: bool) -> None:
        if final:
            self.failed += len(batch)
            return
        room = max(self.max_queue - self._queue.qsize(), 0)
        self._retry = batch[:room]
        self.failed += len(batch) - len(self._retry)

    def _totals(self) -> dict[str, int]:
        return {"refused": self.refused, "dropped": self.dropped, "failed": self.failed}

    def _warn(self, final: bool) -> None:
        """A warning when records were lost since the last one (at most one per
        report_seconds, and always at close)."""
        now = time.monotonic()
        stats = self.stats()
        if stats.lost + stats.write_errors == self._warned:
            return
        if final or now - self._last_warning >= self.report_seconds:
            log.warning(
                "request log %s: %d record(s) not logged so far (refused %d, dropped %d, "
                "failed %d; %d write error(s)); last error: %s",
                self.log.path,
                stats.lost,
                stats.refused,
                stats.dropped,
                stats.failed,
                stats.write_errors,
                stats.last_error,
            )
            self._warned = stats.lost + stats.write_errors
            self._last_warning = now

    def _run(self) -> None:
        next_flush = time.monotonic() + self.flush_seconds
        while not self._stop.wait(max(next_flush - time.monotonic(), 0.0)):
            self.flush()
            # a fixed cadence: the next flush is due flush_seconds after the previous was due
            next_flush = max(next_flush + self.flush_seconds, time.monotonic())

    def close(self) -> None:
        if not self._stop.is_set():
            self._stop.set()
            self._thread.join(timeout=10)
            self.flush(final=True)
