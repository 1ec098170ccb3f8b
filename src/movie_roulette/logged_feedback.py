"""Movies a known user rated or accepted since the model was trained, from the event log.

The web app logs a picked user's ratings and accepted roulette picks ("I'll watch this") to the
durable event log (`monitoring.eventlog`) before the page answers; the served model only learns
them at its next training. Until then the server reads them here and leaves them out of that
user's recommendations and spins, like the ratings the model was fitted on.

The log is read incrementally: each call stats the file and parses only the bytes appended since
the last call (a few request records between two requests), so a request pays microseconds. A log
that is missing, unreadable, truncated or replaced never fails a request: it is read again from
the start (or treated as empty) and the problem is kept in `problem`.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from movie_roulette.monitoring.eventlog import EventLog, EventLogError

EXCLUDING_EVENTS = ("rating", "spin_accepted")


class LoggedFeedback:
    def __init__(self, path: str | Path | None) -> None:
        self.path = None if path is None else Path(path)
        self._log = None if self.path is None else EventLog(self.path)
        self._offset = 0
        self._size = -1
        self._movies: dict[int, set[int]] = {}
        self._lock = threading.Lock()
        self.problem: str | None = None

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
            size = os.stat(self.path).st_size
        except OSError:
            size = 0
        if size == self._size:
            return
        if size < self._offset:  # truncated or replaced: start again
            self._offset, self._movies = 0, {}
        try:
            result = self._log.read(self._offset)
        except (OSError, EventLogError) as err:
            self.problem = f"cannot read the feedback log {self.path}: {err}"
            self._offset, self._movies, self._size = 0, {}, -1
            return
        for event in result.events:
            if event.type in EXCLUDING_EVENTS:
                user, movie = event.data.get("user_id"), event.data.get("movie_id")
                if isinstance(user, int) and isinstance(movie, int):
                    self._movies.setdefault(user, set()).add(movie)
        self._offset = result.end_offset
        self._size = size
