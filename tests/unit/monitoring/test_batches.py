"""Batch sources: held-back replay, generated (shifted) demo batches, the event log."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from movie_roulette.config import DataConfig, DemoConfig
from movie_roulette.data import sources
from movie_roulette.data.demo import generate_batch, generate_demo
from movie_roulette.data.sources import parse_cutoff
from movie_roulette.monitoring.batches import (
    next_demo_batch,
    next_event_log_batch,
    next_replay_batch,
)
from movie_roulette.monitoring.eventlog import EventLog

SMALL = DemoConfig(n_movies=120, n_users=80, mean_ratings_per_user=40, n_reviews=5)


def _pairs(frame: pd.DataFrame) -> set[tuple[int, int]]:
    return set(zip(frame.user_id, frame.movie_id, strict=True))


def test_the_held_back_demo_share_is_left_out_of_training_and_replayed() -> None:
    cfg = DataConfig(demo=DemoConfig(**{**SMALL.__dict__, "holdout_fraction": 0.25}))
    full = sources.load_ratings(DataConfig(demo=SMALL), seed=5)
    train = sources.load_ratings(cfg, seed=5)
    held = sources.held_back_ratings(cfg, seed=5)
    assert len(train) + len(held) == len(full)
    assert not _pairs(train) & _pairs(held)
    assert _pairs(train) | _pairs(held) == _pairs(full)
    assert len(held) == round(0.25 * len(full))


def test_replay_from_holds_back_ratings_after_the_cutoff_in_time_order() -> None:
    cfg = DataConfig(demo=SMALL, replay_from="2018-01-01")
    cut = parse_cutoff("2018-01-01")
    train, held = sources.load_ratings(cfg, 5), sources.held_back_ratings(cfg, 5)
    assert (train.timestamp < cut).all() and (held.timestamp >= cut).all()
    assert held.timestamp.is_monotonic_increasing


def test_replay_batches_are_consecutive_and_a_foreign_cursor_is_refused() -> None:
    replay = pd.DataFrame(
        {"user_id": range(5), "movie_id": range(5), "rating": 3.0, "timestamp": range(5)}
    )
    first = next_replay_batch(replay, {}, 2, "demo:0.2")
    second = next_replay_batch(replay, first.cursor_after, 2, "demo:0.2")
    last = next_replay_batch(replay, {"key": "demo:0.2", "rows": 4}, 2, "demo:0.2")
    assert first.frame.user_id.tolist() == [0, 1] and second.frame.user_id.tolist() == [2, 3]
    assert last.frame.user_id.tolist() == [4] and last.cursor_after == {
        "key": "demo:0.2",
        "rows": 5,
    }
    assert next_replay_batch(replay, last.cursor_after, 2, "demo:0.2").frame.empty
    with pytest.raises(ValueError, match="use a new continuous.state_dir"):
        next_replay_batch(replay, first.cursor_after, 2, "movielens:2017-01-01")


def test_generated_batches_are_new_pairs_after_the_data_and_deterministic() -> None:
    demo = generate_demo(seed=2, n_movies=120, n_users=80, mean_ratings_per_user=40, n_reviews=5)
    start = int(demo.ratings.timestamp.max()) + 1
    a = next_demo_batch(demo, demo.ratings, {}, 500, seed=2)
    b = next_demo_batch(demo, demo.ratings, {}, 500, seed=2)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert a.cursor_after == {"batches": 1}
    assert len(a.frame) == 500 and (a.frame.timestamp >= start).all()
    assert not _pairs(a.frame) & _pairs(demo.ratings)
    assert not a.frame.duplicated(["user_id", "movie_id"]).any()
    again = next_demo_batch(demo, pd.concat([demo.ratings, a.frame]), a.cursor_after, 500, seed=2)
    assert not _pairs(again.frame) & _pairs(a.frame)


def test_shifted_batches_bring_new_users_and_the_target_genres() -> None:
    demo = generate_demo(seed=2, n_movies=120, n_users=80, mean_ratings_per_user=40, n_reviews=5)
    start = int(demo.ratings.timestamp.max()) + 1
    target = ["Western", "Documentary"]
    plain = generate_batch(demo, 800, seed=1, start_ts=start)
    shifted = generate_batch(
        demo, 800, seed=1, start_ts=start, taste_shift=0.9, shift_genres=target, new_user_share=0.5
    )
    assert (shifted.user_id > 80).mean() == pytest.approx(0.5, abs=0.01)
    assert (plain.user_id <= 80).all()
    genres = demo.catalogue.set_index("movie_id")["genres"]

    def share(frame: pd.DataFrame) -> float:
        return frame.movie_id.map(genres).str.contains("|".join(target)).mean()

    assert share(shifted) > share(plain) + 0.2
    with pytest.raises(ValueError, match="unknown genre"):
        generate_batch(demo, 10, seed=1, start_ts=start, taste_shift=0.5, shift_genres=["Nope"])


def test_event_log_batches_follow_the_cursor_and_report_damage(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events.jsonl")
    log.log_rating(1, 2, 4.0)
    log.log_request({"kind": "recommend", "user_id": 1})
    first = next_event_log_batch(log, {})
    assert first.frame[["user_id", "movie_id", "event"]].values.tolist() == [[1, 2, "rating"]]
    assert first.info["traffic"]["requests"] == 1
    log.log_click(1, 3)
    second = next_event_log_batch(log, first.cursor_after)
    assert second.frame["event"].tolist() == ["click"]
    with pytest.raises(ValueError, match="belongs to"):
        next_event_log_batch(EventLog(tmp_path / "other.jsonl"), second.cursor_after)


def test_an_event_log_batch_keeps_the_latest_rating_of_a_user_for_a_movie(tmp_path: Path) -> None:
    from movie_roulette.monitoring.retraining import explicit
    from movie_roulette.validation import validate_ratings

    log = EventLog(tmp_path / "events.jsonl")
    log.append("rating", {"user_id": 1, "movie_id": 2, "rating": 2.0}, ts=1_700_000_000)
    log.log_click(1, 2)
    log.log_click(1, 2)
    log.append("rating", {"user_id": 1, "movie_id": 2, "rating": 4.5}, ts=1_700_000_100)
    log.append("rating", {"user_id": 3, "movie_id": 2, "rating": 3.0}, ts=1_700_000_200)
    batch = next_event_log_batch(log, {})
    assert batch.info["superseded_ratings"] == 1
    assert batch.frame[["user_id", "movie_id", "rating", "event"]].fillna(-1).values.tolist() == [
        [1, 2, -1, "click"],
        [1, 2, -1, "click"],
        [1, 2, 4.5, "rating"],
        [3, 2, 3.0, "rating"],
    ]
    assert validate_ratings(explicit(batch.frame)).success  # unique (user, movie) pairs


def _forged_line(event_type: str, data: dict) -> bytes:
    from movie_roulette.monitoring.eventlog import _canonical, _checksum

    body = {"v": 1, "type": event_type, "ts": 1_700_000_000.0, "data": data}
    return _canonical({**body, "sha256": _checksum(body)}) + b"\n"


def test_a_checksummed_record_of_the_wrong_type_is_skipped_announced_and_passed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 15 #2/#3: {"user_id": "abc"} with a valid checksum crashed ingest_batch with a
    pandas cast error, and the cursor never moved: continuous training was wedged for good.
    Now the line is skipped as damaged, announced with its line number, and the cursor moves."""
    import logging

    path = tmp_path / "events.jsonl"
    log = EventLog(path)
    log.log_rating(1, 2, 4.0)
    with open(path, "ab") as handle:
        handle.write(_forged_line("rating", {"user_id": "abc", "movie_id": 2, "rating": 4.0}))
        handle.write(b'{"not": "a record"}\n')
    log.log_rating(3, 2, 5.0)
    with open(path, "ab") as handle:
        handle.write(b'{"v": 1, "type": "rat')  # a writer killed mid-record
    with caplog.at_level(logging.WARNING, logger="movie_roulette.monitoring.batches"):
        batch = next_event_log_batch(log, {})
    assert batch.frame[["user_id", "rating"]].values.tolist() == [[1, 4.0], [3, 5.0]]
    assert [d["line"] for d in batch.info["damaged_lines"]] == [2, 3]
    assert batch.info["torn_tail_bytes"] == 21
    warning = caplog.text
    assert "2 damaged line(s) skipped: line 2 (invalid payload: rating event: user_id" in warning
    assert "line 3 (not a record (no checksum))" in warning
    assert "torn final record of 21 bytes at line 5" in warning
    assert batch.info["damage_warning"] in warning
    # the cursor moved past the damage: the next batch is clean and empty
    log.log_click(3, 9)
    after = next_event_log_batch(log, batch.cursor_after)
    assert after.frame["event"].tolist() == ["click"]
    assert [d["line"] for d in after.info["damaged_lines"]] == [5]  # the torn line, now closed
    assert after.cursor_after["line"] == 7


