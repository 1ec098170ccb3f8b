"""Model-server requests land in the durable event log, off the request path."""

from __future__ import annotations

import json
import logging
import math
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from movie_roulette.monitoring.eventlog import EventLog, traffic_summary
from movie_roulette.monitoring.request_log import LOSS_WINDOW_SECONDS, RequestLogger, summarise

REPO = Path(__file__).resolve().parents[3]


def test_summary_keeps_request_fields_and_what_was_answered() -> None:
    request = {"kind": "recommend", "user_id": 7.0, "k": 5.0, "genre": None, "seed": math.nan}
    answer = {"kind": "recommend", "fallback": None, "items": [{"movie_id": 3}, {"movie_id": 9}]}
    assert summarise(request, answer) == {
        "kind": "recommend",
        "user_id": 7,
        "k": 5,
        "fallback": None,
        "movie_ids": [3, 9],
    }
    spin = summarise({"kind": "spin", "temperature": 2.0}, {"item": {"movie_id": 4}})
    assert spin["temperature"] == 2.0 and spin["movie_ids"] == [4]
    error = summarise({"kind": "similar", "title": "x"}, {"error": "unknown title 'x'"})
    assert error["error"] == "unknown title 'x'" and error["movie_ids"] == []


def test_requests_are_flushed_in_batches_and_at_close(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    logger = RequestLogger(path, flush_seconds=60)  # only close() flushes here
    for user in range(5):
        logger.record({"kind": "recommend", "user_id": user}, {"items": []}, latency_ms=1.5)
    assert not path.exists()  # nothing written on the request path
    logger.close()
    events = EventLog(path).read().events
    assert [e.data["user_id"] for e in events] == [0, 1, 2, 3, 4]
    assert all(e.type == "request" and e.data["latency_ms"] == 1.5 for e in events)


def test_a_full_queue_drops_and_counts_instead_of_blocking(tmp_path: Path) -> None:
    logger = RequestLogger(tmp_path / "events.jsonl", flush_seconds=60, max_queue=2)
    for _ in range(5):
        logger.record({"kind": "predict"}, None)
    assert logger.dropped == 3
    logger.close()
    events = EventLog(tmp_path / "events.jsonl").read().events
    assert [e.type for e in events] == ["request", "request", "log_writer"]
    assert events[-1].data["dropped"] == 3  # the loss is recorded in the log itself


def test_an_unwritable_log_is_counted_never_raised(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the log's folder should be")
    logger = RequestLogger(blocker / "events.jsonl", flush_seconds=60)
    logger.record({"kind": "predict"}, None)
    logger.close()
    assert logger.failed == 1 and logger.last_error


def test_one_infinite_temperature_never_drops_the_other_records_of_its_batch(
    tmp_path: Path,
) -> None:
    """Issue 15 #1: 20 good requests + temperature Infinity + 20 good gave 0 new records (the
    whole batch was refused for one inf). The bad request is logged with its value flagged."""
    path = tmp_path / "events.jsonl"
    logger = RequestLogger(path, flush_seconds=60)
    rows = [{"kind": "spin", "user_id": 1, "seed": seed} for seed in range(20)]
    rows.append({"kind": "spin", "user_id": 1, "seed": 20, "temperature": float("inf")})
    rows.append({"kind": "spin", "user_id": 1, "seed": 21, "temperature": json.loads("1e999")})
    rows += [{"kind": "spin", "user_id": 1, "seed": seed} for seed in range(22, 42)]
    for row in rows:
        logger.record(row, {"error": "temperature must be finite"}, status=400)
    logger.close()
    events = EventLog(path).read().events
    assert [e.data["seed"] for e in events] == list(range(42))
    assert [e.data.get("temperature") for e in events[20:22]] == ["inf", "inf"]
    assert logger.stats().lost == 0


def test_an_unloggable_record_is_refused_alone_counted_announced_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A record that cannot be encoded at all is refused alone; the refusal is counted in the
    logger's stats, warned about on the server's log and recorded in the event log itself."""
    path = tmp_path / "events.jsonl"
    logger = RequestLogger(path, flush_seconds=60)
    for seed in range(5):
        logger.record({"kind": "predict", "seed": seed}, None, latency_ms=1.0)
    logger.record({"kind": "predict", "seed": 5}, None, latency_ms=float("nan"))
    for seed in range(6, 10):
        logger.record({"kind": "predict", "seed": seed}, None, latency_ms=1.0)
    with caplog.at_level(logging.WARNING, logger="movie_roulette.monitoring.request_log"):
        assert logger.flush() == 9
    stats = logger.stats()
    assert (stats.written, stats.refused, stats.lost) == (9, 1, 1)
    assert "not a finite number" in (stats.last_error or "")
    assert "1 record(s) not logged so far (refused 1" in caplog.text
    result = EventLog(path).read()
    assert [e.data["seed"] for e in result.events if e.type == "request"] == [
        0, 1, 2, 3, 4, 6, 7, 8, 9
    ]  # fmt: skip
    assert traffic_summary(result.events)["requests_not_logged"] == {
        "refused": 1,
        "dropped": 0,
        "failed": 0,
    }
    logger.close()


def test_a_failed_write_is_retried_at_the_next_flush_not_dropped(tmp_path: Path) -> None:
    """main counted a failed batch and threw its records away; it is now kept and retried."""
    folder = tmp_path / "logs"
    folder.write_text("a file where the log's folder should be (say, a mount not yet there)")
    logger = RequestLogger(folder / "events.jsonl", flush_seconds=60)
    for seed in range(3):
        logger.record({"kind": "predict", "seed": seed}, None)
    assert logger.flush() == 0
    assert logger.stats().write_errors == 1 and logger.stats().queued == 3
    folder.unlink()
    logger.record({"kind": "predict", "seed": 3}, None)
    assert logger.flush() == 4
    logger.close()
    events = EventLog(folder / "events.jsonl").read().events
    assert [e.data["seed"] for e in events if e.type == "request"] == [0, 1, 2, 3]
    assert logger.stats().failed == 0


_KILLED_LOGGER = textwrap.dedent(
    """
    import sys, time
    from movie_roulette.monitoring.request_log import RequestLogger
    logger = RequestLogger(sys.argv[1])
    seq = 0
    while True:
        for _ in range(20):  # ~4000 requests/s, acknowledged (seq, time) after record()
            logger.record({"kind": "predict", "seed": seq}, None, latency_ms=1.0)
            print(seq, time.time(), flush=True)
            seq += 1
        time.sleep(0.005)
    """
)


def test_a_killed_writer_loses_at_most_the_loss_window(tmp_path: Path) -> None:
    """Issue 15 #4: after kill -9 of a worker ~0.7 s of answered requests were missing, more
    than the promised half second. kill -9 a logging process at several moments, one of them
    just before a flush is due: no request acknowledged more than LOSS_WINDOW_SECONDS before
    the kill is missing (main flushed 0.5 s after the previous write ended)."""
    rng = random.Random(3)
    worst = 0.0
    for attempt in range(5):
        path = tmp_path / f"events-{attempt}.jsonl"
        proc = subprocess.Popen(
            [sys.executable, "-c", _KILLED_LOGGER, str(path)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        assert proc.stdout is not None
        proc.stdout.readline()  # running
        # wait for a write, then kill at a random moment up to 0.45 s after it (on main the
        # next write came 0.5 s + one fsync later)
        deadline = time.time() + 10
        while not path.exists() and time.time() < deadline:
            time.sleep(0.001)
        size = path.stat().st_size
        while path.stat().st_size == size and time.time() < deadline:
            time.sleep(0.001)
        time.sleep(0.45 if attempt < 2 else rng.uniform(0.0, 0.45))
        killed_at = time.time()
        os.kill(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate(timeout=30)
        lines = [line.split() for line in out.splitlines()]  # the last may be cut by the kill
        acked = {int(p[0]): float(p[1]) for p in lines if len(p) == 2 and len(p[1]) > 12}
        logged = {e.data["seed"] for e in EventLog(path).read().events}
        lost = [killed_at - t for s, t in acked.items() if s not in logged]
        worst = max([worst, *lost])
        assert len(logged) > 100
    print(f"\nkill -9 x5: oldest lost acknowledged request {worst:.3f} s before the kill")
    assert worst <= LOSS_WINDOW_SECONDS, f"a request acknowledged {worst:.3f} s before the kill"
