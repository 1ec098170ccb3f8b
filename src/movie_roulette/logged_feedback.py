"""Movies a known user rated or accepted since the model was trained, from the event log.

The web app logs a picked user's ratings and accepted roulette picks ("I'll watch this") to the
durable event log (`monitoring.eventlog`) before the page answers; the served model only learns
them at its next training. Until then the server reads them here and leaves them out of that
user's recommendations and spins, like the ratings the model was fitted on.

The log is read incrementally, and it is the server's own request log too (every request appends
a record), so the cost per request matters:

* each call stats the file; when it has not changed, nothing is read;
* otherwise only the bytes appended since the last read are read, resuming at the byte offset
  *and line number* of the last complete line (the line number given, the reader never counts
  the file's newlines from its start again);
* request records (most of the log) are recognised by their last bytes and skipped unparsed;
  only rating and accepted-spin records are parsed and checked;
* the read takes no lock, so a request never waits for a writer's write and fsync (the
  request logger fsyncs a batch every 0.05 s: with the shared lock, a recommend waited for it,
  milliseconds on a busy disk);
* a torn final line (a writer killed mid-record, or one still writing) is not consumed: it is
  read again once it is complete;
* a log that is missing, unreadable, truncated (shorter than the last read, or no longer ending
  where the last read ended: truncated and written again), or replaced (another file at the
  path: rotation) is read again from its start, or treated as empty: a request never fails
  because of it, and the problem is kept in `problem`.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import BinaryIO

from movie_roulette.monitoring.eventlog import EventLog, EventLogError

EXCLUDING_EVENTS = ("rating", "spin_accepted")
TAIL_BYTES = 96


class LoggedFeedback:
    def __init__(self, path: str | Path | None) -> None:
        self.path = None if path is None else Path(path)
        self._log = None if self.path is None else EventLog(self.path)
        self._lock = threading.Lock()
        self.problem: str | None = None
        self.bytes_read = 0  # bytes of the log read so far (all reads): for tests and stats
        self._reset(None)

    def _reset(self, identity: tuple[int, int] | None) -> None:
        """Forget what was read: the next read starts at the beginning of the file `identity`
        ((device, inode); None = no file)."""
        self._identity = identity
        self._offset = 0
        self._line = 1
        self._size = -1
        self._tail = b""
        self._movies: dict[int, set[int]] = {}

    def movies(self, user_id: int) -> frozenset[int]:
        """The movies `user_id` rated or accepted in the web app (per the log, now)."""
        if self._log is None:
            return frozenset()
        with self._lock:
            self._refresh()
            return frozenset(self._movies.get(int(user_id), ()))

    def _refresh(self) -> None:
        assert self._log is not None and self.path is not None
        try:
            stat = os.stat(self.path)
        except OSError:  # missing (not written yet, or deleted): nothing logged
            if self._identity is not None or self._movies:
                self._reset(None)
            return
        identity = (stat.st_dev, stat.st_ino)
        if identity != self._identity or stat.st_size < self._offset:
            self._reset(identity)  # a new file at the path, or truncated: from its start
        if stat.st_size == self._size:
            return
        try:
            with open(self.path, "rb") as handle:
                if self._offset and self._tail_at(handle, self._offset) != self._tail:
                    # truncated and written again past where we were (copy-truncate rotation)
                    self._reset(identity)
                result = self._log.read(
                    self._offset,
                    first_line=self._line,
                    types=EXCLUDING_EVENTS,
                    wait_for_writers=False,  # never wait for the request logger's fsync
                )
                tail = self._tail_at(handle, result.end_offset)
        except (OSError, EventLogError) as err:
            # e.g. replaced between the stat and the read: read it again from its start next time
            self.problem = f"cannot read the feedback log {self.path}: {err}"
            self._reset(None)
            return
        self.bytes_read += result.end_offset - self._offset + result.torn_tail_size
        for event in result.events:
            user, movie = event.data.get("user_id"), event.data.get("movie_id")
            if isinstance(user, int) and isinstance(movie, int):
                self._movies.setdefault(user, set()).add(movie)
        self._offset, self._line, self._tail = result.end_offset, result.end_line, tail
        # a torn tail is read again next time (the size then differs once it is completed)
        self._size = stat.st_size

    @staticmethod
    def _tail_at(handle: BinaryIO, offset: int) -> bytes:
        """The last `TAIL_BYTES` before `offset`: the end of the last line read (its checksum
        and time stamp), which a file truncated and written again will not have there."""
        start = max(0, offset - TAIL_BYTES)
        return os.pread(handle.fileno(), offset - start, start)
