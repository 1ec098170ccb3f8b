"""Model-server requests land in the durable event log, off the request path."""

from __future__ import annotations

import math
from pathlib import Path

from movie_roulette.monitoring.eventlog import EventLog
from movie_roulette.monitoring.request_log import RequestLogger, summarise


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
    assert len(EventLog(tmp_path / "events.jsonl").read().events) == 2


def test_an_unwritable_log_is_counted_never_raised(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the log's folder should be")
    logger = RequestLogger(blocker / "events.jsonl", flush_seconds=60)
    logger.record({"kind": "predict"}, None)
    logger.close()
    assert logger.failed == 1 and logger.last_error
