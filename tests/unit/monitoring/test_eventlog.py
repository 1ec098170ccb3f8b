"""The event log: checksummed JSON lines, torn records, concurrent writers, SIGKILL mid-write."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from movie_roulette.monitoring.eventlog import (
    EventLog,
    EventLogError,
    interactions_from_events,
    ratings_from_events,
    traffic_summary,
)

REPO = Path(__file__).resolve().parents[3]


def test_records_round_trip_with_checksums(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events.jsonl")
    log.log_rating(1, 10, 4.5)
    log.log_click(1, 11)
    log.log_request({"kind": "recommend", "user_id": 1, "k": 5}, latency_ms=12.5)
    result = log.read()
    assert result.clean
    assert [e.type for e in result.events] == ["rating", "click", "request"]
    assert result.events[0].data == {"user_id": 1, "movie_id": 10, "rating": 4.5}
    assert result.end_offset == (tmp_path / "events.jsonl").stat().st_size
    line = json.loads((tmp_path / "events.jsonl").read_text().splitlines()[0])
    assert len(line["sha256"]) == 64


@pytest.mark.parametrize(
    ("event_type", "data", "message"),
    [
        ("rating", {"user_id": 1, "movie_id": 2, "rating": 7}, "rating must be a number in"),
        ("rating", {"user_id": 1, "movie_id": 2}, "missing field(s) ['rating']"),
        ("click", {"user_id": "1", "movie_id": 2}, "user_id must be an integer id"),
        ("purchase", {"user_id": 1}, "unknown event type 'purchase'"),
        ("rating", {"user_id": 1, "movie_id": 2, "rating": float("nan")}, "not a finite"),
    ],
)
def test_bad_events_are_refused_and_nothing_is_written(
    tmp_path: Path, event_type: str, data: dict, message: str
) -> None:
    log = EventLog(tmp_path / "events.jsonl")
    log.log_rating(1, 1, 3.0)
    before = (tmp_path / "events.jsonl").read_bytes()
    with pytest.raises(
        EventLogError,
        match=message.replace("(", r"\(")
        .replace(")", r"\)")
        .replace("[", r"\[")
        .replace("]", r"\]"),
    ):
        log.append(event_type, data)
    assert (tmp_path / "events.jsonl").read_bytes() == before


def test_a_torn_final_record_is_reported_and_the_next_write_starts_a_fresh_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.jsonl"
    log = EventLog(path)
    for movie in range(3):
        log.log_rating(7, movie + 1, 4.0)
    whole = path.read_bytes()
    path.write_bytes(whole + whole.splitlines(keepends=True)[0][:25])  # a writer died mid-record

    torn = log.read()
    assert len(torn.events) == 3
    assert torn.torn_tail is not None and len(torn.torn_tail) == 25
    assert torn.end_offset == len(whole)

    log.log_rating(7, 99, 2.5)
    after = log.read()
    assert [e.data["movie_id"] for e in after.events] == [1, 2, 3, 99]
    assert after.torn_tail is None
    assert [d["line"] for d in after.damaged] == [4]


def test_a_damaged_line_is_reported_and_the_records_around_it_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log = EventLog(path)
    for movie in range(3):
        log.log_rating(1, movie + 1, 3.0)
    lines = path.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b'"rating":3.0', b'"rating":5.0')  # valid JSON, wrong checksum
    path.write_bytes(b"".join(lines))
    result = log.read()
    assert [e.data["movie_id"] for e in result.events] == [1, 3]
    assert result.damaged == [{"line": 2, "offset": len(lines[0]), "reason": "checksum mismatch"}]


def test_reading_from_a_cursor_returns_only_later_records(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events.jsonl")
    log.log_rating(1, 1, 3.0)
    cursor = log.read().end_offset
    log.log_rating(1, 2, 4.0)
    assert [e.data["movie_id"] for e in log.read(cursor).events] == [2]
    with pytest.raises(EventLogError, match="past the end"):
        log.read(cursor * 10)


def test_feedback_becomes_interactions_and_requests_a_traffic_summary(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events.jsonl")
    log.append("rating", {"user_id": 1, "movie_id": 5, "rating": 2.0}, ts=100)
    log.append("rating", {"user_id": 1, "movie_id": 5, "rating": 4.0}, ts=200)  # re-rating
    log.append("spin_accepted", {"user_id": 2, "movie_id": 6}, ts=150)
    log.append("request", {"kind": "spin", "user_id": 2, "latency_ms": 10}, ts=140)
    log.append("request", {"kind": "recommend", "user_id": 9, "fallback": "cold"}, ts=141)
    events = log.read().events

    ratings = ratings_from_events(events)
    assert ratings.to_dict("records") == [
        {"user_id": 1, "movie_id": 5, "rating": 4.0, "timestamp": 200}
    ]
    interactions = interactions_from_events(events)
    assert interactions["event"].tolist() == ["rating", "rating", "spin_accepted"]
    assert interactions["rating"].isna().tolist() == [False, False, True]
    traffic = traffic_summary(events)
    assert traffic["requests"] == 2
    assert traffic["requests_by_kind"] == {"spin": 1, "recommend": 1}
    assert traffic["fallback_share"] == 0.5
    assert traffic["latency_ms_p50"] == 10.0


_WRITER = textwrap.dedent(
    """
    import sys
    from movie_roulette.monitoring.eventlog import EventLog
    log = EventLog(sys.argv[1])
    writer, count, pad = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    for seq in range(count):
        log.append("click", {"user_id": writer, "movie_id": seq, "pad": "x" * pad})
        print(seq, flush=True)  # acknowledged: append() returned after fsync
    """
)


def _writer(path: Path, writer: int, count: int, pad: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path), str(writer), str(count), str(pad)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )


def test_concurrent_writer_processes_never_interleave_records(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    procs = [_writer(path, writer, 150, 3000) for writer in range(4)]
    for proc in procs:
        proc.communicate(timeout=120)
        assert proc.returncode == 0
    result = EventLog(path).read()
    assert result.clean
    for writer in range(4):
        seqs = [e.data["movie_id"] for e in result.events if e.data["user_id"] == writer]
        assert seqs == list(range(150))


def test_a_writer_killed_mid_write_loses_or_corrupts_no_earlier_record(tmp_path: Path) -> None:
    """SIGKILL a writer of large records at several moments of its write cycle; every record it
    acknowledged is intact and in order, and at most the final record is torn (the deterministic
    torn-record case is covered above)."""
    rng = random.Random(7)
    for attempt in range(6):
        path = tmp_path / f"events-{attempt}.jsonl"
        proc = _writer(path, 1, 100_000, 1_000_000)
        assert proc.stdout is not None
        first = proc.stdout.readline()  # the writer is running and has fsynced one record
        time.sleep(rng.uniform(0.0, 0.05))
        os.kill(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate(timeout=30)
        acknowledged = [int(x) for x in (first + out).split()]
        result = EventLog(path).read()
        seqs = [e.data["movie_id"] for e in result.events]
        assert seqs == list(range(len(seqs))), "a record in the middle was lost or reordered"
        assert len(seqs) >= len(acknowledged), "an acknowledged (fsynced) record was lost"
        assert result.damaged == []
        # the next writer appends cleanly after whatever the killed one left behind
        EventLog(path).log_click(2, 0)
        after = EventLog(path).read()
        assert [e.data["movie_id"] for e in after.events if e.data["user_id"] == 1] == seqs
        assert after.events[-1].data == {"user_id": 2, "movie_id": 0}
        assert len(after.damaged) == (1 if result.torn_tail else 0)


def _forged(event_type: str, data: object, ts: object = 1_700_000_000.0) -> bytes:
    """A record line with a valid checksum over whatever payload (a buggy or foreign writer)."""
    from movie_roulette.monitoring.eventlog import _canonical, _checksum

    body = {"v": 1, "type": event_type, "ts": ts, "data": data}
    return _canonical({**body, "sha256": _checksum(body)}) + b"\n"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (_forged("rating", {"user_id": "abc", "movie_id": 2, "rating": 4.0}), "user_id must be"),
        (_forged("click", {"user_id": 1, "movie_id": 2**70}), "movie_id 1180591620717411303424"),
        (_forged("rating", {"user_id": 1, "movie_id": 2, "rating": 50}), "rating must be"),
        (_forged("click", {"user_id": 1, "movie_id": 2}, ts=1e300), "ts must be unix seconds"),
        (_forged("click", [1, 2]), "the payload must be a mapping"),
        (_forged("request", {"kind": ["recommend"]}), "kind must be a string"),
    ],
)
def test_a_checksummed_record_with_a_bad_payload_is_damaged_not_read(
    tmp_path: Path, line: bytes, reason: str
) -> None:
    """Issue 15 #2: a valid checksum over a wrong type was read as a record and crashed the
    continuous pipeline's cast to int64; the payload is now validated on read, per record."""
    path = tmp_path / "events.jsonl"
    log = EventLog(path)
    log.log_click(1, 1)
    with open(path, "ab") as handle:
        handle.write(line)
    log.log_click(1, 3)
    result = log.read()
    assert [e.data["movie_id"] for e in result.events] == [1, 3]
    [damaged] = result.damaged
    assert damaged["line"] == 2 and damaged["reason"].startswith("invalid payload")
    assert reason in damaged["reason"]
    interactions_from_events(result.events)  # the frame of what was read casts cleanly


