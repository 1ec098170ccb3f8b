"""Keep-alive connections spread evenly over the model server's worker processes.

`uvicorn --workers N` shares one listening socket between N processes, and a keep-alive
connection stays with the process that accepted it. The event loop of whichever process wakes
first accepts every connection waiting at that moment, so a burst of new clients can all land on
one process (8 of 8 in tests/unit/test_connection_balance.py). At 25M ratings, in a run with
8 clients on 2 workers, five clients got 604-852 answers in 20 s and three got 1,210-1,652: the
five shared one worker (docs/scale.md 6g, 6l). Nothing afterwards moves a connection, as long as
its client keeps it.

Each worker counts the clients it served in the last `idle` seconds (a connection is its peer
address) and, every `period` seconds, writes that count to a file of its own in a directory the
workers share, and reads the others'. A worker holding more than its fair share
(ceil(all clients / workers)) closes one connection after answering its request
(`Connection: close`); the client reconnects, and the process that is free first accepts it.
At most one connection is closed per worker and period, so a split converges in a few periods
and an even one is left alone. A worker with no traffic writes nothing and counts as 0 (its
count is older than `stale` seconds). The folders of stopped servers are removed by the next
server that starts (`sweep`).
"""

from __future__ import annotations

import atexit
import contextlib
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Hashable
from pathlib import Path

# set by serving/command.py from the server's worker count (uvicorn --workers)
WORKERS_ENV = "MOVIE_ROULETTE_SERVER_WORKERS"
PERIOD_S = 0.2
IDLE_S = 1.0
STALE_S = 2.0
FOLDER_PREFIX = "movie-roulette-workers-"  # + the uvicorn master's pid


def alive(pid: int) -> bool:
    """Whether a process `pid` exists (one of another user counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep(root: Path) -> None:
    """Remove the folders of servers whose master is gone. uvicorn stops a worker by raising the
    signal it caught again once it has shut down, so its exit handlers do not run: the folders of
    stopped servers are removed by the next server instead."""
    for folder in root.glob(f"{FOLDER_PREFIX}*"):
        pid = folder.name[len(FOLDER_PREFIX) :]
        if pid.isdigit() and not alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


class ConnectionBalancer:
    """One worker's side of the balance (see the module doc)."""

    def __init__(
        self,
        workers: int,
        directory: Path,
        name: str,
        period: float = PERIOD_S,
        idle: float = IDLE_S,
        stale: float = STALE_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if workers < 2:
            raise ValueError(f"balancing needs at least 2 workers, got {workers}")
        self.workers, self.directory, self.name = workers, Path(directory), name
        self.period, self.idle, self.stale, self.clock = period, idle, stale, clock
        self._file = self.directory / name
        self._seen: dict[Hashable, float] = {}
        self._next = 0.0
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
            if entry.name.isdigit() and not alive(int(entry.name)):
                entry.unlink(missing_ok=True)
        balancer = cls(workers, directory, str(os.getpid()))
        atexit.register(balancer.leave)
        return balancer

    def close_after(self, client: Hashable | None) -> bool:
        """Record a request of `client` (its connection's peer address); True: close that
        connection after answering it."""
        if client is None:
            return False
        now = self.clock()
        new = client not in self._seen
        self._seen[client] = now
        if now < self._next:
            if new:  # a new connection is published at once: the others' counts stay current
                self._publish(len(self._seen), now)
            return False
        self._next = now + self.period
        cutoff = now - self.idle
        self._seen = {c: t for c, t in self._seen.items() if t >= cutoff}
        mine = len(self._seen)
        self._publish(mine, now)
        share = math.ceil((mine + self._others(now)) / self.workers)
        if mine <= share:
            return False
        del self._seen[client]
        self._publish(mine - 1, now)
        self.closed += 1
        return True

    def _publish(self, count: int, now: float) -> None:
        """This worker's file: its client count and when it was counted."""
        part = self._file.with_name(f".{self.name}.tmp")
        try:
            part.write_text(f"{count} {now!r}")
            os.replace(part, self._file)
        except OSError:  # the directory is gone (a cleaned /tmp): balancing pauses, answers go on
            pass

    def _others(self, now: float) -> int:
        """The other workers' client counts, but those counted over `stale` seconds ago."""
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
