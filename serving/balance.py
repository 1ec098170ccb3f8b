"""Keep-alive connections spread evenly over the model server's worker processes.

`uvicorn --workers N` shares one listening socket between N processes, and a keep-alive
connection stays with the process that accepted it. The event loop of whichever process wakes
first accepts every connection waiting at that moment, so a burst of new clients can all land on
one process (8 of 8 in tests/unit/test_connection_balance.py). At 25M ratings, in a run with
8 clients on 2 workers, five clients got 604-852 answers in 20 s and three got 1,210-1,652: the
five shared one worker (docs/scale.md 6g, 6l). Nothing afterwards moves a connection, as long as
its client keeps it.

Every `period` seconds (at the first answer after it), each worker counts its open connections
to the server's port: its own sockets, an exact count (0.2-0.4 ms for 43 descriptors, once a
period). It writes the count to a file of its own in a folder the workers share, and reads the
others'. A worker that holds more than its fair share
(ceil(all connections / workers)) at two counts in a row closes one connection after answering
its request (`Connection: close`); the client reconnects, and the process that is free first
accepts it. One close per worker every other period at most: a split converges in a few
seconds, an even one is left alone, and a connection that has just closed (or a client that has
just switched connections) does not trigger a close. A worker with no traffic writes nothing and
counts as 0 (its count is older than `stale` seconds). The folders of stopped servers are
removed by the next server that starts (`sweep`).
"""

from __future__ import annotations

import atexit
import contextlib
import math
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psutil

# set by serving/command.py from the server's worker count (uvicorn --workers)
WORKERS_ENV = "MOVIE_ROULETTE_SERVER_WORKERS"
PERIOD_S = 0.2
STALE_S = 2.0
OVER_SHARE_COUNTS = 2  # counts in a row over the share before a close
FOLDER_PREFIX = "movie-roulette-workers-"  # + the uvicorn master's pid


def open_connections(port: int) -> int:
    """This process's open TCP connections to local `port` (its accepted, connected sockets)."""
    count = 0
    for name in os.listdir("/proc/self/fd"):
        try:
            copy = os.dup(int(name))
        except OSError:  # closed meanwhile (the listing's own descriptor)
            continue
        try:
            sock = socket.socket(fileno=copy)
        except OSError:  # not a socket
            os.close(copy)
            continue
        with sock:
            try:
                if (
                    sock.family in (socket.AF_INET, socket.AF_INET6)
                    and sock.type == socket.SOCK_STREAM
                    and sock.getsockname()[1] == port
                ):
                    sock.getpeername()  # raises for the listening socket
                    count += 1
            except OSError:
                continue
    return count


def sweep(root: Path) -> None:
    """Remove the folders of servers whose master is gone. uvicorn stops a worker by raising the
    signal it caught again once it has shut down, so its exit handlers do not run: the folders of
    stopped servers are removed by the next server instead."""
    for folder in root.glob(f"{FOLDER_PREFIX}*"):
        pid = folder.name[len(FOLDER_PREFIX) :]
        if pid.isdigit() and not psutil.pid_exists(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


class ConnectionBalancer:
    """One worker's side of the balance (see the module doc)."""

    def __init__(
        self,
        workers: int,
        directory: Path,
        name: str,
        period: float = PERIOD_S,
        stale: float = STALE_S,
        clock: Callable[[], float] = time.time,
        count: Callable[[int], int] = open_connections,
    ) -> None:
        if workers < 2:
            raise ValueError(f"balancing needs at least 2 workers, got {workers}")
        self.workers, self.directory, self.name = workers, Path(directory), name
        self.period, self.stale, self.clock, self.count = period, stale, clock, count
        self._file = self.directory / name
        self._next = 0.0
        self._over = 0  # counts in a row over the share
        self.closed = 0  # connections this worker asked to close

    @classmethod
    def for_this_worker(cls, workers: int) -> ConnectionBalancer | None:
        """The balancer of this process as a worker of `uvicorn --workers` (the workers share
        their parent process), or None for a single worker."""
        if workers < 2:
            return None
        root = Path(tempfile.gettempdir())
        sweep(root)
        directory = root / f"{FOLDER_PREFIX}{os.getppid()}"
        directory.mkdir(exist_ok=True)
        for entry in directory.iterdir():  # workers of this server that died (and were replaced)
            if entry.name.isdigit() and not psutil.pid_exists(int(entry.name)):
                entry.unlink(missing_ok=True)
        balancer = cls(workers, directory, str(os.getpid()))
        atexit.register(balancer.leave)
        return balancer

    def close_after(self, port: int | None) -> bool:
        """After an answer on a connection to local `port` (None: not TCP): True to close it."""
        if port is None:
            return False
        now = self.clock()
        if now < self._next:
            return False
        self._next = now + self.period
        mine = self.count(port)
        share = math.ceil((mine + self._others(now)) / self.workers)
        self._over = self._over + 1 if mine > share else 0
        close = self._over >= OVER_SHARE_COUNTS
        if close:
            self._over = 0
            self.closed += 1
        self._publish(mine - 1 if close else mine, now)  # a closing connection no longer counts
        return close

    def _publish(self, count: int, now: float) -> None:
        """This worker's file: its connection count and when it was counted."""
        part = self._file.with_name(f".{self.name}.tmp")
        try:
            part.write_text(f"{count} {now!r}")
            os.replace(part, self._file)
        except OSError:  # the directory is gone (a cleaned /tmp): balancing pauses, answers go on
            pass

    def _others(self, now: float) -> int:
        """The other workers' connection counts, but those counted over `stale` seconds ago."""
        total = 0
        try:
            entries = list(os.scandir(self.directory))
        except OSError:
            return 0
        for entry in entries:
            if entry.name == self.name or entry.name.startswith("."):
                continue
            try:
                count, counted = Path(entry.path).read_text().split()
                if now - float(counted) <= self.stale:
                    total += int(count)
            except (OSError, ValueError):
                continue
        return total

    def leave(self) -> None:
        """Remove this worker's file (at exit), and the directory once it is empty."""
        with contextlib.suppress(OSError):
            self._file.unlink()
        with contextlib.suppress(OSError):
            self.directory.rmdir()