def test_a_request_with_an_odd_user_id_does_not_break_the_traffic_summary(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events.jsonl")
    log.append("request", {"kind": "recommend", "user_id": [1, 2]})
    log.append("request", {"kind": "recommend", "user_id": {"a": 1}})
    log.append("request", {"kind": "recommend", "user_id": 4})
    assert traffic_summary(log.read().events)["users"] == 1


def test_a_huge_field_is_truncated_with_a_marker_not_written_whole(tmp_path: Path) -> None:
    """Issue 15 #6: a 10 MB title wrote a 10 MB line into the durable log."""
    from movie_roulette.monitoring.eventlog import MAX_RECORD_BYTES, MAX_STRING_CHARS

    path = tmp_path / "events.jsonl"
    EventLog(path).log_request({"kind": "similar", "title": "x" * 10_000_000})
    assert path.stat().st_size < MAX_RECORD_BYTES
    [event] = EventLog(path).read().events
    title = event.data["title"]
    assert len(title) == MAX_STRING_CHARS and title.startswith("x" * 900)
    assert title.endswith("...[truncated from 10000000 chars]")
    with pytest.raises(EventLogError, match="over the 65536-byte limit"):
        EventLog(path).append("request", {"kind": "x", "many": ["y" * 900] * 100})
    with pytest.raises(EventLogError, match="ts must be unix seconds"):
        EventLog(path).append("click", {"user_id": 1, "movie_id": 2}, ts=float("nan"))


def test_the_log_is_read_in_bounded_chunks_with_absolute_line_numbers(tmp_path: Path) -> None:
    """Issue 15 #6: the continuous pipeline read the whole log into memory. `max_bytes` bounds a
    read (resume at end_offset/end_line); a 20 MB line is skipped without being held whole."""
    import tracemalloc

    path = tmp_path / "events.jsonl"
    log = EventLog(path)
    for movie in range(10):
        log.log_click(1, movie)
    with open(path, "ab") as handle:
        handle.write(b'{"v": 1, "pad": "' + b"z" * 20_000_000 + b'"}\n')  # line 11
    log.log_click(1, 10)  # line 12

    sizes = [len(line) for line in path.read_bytes().splitlines(keepends=True)]
    first = log.read(0, max_bytes=sum(sizes[:4]) + 5)
    assert [e.data["movie_id"] for e in first.events] == [0, 1, 2, 3]
    assert first.more and first.end_line == 5 and first.end_offset == sum(sizes[:4])
    tracemalloc.start()
    try:
        rest = log.read(first.end_offset, first_line=first.end_line)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 6_000_000, f"reading held {peak} bytes"
    assert [e.data["movie_id"] for e in rest.events] == [4, 5, 6, 7, 8, 9, 10]
    assert [e.line for e in rest.events][-1] == 12 and not rest.more
    [damaged] = rest.damaged
    assert damaged["line"] == 11 and "exceeds the 1048576-byte limit" in damaged["reason"]
    assert rest.end_offset == path.stat().st_size
    # without first_line the line numbers are counted from the start of the file
    assert log.read(first.end_offset).damaged[0]["line"] == 11
    # the over-long line alone exceeds max_bytes: it is still consumed (a read always advances)
    skipped = log.read(sum(sizes[:10]), max_bytes=10)
    assert skipped.damaged and skipped.more and skipped.events == []


def test_a_torn_tail_of_any_size_is_reported_without_holding_it(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log = EventLog(path)
    log.log_click(1, 1)
    with open(path, "ab") as handle:
        handle.write(b"x" * 3_000_000)
    result = log.read()
    assert result.torn_tail is not None and result.torn_tail_size == 3_000_000
    assert len(result.torn_tail) <= 1024 * 1024 + 1
    summary = result.damage_summary(path)
    assert summary and "torn final record of 3000000 bytes at line 2" in summary


def test_append_each_writes_the_good_records_and_refuses_the_bad_alone(tmp_path: Path) -> None:
    """Issue 15 #1: append_many refuses a whole batch for one bad record (by design: all or
    none); the batch writer uses append_each, which refuses the bad record alone."""
    log = EventLog(tmp_path / "events.jsonl")
    batch = [
        ("click", {"user_id": 1, "movie_id": 1}, None),
        ("request", {"kind": "spin", "temperature": float("inf")}, None),
        ("click", {"user_id": 1, "movie_id": 2}, None),
        ("click", {"user_id": "abc", "movie_id": 3}, None),
        ("click", {"user_id": 1, "movie_id": 4}, None),
    ]
    result = log.append_each(batch)
    assert len(result.offsets) == 3
    assert [i for i, _ in result.refused] == [1, 3]
    assert "not a finite number" in result.refused[0][1]
    assert [e.data["movie_id"] for e in log.read().events] == [1, 2, 4]
    with pytest.raises(EventLogError):
        log.append_many(batch)
    assert len(log.read().events) == 3
