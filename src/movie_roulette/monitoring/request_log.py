"""Model-server request logging into the durable event log, off the request path.

An fsync per request would add milliseconds to every answer, so requests are queued and a
background thread appends them in batches (`EventLog.append_many`: one lock, one fsync per batch)
every `flush_seconds` or `max_batch` records, and once more at exit. What is written is never
corrupted by a crash (see eventlog.py); what is still queued when the process is killed (at most
`flush_seconds` of traffic) is lost. The queue is bounded: under a flood, excess records are
dropped and counted (`dropped`), never blocking a request.
"""

from __future__ import annotations

import atexit
import math
import queue
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from movie_roulette.monitoring.eventlog import EventLog

REQUEST_FIELDS = ("kind", "user_id", "movie_id", "title", "k", "genre", "temperature", "seed")


def summarise(request: Mapping[str, Any], answer: Mapping[str, Any] | None) -> dict[str, Any]:
    """The request's own fields (no NaN) plus what was answered: fallback, items, error."""
    out: dict[str, Any] = {}
    for name in REQUEST_FIELDS:
        value = request.get(name)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        if isinstance(value, float) and value.is_integer() and name != "temperature":
            value = int(value)
        out[name] = value.item() if hasattr(value, "item") else value
    if not isinstance(out.get("kind"), str):
        out["kind"] = str(out.get("kind"))
    ratings = request.get("ratings")
    if isinstance(ratings, str) and ratings:
        out["profile_ratings"] = len(ratings)  # size only: a newcomer profile is not stored
    if answer is not None:
        if "error" in answer:
            out["error"] = str(answer["error"])[:200]
        out["fallback"] = answer.get("fallback")
        items = answer.get("items") or ([answer["item"]] if answer.get("item") else [])
        out["movie_ids"] = [int(i["movie_id"]) for i in items]
    return out


class RequestLogger:
    def __init__(
        self,
        path: str | Path,
        flush_seconds: float = 0.5,
        max_batch: int = 512,
        max_queue: int = 100_000,
    ) -> None:
        self.log = EventLog(path)
        self.flush_seconds = flush_seconds
        self.max_batch = max_batch
        self._queue: queue.Queue[tuple[str, dict[str, Any], float]] = queue.Queue(max_queue)
        self.dropped = 0
        self.failed = 0
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="request-log", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def record(
        self, request: Mapping[str, Any], answer: Mapping[str, Any] | None, **extra: Any
    ) -> None:
        try:
            self._queue.put_nowait(
                ("request", {**summarise(request, answer), **extra}, time.time())
            )
        except queue.Full:
            self.dropped += 1

    def _drain(self) -> list[tuple[str, dict[str, Any], float]]:
        batch = []
        while len(batch) < self.max_batch:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def flush(self) -> int:
        written = 0
        while batch := self._drain():
            try:
                self.log.append_many(batch)
                written += len(batch)
            except Exception as err:  # never take the server down for its log
                self.failed += len(batch)
                self.last_error = f"{type(err).__name__}: {err}"
        return written

    def _run(self) -> None:
        while not self._stop.wait(self.flush_seconds):
            self.flush()
        self.flush()

    def close(self) -> None:
        if not self._stop.is_set():
            self._stop.set()
            self._thread.join(timeout=10)
