"""Progress of a long job through the standard `logging` module, at least every `interval_s`.

    progress = Progress("train_hybrid", total=len(components))
    with progress.phase("fitting svd"):
        ...                                  # a heartbeat line every 30 s while this runs
    progress.done()

Each phase logs a DEBUG line when it starts ("train_hybrid: fitting svd (2/6, 41 s)"); while it
runs, a daemon thread logs an INFO line ("train_hybrid: fitting svd (30 s so far, 1 min 12 s in
all)") whenever nothing was logged for `interval_s`, so a silent stretch of a long job is never
longer than that (plus a second), and a short phase costs no console line. `done()` logs one.
Records go to the `movie_roulette.progress` logger (the CLI's console shows its INFO lines by
default; see console.py at the repository root).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

LOGGER_NAME = "movie_roulette.progress"
log = logging.getLogger(LOGGER_NAME)

DEFAULT_INTERVAL_S = 30.0
POLL_S = 1.0  # how often a running phase checks whether it is time for a heartbeat


_LOCK = threading.Lock()
_OPEN_PHASES = 0


def _running(change: int) -> None:
    global _OPEN_PHASES
    with _LOCK:
        _OPEN_PHASES += change


def reporting() -> bool:
    """True while a phase of any `Progress` runs in this process (it gives its own heartbeat:
    the CLI's console watchdog stays quiet then)."""
    return _OPEN_PHASES > 0


def format_seconds(seconds: float) -> str:
    """`41 s`, `2 min 05 s`, `1 h 03 min`."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Progress:
    """Phase lines and a heartbeat for one job; `interval_s <= 0` turns the heartbeat off."""

    def __init__(
        self,
        job: str,
        total: int | None = None,
        *,
        interval_s: float = DEFAULT_INTERVAL_S,
        logger: logging.Logger = log,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.job = job
        self.total = total
        self.interval_s = float(interval_s)
        self.logger = logger
        self.clock = clock
        self.started = clock()
        self.count = 0
        self._open: list[object] = []  # the phases running now; only the innermost beats
        self._last_line = self.started

    def elapsed(self) -> float:
        return self.clock() - self.started

    @contextmanager
    def phase(self, label: str) -> Iterator[None]:
        """Log the phase's start (DEBUG), then a heartbeat after every quiet `interval_s`."""
        self.count += 1
        of = f"{self.count}/{self.total}, " if self.total else ""
        self._log(
            logging.DEBUG, "%s: %s (%s%s)", self.job, label, of, format_seconds(self.elapsed())
        )
        stop = threading.Event()
        self._open.append(stop)
        _running(+1)
        beat = None
        if self.interval_s > 0:
            beat = threading.Thread(
                target=self._heartbeat, args=(label, stop), name=f"progress-{self.job}", daemon=True
            )
            beat.start()
        try:
            yield
        finally:
            stop.set()
            self._open.remove(stop)
            _running(-1)
            if beat is not None:
                beat.join()

    def _heartbeat(self, label: str, stop: threading.Event) -> None:
        phase_start = self.clock()
        while not stop.wait(min(self.interval_s / 4, POLL_S)):
            quiet_for = self.clock() - self._last_line
            # the innermost phase speaks, once nothing was logged for interval_s
            if quiet_for >= self.interval_s and self._open and self._open[-1] is stop:
                self._log(
                    logging.INFO,
                    "%s: %s (%s so far, %s in all)",
                    self.job,
                    label,
                    format_seconds(self.clock() - phase_start),
                    format_seconds(self.elapsed()),
                )

    def _log(self, level: int, message: str, *args: object) -> None:
        if level >= logging.INFO:  # a DEBUG line is not on the console: it breaks no silence
            self._last_line = self.clock()
        self.logger.log(level, message, *args)

    def done(self, detail: str = "") -> None:
        suffix = f", {detail}" if detail else ""
        self._log(
            logging.INFO, "%s: done in %s%s", self.job, format_seconds(self.elapsed()), suffix
        )