def test_event_log_batches_are_read_in_bounded_chunks(tmp_path: Path) -> None:
    """Issue 15 #6: the continuous pipeline read the whole log into memory. It now reads
    chunks, folds requests into the traffic summary, and ends a batch at max_interactions."""
    log = EventLog(tmp_path / "events.jsonl")
    for movie in range(30):
        log.log_request({"kind": "recommend", "user_id": 1, "latency_ms": movie})
        log.log_rating(1, movie, 4.0)
    size = (tmp_path / "events.jsonl").stat().st_size
    cursor: dict = {}
    seen: list[int] = []
    requests = 0
    for _ in range(10):
        batch = next_event_log_batch(log, cursor, chunk_bytes=size // 10, max_interactions=8)
        seen += batch.frame["movie_id"].tolist()
        requests += batch.info["traffic"]["requests"]
        assert 8 <= len(batch.frame) <= 8 + 4 or not batch.info["more_pending"]
        cursor = batch.cursor_after
        if not batch.info["more_pending"]:
            break
    assert seen == list(range(30)) and requests == 30


def test_a_long_run_of_requests_or_clicks_never_wedges_the_event_log_batch(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A batch without a rating is not committed; reading goes on past chunks of requests
    (dropped after the summary) and past more implicit events than a batch holds (skipped,
    counted and announced) until a rating turns up, so the cursor always moves on."""
    import logging

    log = EventLog(tmp_path / "events.jsonl")
    for user in range(200):
        log.log_request({"kind": "recommend", "user_id": user, "latency_ms": 2.0})
    for movie in range(10):
        log.log_click(1, movie)
    log.log_rating(1, 99, 3.5)
    size = (tmp_path / "events.jsonl").stat().st_size
    with caplog.at_level(logging.WARNING, logger="movie_roulette.monitoring.batches"):
        batch = next_event_log_batch(log, {}, chunk_bytes=size // 20, max_interactions=4)
    assert batch.frame["movie_id"].tolist() == [0, 1, 2, 3, 99]
    assert batch.info["implicit_skipped"] == 6 and batch.info["traffic"]["users"] == 200
    assert batch.cursor_after["offset"] == size and not batch.info["more_pending"]
    assert "6 implicit event(s) skipped" in caplog.text


@pytest.mark.parametrize("cursor", [{"offset": "12"}, {"offset": -1}, {"offset": 0, "line": 0}])
def test_a_damaged_event_log_cursor_is_named(tmp_path: Path, cursor: dict) -> None:
    log = EventLog(tmp_path / "events.jsonl")
    log.log_click(1, 2)
    with pytest.raises(ValueError, match="event-log cursor .* is damaged"):
        next_event_log_batch(log, cursor)
